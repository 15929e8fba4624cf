import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { VmsRepository, type IncidentKey } from '../../db/repositories/vms.js';
import { jobIdOf } from '../../domain/identifiers.js';
import { migratedDatabase } from '../support/database.js';
import { seedAccount } from '../support/seed.js';

const db = migratedDatabase();
const vms = () => new VmsRepository(db());

const newId = () => jobIdOf('vms_incident', randomBytes(12).toString('hex'));
const event = (accountId: string, eventId: string) => ({
  accountId,
  eventId,
  type: 'INTRUSION_DETECTION',
  displayName: 'Intrusion example',
  configId: 'alert85',
  endOfEvent: false,
  eventTime: new Date(1648549923245),
  payload: { id: eventId, unknown_field: { kept: true } },
});
const sighting = (vmsCameraId: string, seenAt = new Date()) => ({ vmsCameraId, technicalName: `${vmsCameraId}-tech`, displayName: `Camera ${vmsCameraId}`, seenAt });

/** Opens (or joins) the key's incident in a transaction of its own, as one event's ingest does. */
const openOrJoin = (key: IncidentKey, displayName = 'Intrusion example', withSnapshot = false) =>
  db()
    .transaction()
    .execute((trx) => new VmsRepository(trx).openOrJoinIncident({ ...key, id: newId(), vmsCameraId: 'cam', displayName, receivedAt: new Date(), withSnapshot }));
/** The account's camera for a sighting, as an event's ingest marks it seen. */
const seen = async (accountId: string, vmsCameraId: string, seenAt?: Date) => (await vms().sawCamera(accountId, sighting(vmsCameraId, seenAt))).cameraId;

