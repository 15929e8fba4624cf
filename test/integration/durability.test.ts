import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import proto from '@temporalio/proto';
import { alarmForm, api, defaultFields, enlargedEventFrames, waitForDetectionUnderWay, submitAlarm, waitForTerminal, type AlarmFile } from '../support/alarms.js';
import { scheduledActivity } from '../support/history.js';
import { startStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

const { EventType } = proto.temporal.api.enums.v1;

describe('durability: a detection worker killed mid-job', () => {
  let stack: TestStack;
  let token: string;
  let largeFrames: AlarmFile[];

  before(async () => {
    stack = await startStack({ detectionWorker: false });
    token = await stack.createToken('acme');
    largeFrames = await enlargedEventFrames('pets2009_people_walking_a');
  });
  after(async () => stack?.stop());

  test('the job waits for a worker, survives a SIGKILL mid-detection and finishes exactly once', async () => {
    const submitted = await submitAlarm(stack.baseUrl, token, alarmForm(defaultFields({ zone_id: 'durable_cam' }), largeFrames));
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const jobId = submitted.body.data.job_id;
    const handle = stack.temporal.workflow.getHandle(jobId);

    // With no detection worker the job waits at the detect stage, and export says it is not ready.
    await waitFor('the job to reach detection', async () => {
      const status = await api<{ status: string; stage: string }>(stack.baseUrl, `/api/v1/alarms/${jobId}`, { token });
      return status.body.data.status === 'running' && status.body.data.stage === 'detect';
    });
    const early = await api(stack.baseUrl, `/api/v1/alarms/${jobId}/export`, { token });
    assert.equal(early.status, 409);
    assert.equal(early.body.error?.code, 'NOT_READY');

    const doomed = await stack.startDetectionWorker();
    await waitForDetectionUnderWay(stack.temporal, jobId, 60_000);
    await doomed.kill();
    const afterKill = await api<{ status: string }>(stack.baseUrl, `/api/v1/alarms/${jobId}`, { token });
    assert.equal(afterKill.body.data.status, 'running', 'the job must not have finished before the kill');

    await stack.startDetectionWorker();
    const final = await waitForTerminal(stack.baseUrl, token, jobId, 120_000);
    assert.equal(final.status, 'finished', JSON.stringify(final));
    // The row says finished once the verdict is stored; the workflow completes just after it.
    await handle.result();

    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const detectScheduled = scheduledActivity(history, 'detectFrames');
    const detectStart = events.find((e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === detectScheduled?.eventId?.toString());
    assert.ok((detectStart?.activityTaskStartedEventAttributes?.attempt ?? 0) >= 2, 'detection ran again on the new worker');
    assert.equal(events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED).length, 1);

    const runs = [];
    for await (const run of stack.temporal.workflow.list({ query: `WorkflowId = '${jobId}'` })) runs.push(run);
    assert.equal(runs.length, 1);

    const { rows } = await sql<{ total: number; distinct_rows: number; finished: number }>`
      select count(*)::int as total,
             count(distinct (frame_index, label, x1, y1, x2, y2))::int as distinct_rows,
             (select count(*) from jobs where id = ${jobId} and status = 'finished')::int as finished
      from detections where job_id = ${jobId}`.execute(stack.db);
    assert.equal(rows[0]!.finished, 1);
    assert.ok(rows[0]!.total > 0, 'people were detected');
    assert.equal(rows[0]!.total, rows[0]!.distinct_rows, 'no detection stored twice');
  });
});
