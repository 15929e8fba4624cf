import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Migrator, sql } from 'kysely';
import { createDatabase, type Db } from '../../db/database.js';
import { migrations } from '../../db/migrations/index.js';
import { IdempotencyKeyRepository } from '../../db/repositories/idempotency-keys.js';
import { JobErasureRepository } from '../../db/repositories/job-erasure.js';
import { JobRepository } from '../../db/repositories/jobs.js';
import { migratedDatabase, startDatabase, type TestDatabase } from '../support/database.js';
import { seedAccount, seedCamera, seedJob } from '../support/seed.js';

const db = migratedDatabase();

describe('the job-kinds migration', () => {
  let database: TestDatabase;
  let legacy: Db;
  before(async () => {
    database = await startDatabase();
    legacy = createDatabase(database.url);
  });
  after(async () => {
    await legacy?.destroy();
    await database?.stop();
  });

  test('keeps every alarm job as it was and names it an alarm', async () => {
    const migrator = new Migrator({ db: legacy, provider: { getMigrations: async () => migrations } });
    const names = Object.keys(migrations).sort();
    const kindsIndex = names.indexOf('20261202T1200-job-kinds');
    assert.ok(kindsIndex > 0);
    assert.equal((await migrator.migrateTo(names[kindsIndex - 1]!)).error, undefined);

    // A job written by the code before the migration, with the columns it knew.
    await sql`insert into accounts (id, name) values ('00000000-0000-0000-0000-00000000000a', 'legacy')`.execute(legacy);
    const camera = await seedCamera(legacy, '00000000-0000-0000-0000-00000000000a');
    const request = { group_id: 'g001', site_id: 'site01', zone_id: camera.ref.zoneId, detection_sensitive_level: 2 };
    await sql`insert into jobs (id, account_id, camera_id, status, stage, vendor_event_id, request, result, finished_at)
              values ('raw_legacy_1', ${camera.accountId}, ${camera.id}, 'finished', 'finished', 'evt-legacy',
                      ${JSON.stringify(request)}, ${JSON.stringify({ crime_rate: 2 })}, now())`.execute(legacy);

    assert.equal((await migrator.migrateToLatest()).error, undefined);
    const job = await new JobRepository(legacy).getOfKind(camera.accountId, 'raw_legacy_1', 'alarm');
    assert.ok(job, 'the legacy row reads as an alarm');
    assert.deepEqual(
      [job.kind, job.status, job.camera_id, job.vendor_event_id, job.request, job.result],
      ['alarm', 'finished', camera.id, 'evt-legacy', request, { crime_rate: 2 }],
    );
  });
});

describe('jobs of other kinds', () => {
  test('need neither camera nor vendor event, and an unknown kind is refused', async () => {
    const accountId = await seedAccount(db());
    const videoId = 'video_0123456789abcdef01234567';
    await sql`insert into jobs (id, account_id, kind, status, stage, request) values (${videoId}, ${accountId}, 'video', 'queued', 'queued', '{}')`.execute(db());
    const stored = await new JobRepository(db()).get(accountId, videoId);
    assert.deepEqual([stored?.kind, stored?.camera_id, stored?.vendor_event_id], ['video', null, null]);

    await assert.rejects(
      sql`insert into jobs (id, account_id, kind, status, stage, request) values ('x1', ${accountId}, 'podcast', 'queued', 'queued', '{}')`.execute(db()),
      /jobs_kind_check|check constraint/,
    );
  });

  test('getOfKind reads a job only as its own kind', async () => {
    const camera = await seedCamera(db(), await seedAccount(db()));
    const jobId = await seedJob(db(), camera);
    await db().updateTable('jobs').set({ kind: 'classification' }).where('id', '=', jobId).execute();
    const jobs = new JobRepository(db());
    assert.equal(await jobs.getOfKind(camera.accountId, jobId, 'alarm'), undefined);
    assert.equal((await jobs.get(camera.accountId, jobId))?.kind, 'classification');
  });
});

describe('Idempotency-Key claims', () => {
  const keys = () => new IdempotencyKeyRepository(db());
  const inTransaction = <T>(run: (repository: IdempotencyKeyRepository) => Promise<T>) =>
    db().transaction().execute((trx) => run(new IdempotencyKeyRepository(trx)));

  test('a live claim answers its job for the same request and tells a different one apart; per account', async () => {
    const camera = await seedCamera(db(), await seedAccount(db()));
    const jobId = await seedJob(db(), camera);
    assert.deepEqual(await inTransaction((k) => k.lookUp(camera.accountId, 'key-1', 'hash-a')), { found: false });
    await keys().claim(camera.accountId, 'key-1', 'hash-a', { jobId: jobId });

    assert.deepEqual(await inTransaction((k) => k.lookUp(camera.accountId, 'key-1', 'hash-a')), { found: true, sameRequest: true, claimed: { jobId, status: 'queued' } });
    assert.deepEqual(await inTransaction((k) => k.lookUp(camera.accountId, 'key-1', 'hash-b')), { found: true, sameRequest: false, claimed: { jobId, status: 'queued' } });
    const other = await seedAccount(db());
    assert.deepEqual(await inTransaction((k) => k.lookUp(other, 'key-1', 'hash-a')), { found: false });
  });

  test('a claim older than 24 hours is gone, and claiming the key again replaces it', async () => {
    const camera = await seedCamera(db(), await seedAccount(db()));
    const [first, second] = [await seedJob(db(), camera), await seedJob(db(), camera)];
    await keys().claim(camera.accountId, 'key-2', 'hash-a', { jobId: first });
    await db().updateTable('idempotency_keys').set({ created_at: sql`now() - interval '25 hours'` }).where('key', '=', 'key-2').execute();
    assert.deepEqual(await inTransaction((k) => k.lookUp(camera.accountId, 'key-2', 'hash-a')), { found: false });

    await keys().claim(camera.accountId, 'key-2', 'hash-b', { jobId: second });
    const found = await inTransaction((k) => k.lookUp(camera.accountId, 'key-2', 'hash-b'));
    assert.deepEqual(found, { found: true, sameRequest: true, claimed: { jobId: second, status: 'queued' } });
  });

  test('a request that creates no job keeps its answer; the account forgets expired answers when it claims another', async () => {
    const accountId = await seedAccount(db());
    const answer = [{ id: 'a' }, { invalid: 'object_type: unknown' }];
    await keys().claim(accountId, 'key-4', 'hash-a', { answer });
    assert.deepEqual(await inTransaction((k) => k.lookUp(accountId, 'key-4', 'hash-a')), { found: true, sameRequest: true, claimed: { answer } });

    await db().updateTable('idempotency_keys').set({ created_at: sql`now() - interval '25 hours'` }).where('key', '=', 'key-4').execute();
    await keys().claim(accountId, 'key-5', 'hash-b', { answer: [] });
    const kept = await db().selectFrom('idempotency_keys').select('key').where('account_id', '=', accountId).execute();
    assert.deepEqual(kept, [{ key: 'key-5' }]);
  });

  test('erasing the job erases its claims', async () => {
    const camera = await seedCamera(db(), await seedAccount(db()));
    const jobId = await seedJob(db(), camera);
    await keys().claim(camera.accountId, 'key-3', 'hash-a', { jobId: jobId });
    await db().transaction().execute((trx) => new JobErasureRepository(trx).erase(camera.accountId, jobId));
    const left = await db().selectFrom('idempotency_keys').select('key').where('job_id', '=', jobId).execute();
    assert.deepEqual(left, []);
  });
});
