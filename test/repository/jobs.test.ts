import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { AccountRepository } from '../../db/repositories/accounts.js';
import { JobRepository, type StoredDetection } from '../../db/repositories/jobs.js';
import { hashApiToken } from '../../domain/api-token.js';
import type { AlarmRequest, Job } from '../../db/schema.js';
import { migratedDatabase } from '../support/database.js';
import { alarmResult, finishJob, frameSize, seedAccount, seedCamera, seedJob, storedDetection, type SeededCamera } from '../support/seed.js';
import { waitFor } from '../support/wait.js';

const db = migratedDatabase();
const jobs = () => new JobRepository(db());

const detectionRows = (jobId: string) =>
  db().selectFrom('detections').selectAll().where('job_id', '=', jobId).orderBy('frame_index').orderBy('score', 'desc').execute();

describe('inserting and reading jobs', () => {
  test('a job is stored queued with its frames, and only its account reads it', async () => {
    const camera = await seedCamera(db(), await seedAccount(db()), { groupId: 'g7', siteId: 's7' });
    const jobId = await seedJob(db(), camera, { frames: 3, vendorEventId: 'evt-1' });

    const job = await jobs().getOfKind(camera.accountId, jobId, 'alarm');
    assert.ok(job);
    assert.deepEqual([job.status, job.stage, job.camera_id, job.vendor_event_id], ['queued', 'queued', camera.id, 'evt-1']);
    assert.equal((job.request as AlarmRequest).zone_id, camera.ref.zoneId);
    assert.equal(job.started_at, null);
    const frames = await jobs().frames(camera.accountId, jobId);
    assert.deepEqual(frames.map((f) => [f.frame_index, f.media_key, f.width, f.height]), [0, 1, 2].map((i) => [i, `alarms/${jobId}/frame_0${i}.jpg`, frameSize.width, frameSize.height]));
    const named = await jobs().getWithNames(camera.accountId, jobId);
    assert.deepEqual(
      [named?.id, named?.group_name, named?.site_name, named?.camera_name, named?.site_category],
      [jobId, 'group_g7', 'site_s7', `zone_${camera.ref.zoneId}`, 'commercial'],
    );

    const other = await seedAccount(db());
    assert.equal(await jobs().get(other, jobId), undefined);
    assert.equal(await jobs().getWithNames(other, jobId), undefined);
    assert.deepEqual(await jobs().frames(other, jobId), []);
  });

  test('statusForToken reads the token and its account\'s job of the kind in one query, without the documents', async () => {
    const accountId = await seedAccount(db());
    const camera = await seedCamera(db(), accountId);
    const jobId = await seedJob(db(), camera);
    const accounts = new AccountRepository(db());
    const [hash, revoked] = [hashApiToken(`token_${jobId}`), hashApiToken(`revoked_${jobId}`)];
    await accounts.addToken(accountId, { hash, prefix: 'vgl_test', role: 'user' });
    await accounts.addToken(accountId, { hash: revoked, prefix: 'vgl_test', role: 'user' });
    await accounts.revokeToken(revoked);

    const found = await jobs().statusForToken(hash, jobId, 'alarm');
    assert.deepEqual(found?.auth, await accounts.findActiveToken(hash));
    const job = await jobs().get(accountId, jobId);
    assert.deepEqual(found?.job, {
      id: jobId,
      status: job?.status,
      stage: job?.stage,
      created_at: job?.created_at,
      finished_at: null,
      error: null,
    });

    assert.deepEqual(await jobs().statusForToken(hash, jobId, 'video'), { auth: found?.auth, job: undefined }, 'another kind');
    assert.deepEqual(await jobs().statusForToken(hash, 'no-such-job', 'alarm'), { auth: found?.auth, job: undefined });
    const otherJob = await seedJob(db(), await seedCamera(db(), await seedAccount(db())));
    assert.deepEqual(await jobs().statusForToken(hash, otherJob, 'alarm'), { auth: found?.auth, job: undefined }, "another account's job");
    assert.equal(await jobs().statusForToken(revoked, jobId, 'alarm'), undefined, 'a revoked token');
    assert.equal(await jobs().statusForToken(hashApiToken('never-issued'), jobId, 'alarm'), undefined);
  });

  test("findByVendorEvent finds the event of that camera and account only; a camera takes each event once", async () => {
    const accountId = await seedAccount(db());
    const [gate, yard] = [await seedCamera(db(), accountId), await seedCamera(db(), accountId)];
    const atGate = await seedJob(db(), gate, { vendorEventId: 'evt-1' });
    const atYard = await seedJob(db(), yard, { vendorEventId: 'evt-1' });

    assert.equal((await jobs().findByVendorEvent(accountId, gate.id, 'evt-1'))?.id, atGate);
    assert.equal((await jobs().findByVendorEvent(accountId, yard.id, 'evt-1'))?.id, atYard);
    assert.equal(await jobs().findByVendorEvent(accountId, gate.id, 'evt-2'), undefined);
    assert.equal(await jobs().findByVendorEvent(await seedAccount(db()), gate.id, 'evt-1'), undefined);
    await assert.rejects(seedJob(db(), gate, { vendorEventId: 'evt-1' }), /jobs_camera_vendor_event_key/);
  });
});