describe('VMS events, incidents and cameras', () => {
  test('an event id is stored once per account; another account may use the same id', async () => {
    const [a, b] = [await seedAccount(db()), await seedAccount(db())];
    const first = await vms().insertEvent(event(a, 'evt-1@x'));
    assert.ok(first);
    assert.equal(await vms().insertEvent(event(a, 'evt-1@x')), undefined);
    assert.ok(await vms().insertEvent(event(b, 'evt-1@x')));
    const stored = await db().selectFrom('vms_events').select('payload').where('id', '=', first).executeTakeFirstOrThrow();
    assert.deepEqual(stored.payload, { id: 'evt-1@x', unknown_field: { kept: true } }, 'unknown fields are kept');
  });

  test('a camera seen is one of the account\'s cameras; last seen only moves forward', async () => {
    const accountId = await seedAccount(db());
    const later = new Date('2026-12-02T10:00:05Z');
    const cameraId = await seen(accountId, 'cam76', later);
    assert.equal(await seen(accountId, 'cam76', new Date('2026-12-02T10:00:00Z')), cameraId);
    const [camera] = await vms().cameras(accountId);
    assert.deepEqual([camera?.vms_camera_id, camera?.last_seen_at.toISOString(), camera?.status], ['cam76', later.toISOString(), 'online']);
    const row = await db().selectFrom('cameras').select(['name', 'external_id']).where('id', '=', cameraId).executeTakeFirstOrThrow();
    assert.deepEqual(row, { name: 'Camera cam76', external_id: 'cam76' });
    assert.equal(await vms().setCameraStatus(accountId, cameraId, 'offline'), true);
    assert.equal(await vms().setCameraStatus(accountId, cameraId, 'offline'), false, 'a status is recorded once');
    assert.deepEqual(await vms().cameras(await seedAccount(db())), [], 'another account sees none');
  });

  test('events of one key join one open incident, even concurrently; other keys and closed incidents make new ones', async () => {
    const accountId = await seedAccount(db());
    const cameraId = await seen(accountId, 'cam-key');
    const otherCamera = await seen(accountId, 'cam-key-2');
    const key = { accountId, cameraId, configId: 'alert85', type: 'INTRUSION_DETECTION' };
    const together = await Promise.all(Array.from({ length: 5 }, () => openOrJoin(key)));
    assert.equal(new Set(together.map((r) => r.incidentId)).size, 1);
    assert.equal(together.filter((r) => r.opened).length, 1);
    const incidentId = together[0]!.incidentId;
    const openOf = (account: string, configId = 'alert85') => vms().openIncidentOf(account, 'cam-key', configId, 'INTRUSION_DETECTION');
    assert.equal(await openOf(accountId), incidentId, 'the incident an event of the VMS camera would join');

    const otherConfig = (await openOrJoin({ ...key, configId: 'alert86' })).incidentId;
    const otherType = (await openOrJoin({ ...key, type: 'LOITERING_DETECTION' })).incidentId;
    const onOtherCamera = (await openOrJoin({ ...key, cameraId: otherCamera })).incidentId;
    assert.equal(new Set([incidentId, otherConfig, otherType, onOtherCamera]).size, 4);

    // An end-of-event message closes every open incident of its display name and type, on any camera.
    const named = await vms().oweCloseOfIncidentsNamed(accountId, 'Intrusion example', 'INTRUSION_DETECTION');
    assert.deepEqual(named.map((o) => o.subjectId).sort(), [incidentId, otherConfig, onOtherCamera].sort());
    assert.ok(named.every((o) => o.signal === 'vmsIncidentClose'));
    assert.equal(await vms().closeIncident(accountId, incidentId), true);
    assert.equal(await vms().closeIncident(accountId, incidentId), false);
    const closed = await vms().incident(accountId, incidentId);
    assert.deepEqual([closed?.status, closed?.verdict], ['closed', 'unverified']);
    const job = await db().selectFrom('jobs').select(['status', 'kind']).where('id', '=', incidentId).executeTakeFirstOrThrow();
    assert.deepEqual(job, { status: 'finished', kind: 'vms_incident' });
    assert.equal(await openOf(accountId), undefined, 'a closed incident is joined no more');
    assert.equal(await openOf(accountId, 'alert86'), otherConfig);
    const reopened = await openOrJoin(key);
    assert.ok(reopened.opened && reopened.incidentId !== incidentId);
    assert.equal(await openOf(accountId), reopened.incidentId);
    assert.equal(await openOf(await seedAccount(db())), undefined, 'another account\'s camera of the same name has none');
    assert.equal(await vms().incident(await seedAccount(db()), reopened.incidentId), undefined, 'another account finds nothing');
  });

  test('the incident list filters by camera, type, verdict and time, and cursor pages never repeat or skip', async () => {
    const accountId = await seedAccount(db());
    const camA = await seen(accountId, 'list-a');
    const camB = await seen(accountId, 'list-b');
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      const { incidentId } = await openOrJoin({ accountId, cameraId: i % 2 ? camB : camA, configId: `cfg-${i}`, type: i < 5 ? 'INTRUSION_DETECTION' : 'CROWD_DETECTION' });
      made.push(incidentId);
    }
    await db().updateTable('vms_incidents').set({ vms_camera_id: 'list-b' }).where('camera_id', '=', camB).execute();
    await db().updateTable('vms_incidents').set({ vms_camera_id: 'list-a' }).where('camera_id', '=', camA).execute();
    await db().updateTable('vms_incidents').set({ verdict: 'real' }).where('id', 'in', made.slice(0, 3)).execute();

    const walked: string[] = [];
    let after: { openedAt: Date; id: string } | undefined;
    for (;;) {
      const page = await vms().listIncidents(accountId, {}, 3, after);
      walked.push(...page);
      if (page.length < 3) break;
      const last = await vms().incident(accountId, page.at(-1)!);
      after = { openedAt: last!.opened_at, id: last!.id };
    }
    assert.deepEqual([...walked].sort(), [...made].sort());
    assert.equal(new Set(walked).size, walked.length);

    assert.equal((await vms().listIncidents(accountId, { vmsCameraId: 'list-b' }, 50)).length, 3);
    assert.equal((await vms().listIncidents(accountId, { type: 'CROWD_DETECTION' }, 50)).length, 2);
    assert.deepEqual((await vms().listIncidents(accountId, { verdict: 'real' }, 50)).sort(), made.slice(0, 3).sort());
    assert.equal((await vms().listIncidents(accountId, { from: new Date(Date.now() + 60_000) }, 50)).length, 0);
    assert.equal((await vms().listIncidents(accountId, { to: new Date(Date.now() + 60_000) }, 50)).length, 7);
    assert.deepEqual(await vms().listIncidents(await seedAccount(db()), {}, 50), []);
  });

  test('a snapshot held for an event is taken once, and not after it expired', async () => {
    const accountId = await seedAccount(db());
    await vms().putPendingSnapshot(accountId, 'evt-held', 'Cam-Tech', 'vms-pending/a.jpg');
    assert.equal(await vms().putPendingSnapshot(accountId, 'evt-held', 'Cam-Tech', 'vms-pending/b.jpg'), 'vms-pending/a.jpg', 'a newer one replaces it');
    assert.equal(await vms().takePendingSnapshot(accountId, 'evt-held', 'Other-Tech', 60), undefined);
    assert.equal(await vms().takePendingSnapshot(accountId, 'evt-held', 'Cam-Tech', 60), 'vms-pending/b.jpg');
    assert.equal(await vms().takePendingSnapshot(accountId, 'evt-held', 'Cam-Tech', 60), undefined);

    await vms().putPendingSnapshot(accountId, 'evt-old', 'Cam-Tech', 'vms-pending/old.jpg');
    await db().updateTable('vms_pending_snapshots').set({ received_at: new Date(Date.now() - 120_000) }).where('event_id', '=', 'evt-old').execute();
    assert.equal(await vms().takePendingSnapshot(accountId, 'evt-old', 'Cam-Tech', 60), undefined);
    assert.deepEqual(await vms().expirePendingSnapshots(60), ['vms-pending/old.jpg']);
  });
  test('an incident owes its workflow a signal when new, then only for the first snapshot after its window was read; frames are numbered in turn', async () => {
    const accountId = await seedAccount(db());
    const key = { accountId, cameraId: await seen(accountId, 'cam-owed'), configId: 'alert85', type: 'INTRUSION_DETECTION' };
    const opened = await openOrJoin(key, 'Intrusion example', true);
    assert.deepEqual([opened.opened, opened.frameIndex, opened.owed.map((o) => o.signal)], [true, 0, ['vmsIncidentUpdated']]);
    const incidentId = opened.incidentId;
    const job = await db().selectFrom('jobs').select(['kind', 'status', 'camera_id']).where('id', '=', incidentId).executeTakeFirstOrThrow();
    assert.deepEqual(job, { kind: 'vms_incident', status: 'queued', camera_id: key.cameraId }, 'its job opened with it');

    // Not read yet: joining events owe nothing, with or without a snapshot, concurrent ones included.
    const joined = await Promise.all([openOrJoin(key, undefined, true), openOrJoin(key, undefined, false), openOrJoin(key, undefined, true)]);
    assert.ok(joined.every((j) => j.incidentId === incidentId && !j.opened && j.owed.length === 0));
    assert.deepEqual(joined.map((j) => j.frameIndex).filter((i) => i !== null).sort(), [1, 2], 'each snapshot its own frame index');

    const window = await vms().verificationWindow(accountId, incidentId, 8);
    assert.equal(window?.totalFrames, 3);
    // Read: the next snapshot owes one signal, the one after it none; an event without a snapshot never does.
    assert.deepEqual((await openOrJoin(key)).owed, []);
    const next = await openOrJoin(key, undefined, true);
    assert.deepEqual([next.frameIndex, next.owed.map((o) => o.subjectId)], [3, [incidentId]]);
    assert.deepEqual((await openOrJoin(key, undefined, true)).owed, []);
    await vms().verificationWindow(accountId, incidentId, 8);
    const reserved = await db().transaction().execute((trx) => new VmsRepository(trx).reserveSnapshot(accountId, incidentId));
    assert.deepEqual([reserved.frameIndex, reserved.owed.length], [5, 1], 'a snapshot PUT later counts the same way');

    const owedRows = await db().selectFrom('vms_owed_signals').select(['id', 'subject_id', 'signal']).where('account_id', '=', accountId).execute();
    assert.deepEqual(owedRows.map((r) => r.signal).sort(), ['vmsCameraHeard', 'vmsIncidentUpdated', 'vmsIncidentUpdated', 'vmsIncidentUpdated'], 'the new camera\'s watch, and the incident three times');
    assert.deepEqual(await vms().staleOwedSignals(60, 100).then((rows) => rows.filter((r) => r.account_id === accountId)), [], 'none stale yet');
    await sql`update vms_owed_signals set owed_at = now() - interval '2 minutes' where account_id = ${accountId}`.execute(db());
    const stale = (await vms().staleOwedSignals(60, 100)).filter((r) => r.account_id === accountId);
    assert.deepEqual(stale.map((r) => r.id).sort(), owedRows.map((r) => r.id).sort());
    assert.ok(stale.every((r) => r.account_name.length > 0));
    await vms().forgetOwedSignals(owedRows.map((r) => r.id));
    assert.equal((await vms().staleOwedSignals(60, 100)).filter((r) => r.account_id === accountId).length, 0);
  });

  test('a camera\'s watch is owed a signal when the camera is new or offline, and it goes offline only after its silence', async () => {
    const accountId = await seedAccount(db());
    const first = await vms().sawCamera(accountId, sighting('cam-watch'));
    assert.deepEqual(first.owed.map((o) => [o.signal, o.subjectId]), [['vmsCameraHeard', first.cameraId]], 'a new camera starts its watch');
    assert.deepEqual((await vms().sawCamera(accountId, sighting('cam-watch'))).owed, [], 'an online camera: nothing');

    const heard = await vms().markCameraOfflineIfSilent(accountId, first.cameraId, 60);
    assert.equal(heard?.marked, false);
    assert.ok(heard.silentMs < 60_000, `silent ${heard.silentMs} ms`);
    await db().updateTable('vms_cameras').set({ last_seen_at: new Date(Date.now() - 90_000) }).where('camera_id', '=', first.cameraId).execute();
    const silent = await vms().markCameraOfflineIfSilent(accountId, first.cameraId, 60);
    assert.equal(silent?.marked, true);
    assert.ok(silent.silentMs >= 60_000, `silent ${silent.silentMs} ms`);
    assert.equal((await vms().markCameraOfflineIfSilent(accountId, first.cameraId, 60))?.marked, false, 'marked once');
    assert.equal(await vms().markCameraOfflineIfSilent(await seedAccount(db()), first.cameraId, 60), undefined, 'not another account\'s');

    const back = await vms().sawCamera(accountId, sighting('cam-watch'));
    assert.deepEqual(back.owed.map((o) => o.signal), ['vmsCameraHeard'], 'an offline camera heard again tells its watch');
  });

  test('a failed verification is recorded on the incident until one succeeds', async () => {
    const accountId = await seedAccount(db());
    const { incidentId } = await openOrJoin({ accountId, cameraId: await seen(accountId, 'cam-fail'), configId: 'alert85', type: 'INTRUSION_DETECTION' });
    await vms().recordVerificationFailure(accountId, incidentId, 'INVALID_IMAGE: undecodable snapshot');
    const failed = await vms().incident(accountId, incidentId);
    assert.deepEqual([failed?.verification_error?.code, failed?.verification_error?.message], ['VERIFICATION_FAILED', 'INVALID_IMAGE: undecodable snapshot']);
    const result = { verdict: 'suppressed', decision: 'No', crime_rate: 0, ai_description: null, ai_decision_indicators: [] };
    await vms().recordVerification({ accountId, incidentId, window: [], totalFrames: 0, verdict: 'suppressed', result, detections: [] });
    assert.equal((await vms().incident(accountId, incidentId))?.verification_error, null);
  });
});
