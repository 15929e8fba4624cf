import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { VigilJobKind, VigilStage } from '../../temporal/search-attributes.js';
import { alarmForm, api, defaultFields, eventFrames, submitAlarm, type AlarmFile } from '../support/alarms.js';
import { startStack, type TestStack } from '../support/stack.js';

/** What every kind's submission shares, proven on alarms: Idempotency-Key, the job's kind, deliveries under /jobs. */
describe('job submission', () => {
  let stack: TestStack;
  let token: string;
  let frames: AlarmFile[];

  const jobCount = async () => {
    const { rows } = await sql<{ jobs: number }>`select count(*)::int as jobs from jobs`.execute(stack.db);
    return rows[0]!.jobs;
  };

  before(async () => {
    // No detection worker: accepted jobs wait at detection, which is all these tests need.
    stack = await startStack();
    token = await stack.createToken('acme');
    frames = await eventFrames('pets2009_people_walking_a', 4);
  });
  after(async () => stack?.stop());

  test('the same Idempotency-Key and request answer the first job; a different request under it is 422', async () => {
    const key = `key-${Math.random().toString(36).slice(2)}`;
    const fields = defaultFields();
    const first = await submitAlarm(stack.baseUrl, token, alarmForm(fields, frames), { 'Idempotency-Key': key });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    const jobsAfterFirst = await jobCount();

    const retried = await submitAlarm(stack.baseUrl, token, alarmForm(fields, frames), { 'Idempotency-Key': key });
    assert.equal(retried.status, 200);
    assert.equal(retried.body.data.job_id, first.body.data.job_id);
    assert.equal(retried.body.data.duplicate, true);

    // Another camera and event under the same key: not a retry of the first request.
    const reused = await submitAlarm(stack.baseUrl, token, alarmForm(defaultFields(), frames), { 'Idempotency-Key': key });
    assert.equal(reused.status, 422);
    assert.equal(reused.body.error?.code, 'IDEMPOTENCY_KEY_REUSED');
    assert.equal(reused.body.error?.field, 'Idempotency-Key');

    // Other frames are another request too, even for the same camera and event.
    const otherFrames = await eventFrames('parking_lot_empty_a', 4);
    const otherContent = await submitAlarm(stack.baseUrl, token, alarmForm(fields, otherFrames), { 'Idempotency-Key': key });
    assert.equal(otherContent.status, 422);
    assert.equal(await jobCount(), jobsAfterFirst, 'neither the retry nor the reuse made a job');
  });

  test('concurrent submissions under one key make one job', async () => {
    const key = `key-${Math.random().toString(36).slice(2)}`;
    const fields = defaultFields();
    const before = await jobCount();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => submitAlarm(stack.baseUrl, token, alarmForm(fields, frames), { 'Idempotency-Key': key })),
    );
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 200, 202]);
    assert.equal(new Set(answers.map((a) => a.body.data.job_id)).size, 1);
    assert.equal(await jobCount(), before + 1);
  });

  test('a key is per account, and a malformed key is refused with its field', async () => {
    const key = `key-${Math.random().toString(36).slice(2)}`;
    const otherToken = await stack.createToken('globex');
    const fields = defaultFields();
    const ours = await submitAlarm(stack.baseUrl, token, alarmForm(fields, frames), { 'Idempotency-Key': key });
    const theirs = await submitAlarm(stack.baseUrl, otherToken, alarmForm(fields, frames), { 'Idempotency-Key': key });
    assert.equal(ours.status, 202);
    assert.equal(theirs.status, 202);
    assert.notEqual(ours.body.data.job_id, theirs.body.data.job_id);

    const before = await jobCount();
    const malformed = await submitAlarm(stack.baseUrl, token, alarmForm(defaultFields(), frames), { 'Idempotency-Key': 'has a space' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error?.code, 'VALIDATION_ERROR');
    assert.equal(malformed.body.error?.field, 'Idempotency-Key');
    assert.equal(await jobCount(), before);
  });

  test('the job row and the workflow name the kind; deliveries are served under /api/v1/jobs for the owner only', async () => {
    const accepted = await submitAlarm(stack.baseUrl, token, alarmForm(defaultFields(), frames));
    assert.equal(accepted.status, 202);
    const jobId = accepted.body.data.job_id;

    const row = await stack.db.selectFrom('jobs').select(['kind']).where('id', '=', jobId).executeTakeFirstOrThrow();
    assert.equal(row.kind, 'alarm');
    const description = await stack.temporal.workflow.getHandle(jobId).describe();
    assert.equal(description.typedSearchAttributes.get(VigilJobKind), 'alarm');
    assert.ok(description.typedSearchAttributes.get(VigilStage));

    const deliveries = await api<{ job_id: string; deliveries: unknown[] }>(stack.baseUrl, `/api/v1/jobs/${jobId}/deliveries`, { token });
    assert.equal(deliveries.status, 200);
    assert.equal(deliveries.body.data.job_id, jobId);
    assert.deepEqual(deliveries.body.data.deliveries, []);

    const notYet = await api(stack.baseUrl, `/api/v1/jobs/${jobId}/deliveries/redeliver`, { method: 'POST', token });
    assert.equal(notYet.status, 409);
    assert.equal(notYet.body.error?.code, 'NOT_READY');

    const otherToken = await stack.createToken('initech');
    const foreign = await api(stack.baseUrl, `/api/v1/jobs/${jobId}/deliveries`, { token: otherToken });
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.error?.code, 'NOT_FOUND');
  });
});
