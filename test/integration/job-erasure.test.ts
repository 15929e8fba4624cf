import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import proto from '@temporalio/proto';
import { createLogger } from '../../logging/logger.js';
import { FileSystemMediaStore } from '../../media/store.js';
import { createAnalysisWorker } from '../../temporal/analysis-worker.js';
import { connectNative } from '../../temporal/connection.js';
import { retentionScheduleId } from '../../temporal/retention-schedule.js';
import { alarmForm, api, defaultFields, eventFrames, submitAlarm, waitForTerminal, type AlarmFile, type JobStatus } from '../support/alarms.js';
import { startStack, testWorkflowBundle, type DetectionWorkerProcess, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const { EventType } = proto.temporal.api.enums.v1;

/** What is stored of a job: rows of any table whose text holds its id, attempts sent to its webhook URL, files of its. */
interface Traces {
  rows: Record<string, number>;
  webhookAttempts: number;
  files: string[];
}

describe('erasing jobs: DELETE /api/v1/jobs/{job_id} and the retention schedule', () => {
  let stack: TestStack;
  let owner: string;
  let ownerAdmin: string;
  let stranger: string;
  let receiver: WebhookReceiver;
  let frames: AlarmFile[];
  let detectionWorker: DetectionWorkerProcess | undefined;

  before(async () => {
    // No detection worker yet: the first job waits at detection for as long as the test needs.
    // A failed webhook attempt is retried only after a minute: long past the erasure's wait for a workflow to close.
    stack = await startStack({ detectionWorker: false, env: { WEBHOOK_INITIAL_INTERVAL_S: '60' } });
    [owner, ownerAdmin, stranger] = await Promise.all([stack.createToken('acme'), stack.createToken('acme', 'admin'), stack.createToken('globex')]);
    receiver = await startWebhookReceiver();
    frames = (await eventFrames('pets2009_people_walking_a')).slice(0, 4);
  });
  after(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  async function submit(fields: Record<string, string>, headers: Record<string, string> = {}): Promise<string> {
    const submitted = await submitAlarm(stack.baseUrl, owner, alarmForm(defaultFields(fields), frames), headers);
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    return submitted.body.data.job_id;
  }

  async function waitForStage(jobId: string, stage: string): Promise<void> {
    await waitFor(`job ${jobId} to reach ${stage}`, async () => {
      const { body } = await api<JobStatus>(stack.baseUrl, `/api/v1/alarms/${jobId}`, { token: owner });
      return body.data.stage === stage;
    });
  }

  async function deleteJob(jobId: string, token: string): Promise<{ status: number; body: string }> {
    const response = await fetch(`${stack.baseUrl}/api/v1/jobs/${encodeURIComponent(jobId)}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, body: await response.text() };
  }

  async function traces(jobId: string, webhookUrl?: string): Promise<Traces> {
    const tables = await sql<{ name: string }>`
      select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`.execute(stack.db);
    assert.ok(tables.rows.length >= 10, 'every table of the schema is searched');
    const rows: Record<string, number> = {};
    for (const { name } of tables.rows) {
      const { rows: [found] } = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(name)} as r where strpos(r::text, ${jobId}) > 0`.execute(stack.db);
      if (found!.n > 0) rows[name] = found!.n;
    }
    // Attempts name their delivery, not the job: they are found by the URL they were sent to.
    const { rows: [attempts] } = await sql<{ n: number }>`select count(*)::int as n from webhook_attempts where url = ${webhookUrl ?? null}`.execute(stack.db);
    const stored = await readdir(stack.config.mediaDir, { recursive: true, withFileTypes: true }).catch(() => []);
    const files = stored
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(stack.config.mediaDir, path.join(entry.parentPath, entry.name)))
      .filter((file) => file.includes(jobId))
      .sort();
    return { rows, webhookAttempts: attempts!.n, files };
  }

  const nothingLeft: Traces = { rows: {}, webhookAttempts: 0, files: [] };

  async function assertGone(jobId: string): Promise<void> {
    const again = await deleteJob(jobId, owner);
    assert.equal(again.status, 404);
    assert.equal((JSON.parse(again.body) as { error: { code: string } }).error.code, 'NOT_FOUND');
  }

  test('a job waiting at detection: its workflow is cancelled and closes first, then nothing of the job is left', async () => {
    const webhookUrl = receiver.url('/running');
    const jobId = await submit({ zone_id: 'erase_running', webhook_url: webhookUrl }, { 'Max-Processing-Time': '3600' });
    await waitForStage(jobId, 'detect');
    const before = await traces(jobId, webhookUrl);
    assert.equal(before.files.length, frames.length);
    for (const table of ['jobs', 'frames', 'webhook_targets']) assert.ok(before.rows[table], `${table} holds the job before`);

    const erased = await deleteJob(jobId, owner);
    assert.equal(erased.status, 204, erased.body);
    assert.equal(erased.body, '');

    const workflow = stack.temporal.workflow.getHandle(jobId);
    const closed = await workflow.result().then(() => 'completed', (error: unknown) => error);
    // The job's workflow closes cancelled.
    const cause = closed instanceof WorkflowFailedError ? closed.cause : undefined;
    assert.ok(cause instanceof CancelledFailure, String(closed));
    const events = ((await workflow.fetchHistory()).events ?? []).map((event) => event.eventType);
    assert.ok(events.includes(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED), 'the workflow was asked to cancel');
    assert.ok(!events.includes(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED), 'it closed by itself, not terminated');
    // It ended the job and sent its webhook before closing: the delivery it wrote was erased with the job.
    const [hook] = receiver.received('/running');
    assert.deepEqual(JSON.parse(hook!.body.toString()), { type: 'alarm.failed', job_id: jobId, error: { code: 'CANCELLED', message: 'The job was cancelled.' } });

    assert.deepEqual(await traces(jobId, webhookUrl), nothingLeft);
    await assertGone(jobId);
  });

  test('a job whose cancellation cannot finish (its webhook is being retried) is terminated after the bounded wait, then erased', async () => {
    const webhookUrl = receiver.url('/refusing');
    receiver.answer('/refusing', [500]);
    const jobId = await submit({ zone_id: 'erase_stuck', webhook_url: webhookUrl });
    await waitForStage(jobId, 'detect');

    const started = Date.now();
    const erased = await deleteJob(jobId, owner);
    const waitedMs = Date.now() - started;
    assert.equal(erased.status, 204, erased.body);
    assert.ok(waitedMs >= 5000 && waitedMs < 15_000, `answered after ${waitedMs} ms`);
    const events = ((await stack.temporal.workflow.getHandle(jobId).fetchHistory()).events ?? []).map((event) => event.eventType);
    assert.ok(events.includes(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED), 'terminated once the wait was over');
    assert.equal(receiver.received('/refusing')[0]?.answeredWith, 500);
    assert.deepEqual(await traces(jobId, webhookUrl), nothingLeft);
    await assertGone(jobId);
  });

  test('a finished job: another account gets 404 and changes nothing; its owner erases its rows, webhook log and every file', async () => {
    detectionWorker = await stack.startDetectionWorker();
    const webhookUrl = receiver.url('/finished');
    const jobId = await submit({ zone_id: 'erase_finished', webhook_url: webhookUrl });
    assert.equal((await waitForTerminal(stack.baseUrl, owner, jobId)).status, 'finished');
    await waitFor('the webhook delivery to be recorded', async () => (await traces(jobId, webhookUrl)).webhookAttempts > 0);
    // An export lock, and a detection image and thumbnail drawn into the media store.
    assert.equal((await api(stack.baseUrl, `/api/v1/alarms/${jobId}/export?media_type=1`, { token: ownerAdmin })).status, 200);
    const detection = await stack.db.selectFrom('detections').select('public_id').where('job_id', '=', jobId).where('kept', '=', true).executeTakeFirst();
    assert.ok(detection, 'the job has a kept detection');
    for (const kind of ['thumbnail', 'image']) {
      const drawn = await fetch(`${stack.baseUrl}/api/detections/${detection.public_id}/${kind}`, { headers: { authorization: `Bearer ${owner}` } });
      assert.equal(drawn.status, 200, kind);
      await drawn.arrayBuffer();
    }

    const before = await traces(jobId, webhookUrl);
    for (const table of ['jobs', 'frames', 'detections', 'export_locks', 'webhook_targets', 'webhook_deliveries']) {
      assert.ok(before.rows[table], `${table} holds the job before`);
    }
    assert.equal(before.files.filter((file) => file.includes(`${path.sep}detections${path.sep}`)).length, 2, before.files.join());

    const foreign = await deleteJob(jobId, stranger);
    const missing = await deleteJob(`${jobId}0`, owner);
    assert.equal(foreign.status, 404);
    assert.deepEqual(JSON.parse(foreign.body), JSON.parse(missing.body));
    assert.deepEqual(await traces(jobId, webhookUrl), before);

    const erased = await deleteJob(jobId, owner);
    assert.equal(erased.status, 204, erased.body);
    assert.deepEqual(await traces(jobId, webhookUrl), nothingLeft);
    await assertGone(jobId);
  });

  test('the retention sweep erases jobs that ended before RESULT_RETENTION_DAYS, and keeps younger and running ones', async () => {
    const days = stack.config.resultRetentionDays;
    const [expiredFinished, young] = [await submit({ zone_id: 'retention_old' }), await submit({ zone_id: 'retention_young' })];
    for (const jobId of [expiredFinished, young]) assert.equal((await waitForTerminal(stack.baseUrl, owner, jobId)).status, 'finished');
    // Without a detection worker, one job runs out of its Max-Processing-Time and another waits at detection.
    await detectionWorker!.kill();
    const expiredFailed = await submit({ zone_id: 'retention_failed' }, { 'Max-Processing-Time': '1' });
    assert.equal((await waitForTerminal(stack.baseUrl, owner, expiredFailed)).status, 'failed');
    const running = await submit({ zone_id: 'retention_running' });
    await waitForStage(running, 'detect');

    const backdate = (jobIds: string[], daysAgo: number) =>
      sql`update jobs set created_at = now() - make_interval(days => ${daysAgo}),
                          finished_at = case when finished_at is null then null else now() - make_interval(days => ${daysAgo}) end
          where id = any(${jobIds})`.execute(stack.db);
    await backdate([expiredFinished, expiredFailed], days + 1);
    await backdate([young], days - 1);
    await backdate([running], days + 5);
    const kept = { young: await traces(young), running: await traces(running) };
    assert.equal(kept.young.files.length, frames.length);
    assert.equal(kept.running.files.length, frames.length);

    const schedule = stack.temporal.schedule.getHandle(retentionScheduleId);
    const earlier = new Set((await schedule.describe()).info.recentActions.map((action) => action.action.workflow.workflowId));
    await schedule.trigger();
    const sweep = await waitFor('the triggered sweep to start', async () =>
      (await schedule.describe()).info.recentActions.find((action) => !earlier.has(action.action.workflow.workflowId))?.action.workflow,
    );
    assert.equal(await stack.temporal.workflow.getHandle(sweep.workflowId, sweep.firstExecutionRunId).result(), 2);

    for (const jobId of [expiredFinished, expiredFailed]) assert.deepEqual(await traces(jobId), nothingLeft, jobId);
    assert.deepEqual({ young: await traces(young), running: await traces(running) }, kept);
    const { body } = await api<JobStatus>(stack.baseUrl, `/api/v1/alarms/${running}`, { token: owner });
    assert.equal(body.data.status, 'running');
  });

  test('every analysis worker start ensures the one retention schedule, brought to its configuration', async () => {
    const before = await stack.temporal.schedule.getHandle(retentionScheduleId).describe();
    assert.deepEqual(before.action.args, [{ retentionDays: stack.config.resultRetentionDays }]);

    const config = { ...stack.config, resultRetentionDays: 7 };
    const connection = await connectNative(config);
    try {
      const worker = await createAnalysisWorker({
        config,
        connection,
        db: stack.db,
        media: new FileSystemMediaStore(config.mediaDir),
        logger: createLogger('silent', 'test'),
        secrets: stack.secrets,
        workflowBundle: await testWorkflowBundle(),
      });
      await worker.runUntil(Promise.resolve());
    } finally {
      await connection.close();
    }

    const schedules = await waitFor('the schedule to be listed', async () => {
      const listed: string[] = [];
      for await (const summary of stack.temporal.schedule.list()) listed.push(summary.scheduleId);
      return listed.includes(retentionScheduleId) ? listed : undefined;
    });
    assert.deepEqual(schedules, [retentionScheduleId]);
    const after = await stack.temporal.schedule.getHandle(retentionScheduleId).describe();
    assert.deepEqual(after.spec.intervals?.map((interval) => interval.every), [3_600_000]);
    assert.equal(after.policies.overlap, 'SKIP');
    assert.equal(after.action.type, 'startWorkflow');
    assert.equal(after.action.workflowType, 'retentionSweep');
    assert.equal(after.action.taskQueue, config.temporal.analysisTaskQueue);
    assert.deepEqual(after.action.args, [{ retentionDays: 7 }]);
  });
});