describe('job status transitions', () => {
  test('markRunning starts a queued job and keeps the first start time when repeated', async () => {
    const camera = await seedCamera(db(), await seedAccount(db()));
    const jobId = await seedJob(db(), camera);
    const first = await jobs().markRunning(camera.accountId, jobId);
    assert.deepEqual([first?.status, first?.stage], ['running', 'running']);
    assert.ok(first?.started_at instanceof Date);
    const again = await jobs().markRunning(camera.accountId, jobId, 'tenancy');
    assert.equal(again?.started_at?.getTime(), first.started_at.getTime());
    assert.equal(again?.stage, 'tenancy', 'the stage its caller names');

    assert.equal(await jobs().markRunning(await seedAccount(db()), jobId), undefined, "another account's job");
    assert.equal(await jobs().markRunning(camera.accountId, 'raw_no_such_job'), undefined, 'a rolled-back submission');
    await finishJob(db(), camera.accountId, jobId, []);
    assert.equal(await jobs().markRunning(camera.accountId, jobId), undefined, 'a finished job does not run again');
    assert.equal((await jobs().get(camera.accountId, jobId))?.status, 'finished');
  });

  test('markRunning waits for the submission transaction that inserts the job', async () => {
    const camera = await seedCamera(db(), await seedAccount(db()));
    let running: Promise<Job | undefined> | undefined;
    await db()
      .transaction()
      .execute(async (trx) => {
        const jobId = await seedJob(trx, camera);
        running = jobs().markRunning(camera.accountId, jobId);
        // Without the lock, markRunning would find no committed row and answer at once.
        await waitFor('markRunning to wait on the advisory lock of the submission', async () => {
          const { rows } = await sql<{ waiting: number }>`SELECT count(*)::int AS waiting FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`.execute(db());
          return rows[0]!.waiting === 1;
        });
      });
    const job = await running;
    assert.equal(job?.status, 'running');
  });

  test('finish stores the verdict, the motion per frame and every detection, and a second finish changes nothing', async () => {
    const camera = await seedCamera(db(), await seedAccount(db()));
    const jobId = await seedJob(db(), camera, { frames: 3 });
    await jobs().markRunning(camera.accountId, jobId);
    const result = alarmResult({ has_person: true, ai_decision: 'threat', ai_decision_indicators: ['person_detected'] });
    const found: StoredDetection[] = [
      storedDetection({ frameIndex: 0, score: 0.7 }),
      storedDetection({ frameIndex: 0, score: 0.9 }),
      storedDetection({ frameIndex: 1, label: 'car', kept: false, filteredBy: 'filtered_small_box' }),
      storedDetection({ frameIndex: 2, label: 'car', score: 0.6, box: [1, 2, 3, 4] }),
      storedDetection({ frameIndex: 2, label: 'truck', score: 0.8, kept: false, filteredBy: 'filtered_stationary_vehicle', parked: true }),
    ];
    await jobs().finish(camera.accountId, jobId, { result, activityDiffs: [0.25, 0.5], detections: found });

    const job = await jobs().get(camera.accountId, jobId);
    assert.deepEqual([job?.status, job?.stage, job?.result], ['finished', 'finished', result]);
    assert.ok(job?.finished_at instanceof Date);
    const frames = await jobs().frames(camera.accountId, jobId);
    // diffs[i] compares frame i with frame i + 1 and belongs to the later frame.
    assert.deepEqual(frames.map((f) => f.activity_diff), [null, 0.25, 0.5]);
    const rows = await detectionRows(jobId);
    assert.equal(rows.length, 5);
    const frameIdOf = new Map(frames.map((f) => [f.frame_index, f.id]));
    for (const row of rows) {
      assert.equal(row.frame_id, frameIdOf.get(row.frame_index));
      assert.equal(row.camera_id, camera.id);
      assert.equal(row.account_id, camera.accountId);
    }
    // What was seen: the kept ones and the parked truck, not the one a filter found to be no car at all.
    assert.deepEqual(await jobs().seenDetections(camera.accountId, jobId), [found[1], found[0], found[4], found[3]]);

    // A retried activity finishing the job once more.
    await jobs().finish(camera.accountId, jobId, { result: alarmResult(), activityDiffs: [0.9, 0.9], detections: [storedDetection()] });
    assert.deepEqual((await jobs().get(camera.accountId, jobId))?.result, result);
    assert.deepEqual(await detectionRows(jobId), rows);
    assert.deepEqual((await jobs().frames(camera.accountId, jobId)).map((f) => f.activity_diff), [null, 0.25, 0.5]);
  });

  test('finish gives each detection the labels and search document the indexing trigger builds', async () => {
    const camera = await seedCamera(db(), await seedAccount(db()));
    await sql`UPDATE cameras SET name = 'Loading dock' WHERE id = ${camera.id}`.execute(db());
    await sql`UPDATE sites SET name = 'North yard' WHERE id = (SELECT site_id FROM cameras WHERE id = ${camera.id})`.execute(db());
    const jobId = await seedJob(db(), camera, { frames: 2 });
    await jobs().markRunning(camera.accountId, jobId);
    const result = alarmResult({ ai_description: 'A man climbing the fence at night', ai_decision_indicators: ['person_detected', 'after_hours'] });
    const found = [storedDetection({ frameIndex: 0 }), storedDetection({ frameIndex: 1, label: 'truck', kept: false, filteredBy: 'filtered_stationary_vehicle', parked: true })];
    await jobs().finish(camera.accountId, jobId, { result, activityDiffs: [0.3], detections: found });

    // What the insert gave, what the functions give now, and the document as built before the event's part had a
    // function of its own (migration 20261203T1600): all the same.
    const { rows } = await sql<{ labels: string[]; search: string; labels_now: string[]; search_now: string; search_before: string }>`
      SELECT labels, search::text,
        detection_event_labels(job_id) AS labels_now,
        detection_search_document(category, label, camera_id, job_id, detection_event_labels(job_id))::text AS search_now,
        (setweight(to_tsvector('english', category || ' ' || label), 'A')
          || setweight(to_tsvector('english', 'Loading dock North yard'), 'B')
          || setweight(to_tsvector('english', 'A man climbing the fence at night'), 'C')
          || setweight(to_tsvector('english', replace(array_to_string(labels, ' '), '_', ' ')), 'C'))::text AS search_before
      FROM detections WHERE job_id = ${jobId} ORDER BY frame_index
    `.execute(db());
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.deepEqual(row.labels, ['after_hours', 'person_detected']);
      assert.deepEqual(row.labels_now, row.labels);
      assert.equal(row.search, row.search_now);
      assert.equal(row.search, row.search_before);
    }
    for (const part of [/'person':1A/, /'dock':\d+B/, /'fenc':\d+C/, /'hour':\d+C/]) assert.match(rows[0]!.search, part);
    assert.match(rows[1]!.search, /'truck':2A/);

    // A row touched later is indexed again by the update trigger, to the same document.
    await sql`UPDATE detections SET labels = labels WHERE job_id = ${jobId}`.execute(db());
    const again = await sql<{ search: string }>`SELECT search::text FROM detections WHERE job_id = ${jobId} ORDER BY frame_index`.execute(db());
    assert.deepEqual(again.rows.map((row) => row.search), rows.map((row) => row.search));
  });

  test('a finish that cannot store a detection stores nothing', async () => {
    const camera = await seedCamera(db(), await seedAccount(db()));
    const jobId = await seedJob(db(), camera, { frames: 2 });
    await jobs().markRunning(camera.accountId, jobId);
    await assert.rejects(finishJob(db(), camera.accountId, jobId, [storedDetection(), storedDetection({ frameIndex: 5 })]), /has no frame 5/);
    const job = await jobs().get(camera.accountId, jobId);
    assert.deepEqual([job?.status, job?.result, job?.finished_at], ['running', null, null]);
    assert.deepEqual(await detectionRows(jobId), []);
    await assert.rejects(finishJob(db(), await seedAccount(db()), jobId, []), "another account's job is not found");
  });

  test('fail ends a job that has not ended, once; after finish or cancel it changes nothing', async () => {
    const camera = await seedCamera(db(), await seedAccount(db()));
    const { accountId } = camera;
    const error = { code: 'DETECTION_FAILED', message: 'the model could not be loaded' };

    const failing = await seedJob(db(), camera);
    await jobs().markRunning(accountId, failing);
    assert.equal(await jobs().fail(await seedAccount(db()), failing, error), false, "another account's job");
    assert.equal(await jobs().fail(accountId, failing, error), true);
    assert.equal(await jobs().fail(accountId, failing, { code: 'LATER', message: 'a second failure' }), false);
    const failed = await jobs().get(accountId, failing);
    assert.deepEqual([failed?.status, failed?.stage, failed?.error], ['failed', 'failed', error]);
    assert.ok(failed?.finished_at instanceof Date);

    const finishing = await seedJob(db(), camera);
    await finishJob(db(), accountId, finishing, [storedDetection()]);
    assert.equal(await jobs().fail(accountId, finishing, error), false);
    const finished = await jobs().get(accountId, finishing);
    assert.deepEqual([finished?.status, finished?.error], ['finished', null]);

    const cancelling = await seedJob(db(), camera);
    assert.equal(await jobs().fail(accountId, cancelling, { code: 'CANCELLED', message: 'cancelled' }, 'cancelled'), true);
    await finishJob(db(), accountId, cancelling, [storedDetection()]);
    const cancelled = await jobs().get(accountId, cancelling);
    assert.deepEqual([cancelled?.status, cancelled?.result], ['cancelled', null]);
    assert.deepEqual(await detectionRows(cancelling), []);
  });

  test("setSiteTime stores the vendor time, the site's zone and the next stage on the account's job only", async () => {
    const camera = await seedCamera(db(), await seedAccount(db()));
    const jobId = await seedJob(db(), camera);
    await jobs().setSiteTime(await seedAccount(db()), jobId, { vendorTime: '2026-11-22 09:00:00', siteTimezone: 'Asia/Tokyo', stage: 'decide' });
    await jobs().setSiteTime(camera.accountId, jobId, { vendorTime: '2026-11-22 10:00:00', siteTimezone: 'Europe/London', stage: 'detect' });
    const job = await jobs().get(camera.accountId, jobId);
    assert.deepEqual([job?.vendor_time, job?.site_timezone, job?.stage], ['2026-11-22 10:00:00', 'Europe/London', 'detect']);
  });

  test("setStage moves a running job's stage, on the account's job only, and leaves an ended job's alone", async () => {
    const camera = await seedCamera(db(), await seedAccount(db()));
    const jobId = await seedJob(db(), camera);
    await jobs().markRunning(camera.accountId, jobId, 'tenancy');
    await jobs().setStage(await seedAccount(db()), jobId, 'persist');
    await jobs().setStage(camera.accountId, jobId, 'decide');
    assert.equal((await jobs().get(camera.accountId, jobId))?.stage, 'decide');
    await finishJob(db(), camera.accountId, jobId, []);
    await jobs().setStage(camera.accountId, jobId, 'decide');
    const ended = await jobs().get(camera.accountId, jobId);
    assert.deepEqual([ended?.status, ended?.stage], ['finished', 'finished']);
  });
});

