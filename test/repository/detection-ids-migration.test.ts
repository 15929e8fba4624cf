import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Migrator } from 'kysely';
import { createDatabase, type Db } from '../../db/database.js';
import { migrations } from '../../db/migrations/index.js';
import { DetectionRepository } from '../../db/repositories/detections.js';
import { IdempotencyKeyRepository } from '../../db/repositories/idempotency-keys.js';
import { JobRepository } from '../../db/repositories/jobs.js';
import { startDatabase, type TestDatabase } from '../support/database.js';
import { alarmResult, finishJob, seedAccount, seedCamera, seedJob } from '../support/seed.js';

/**
 * Integer detection ids and parked vehicles arrive on a database that already holds detections: every row
 * stays, numbered in the order it was stored, keeps its uuid (the key its drawn images are stored under), a
 * kept Idempotency-Key answer names the same detections by their new ids, and a vehicle the stationary
 * filter set aside becomes a parked one that its alarm reports as seen.
 */

const before_ = '20261202T1310-sealed-webhook-secrets';

let database: TestDatabase;
let db: Db;
const migrator = () => new Migrator({ db, provider: { getMigrations: async () => migrations } });

before(async () => {
  database = await startDatabase();
  db = createDatabase(database.url);
});
after(async () => {
  await db?.destroy();
  await database?.stop();
});

test('existing detections get integer ids in the order they were stored, and keep their rows and image keys', async () => {
  const to = await migrator().migrateTo(before_);
  assert.equal(to.error, undefined);

  const accountId = await seedAccount(db);
  const camera = await seedCamera(db, accountId);
  const jobId = await seedJob(db, camera, { frames: 2 });
  await new JobRepository(db).markRunning(accountId, jobId);
  await finishJob(db, accountId, jobId, [], alarmResult({ has_person: true, has_vehicle: false, ai_decision_indicators: ['filtered_stationary_vehicle'] }));
  const frames = await new JobRepository(db).frames(accountId, jobId);
  /** A row as the code before these migrations stored it: a uuid and no `parked`. */
  const insertOld = (row: Record<string, unknown>) =>
    db
      .insertInto('detections')
      .values({ account_id: accountId, camera_id: camera.id, frame_index: 0, score: 0.8, x1: 1, y1: 2, x2: 30, y2: 40, ...row } as never)
      .execute();
  const at = (seconds: number) => new Date(Date.parse('2026-11-20T10:00:00Z') + seconds * 1000);
  await insertOld({ job_id: jobId, frame_id: frames[0]!.id, category: 'person', label: 'person', kept: true, created_at: at(0) });
  await insertOld({ job_id: jobId, frame_id: frames[1]!.id, frame_index: 1, category: 'vehicle', label: 'car', kept: false, filtered_by: 'filtered_stationary_vehicle', created_at: at(1) });
  // A bulk-created detection, stored later: no job.
  const bulkUuid = randomUUID();
  await insertOld({ id: bulkUuid, category: 'vehicle', label: 'bus', kept: true, labels: ['gate'], created_at: at(2) });
  await new IdempotencyKeyRepository(db).claim(accountId, 'bulk-1', 'hash', { answer: [{ id: bulkUuid }, { invalid: 'bad item' }] });
  const stored = await db.selectFrom('detections').select(['id', 'job_id', 'kept', 'label', 'created_at']).orderBy('created_at').orderBy('id').execute();
  assert.equal(stored.length, 3);

  const latest = await migrator().migrateToLatest();
  assert.equal(latest.error, undefined);

  const numbered = await db.selectFrom('detections').select(['id', 'public_id', 'job_id', 'kept', 'label']).orderBy('public_id').execute();
  assert.deepEqual(
    numbered.map((r) => ({ id: r.id, job_id: r.job_id, kept: r.kept, label: r.label })),
    stored.map((r) => ({ id: r.id, job_id: r.job_id, kept: r.kept, label: r.label })),
    'every row stays, numbered in the order it was stored',
  );
  assert.deepEqual(numbered.map((r) => r.public_id), [1, 2, 3]);

  const detections = new DetectionRepository(db);
  const bulk = await detections.get(accountId, 3);
  assert.equal(bulk?.rowId, bulkUuid, 'the uuid stays the key the drawn images are stored under');
  const parked = await detections.get(accountId, 2);
  assert.deepEqual([parked?.objectType, parked?.parked], ['car', true], 'the vehicle set aside as stationary is served, parked');
  assert.equal((await new JobRepository(db).getOfKind(accountId, jobId, 'alarm'))?.result?.has_vehicle, true, 'its alarm reports it as seen');
  assert.deepEqual(bulk?.labels, ['gate'], 'labels and search document untouched');
  assert.equal((await detections.search(accountId, 'bus', {}, { limit: 10, offset: 0 })).total, 1);

  const claim = await new IdempotencyKeyRepository(db).lookUp(accountId, 'bulk-1', 'hash');
  assert.ok(claim.found && 'answer' in claim.claimed);
  assert.deepEqual(claim.claimed.answer, [{ id: 3 }, { invalid: 'bad item' }], 'a replayed answer names the detection by its new id');

  const [next] = await detections.createMany(accountId, [
    {
      cameraId: camera.id,
      objectType: 'car',
      category: 'vehicle',
      score: 0.5,
      box: [0, 0, 10, 10],
      detectedAt: new Date(),
      mediaType: 'image',
      filePath: null,
      fileType: null,
      labels: [],
    },
  ]);
  assert.equal(next, 4, 'new detections continue the numbering');

  const down = await migrator().migrateTo(before_);
  assert.equal(down.error, undefined);
  const back = await new IdempotencyKeyRepository(db).lookUp(accountId, 'bulk-1', 'hash');
  assert.ok(back.found && 'answer' in back.claimed);
  assert.deepEqual(back.claimed.answer, [{ id: bulkUuid }, { invalid: 'bad item' }], 'going back names it by its uuid again');
  assert.equal((await migrator().migrateToLatest()).error, undefined);
});