describe("vehicles of the camera's previous event", () => {
  const stillCounted = ['filtered_stationary_vehicle'];
  const vehicleLabels = async (camera: SeededCamera, jobId: string, accountId = camera.accountId) =>
    (await jobs().previousEventVehicles(accountId, camera.id, jobId, stillCounted)).flatMap((frame) => frame.detections.map((d) => d.label));

  test('kept vehicles and those removed only by a still-counted filter, per frame with its size', async () => {
    const camera = await seedCamera(db(), await seedAccount(db()));
    const previous = await seedJob(db(), camera, { frames: 3 });
    await finishJob(db(), camera.accountId, previous, [
      storedDetection({ frameIndex: 0, label: 'car', score: 0.9, box: [10, 20, 30, 40] }),
      storedDetection({ frameIndex: 0 }),
      storedDetection({ frameIndex: 1, label: 'truck', score: 0.7, box: [50, 60, 70, 80], kept: false, filteredBy: 'filtered_stationary_vehicle' }),
      storedDetection({ frameIndex: 1, label: 'bus', kept: false, filteredBy: 'filtered_small_box' }),
      storedDetection({ frameIndex: 2, label: 'motorcycle', kept: false, filteredBy: 'filtered_small_box' }),
    ]);
    const current = await seedJob(db(), camera);

    const vehicles = await jobs().previousEventVehicles(camera.accountId, camera.id, current, stillCounted);
    assert.deepEqual(vehicles, [
      { frameIndex: 0, ...frameSize, detections: [{ category: 'vehicle', label: 'car', score: 0.9, box: [10, 20, 30, 40] }] },
      { frameIndex: 1, ...frameSize, detections: [{ category: 'vehicle', label: 'truck', score: 0.7, box: [50, 60, 70, 80] }] },
    ]);
    const keptOnly = await jobs().previousEventVehicles(camera.accountId, camera.id, current, []);
    assert.deepEqual(keptOnly.map((frame) => frame.frameIndex), [0]);
    assert.deepEqual(await jobs().previousEventVehicles(camera.accountId, camera.id, previous, stillCounted), [], 'the first event has no previous one');
  });

  test('only the last job of the camera created before this one and finished, of the same account', async () => {
    const accountId = await seedAccount(db());
    const camera = await seedCamera(db(), accountId);
    const otherCamera = await seedCamera(db(), accountId);

    const oldest = await seedJob(db(), camera);
    await finishJob(db(), accountId, oldest, [storedDetection({ label: 'bus' })]);
    const latestFinished = await seedJob(db(), camera);
    await finishJob(db(), accountId, latestFinished, [storedDetection({ label: 'car' })]);
    const failed = await seedJob(db(), camera);
    await jobs().fail(accountId, failed, { code: 'DETECTION_FAILED', message: 'failed' });
    await jobs().markRunning(accountId, await seedJob(db(), camera));
    const onOtherCamera = await seedJob(db(), otherCamera);
    await finishJob(db(), accountId, onOtherCamera, [storedDetection({ label: 'truck' })]);
    const current = await seedJob(db(), camera);
    // Created after the current job, though finished before its analysis looks back.
    const later = await seedJob(db(), camera);
    await finishJob(db(), accountId, later, [storedDetection({ label: 'motorcycle' })]);

    assert.deepEqual(await vehicleLabels(camera, current), ['car']);
    assert.deepEqual(await vehicleLabels(camera, latestFinished), ['bus']);
    assert.deepEqual(await vehicleLabels(camera, current, await seedAccount(db())), [], 'another account sees no previous event');
  });
});
