import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { alarmForm, api, defaultFields, eventFrames, submitAlarm, type AlarmFile } from '../support/alarms.js';
import { startProcessStack, type ProcessStack } from '../support/process-stack.js';
import { waitFor } from '../support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Accepted work is never lost: with 20 jobs in flight, each role is killed with SIGKILL (and
 * PostgreSQL restarted) and brought back; every job answered 202 must end exactly once: one job row, one
 * workflow run, one final webhook (one distinct X-Webhook-Id; repeats of an id are at-least-once redundancy).
 */

const JOBS_PER_ROUND = 20;
const ROUND_DEADLINE_MS = 240_000;
const terminalStatuses = ['finished', 'failed', 'cancelled'];

interface Round {
  name: string;
  account: string;
  token: string;
  webhookPath: string;
  /** vendor_event_id → job id, for every submission answered 202 (or 200 duplicate after a lost answer). */
  accepted: Map<string, string>;
  startedAt: number;
}

interface JobRow {
  id: string;
  vendor_event_id: string;
  status: string;
}

describe('faults: every accepted job ends exactly once', { timeout: 15 * 60_000 }, () => {
  let stack: ProcessStack;
  let receiver: WebhookReceiver;
  let frames: AlarmFile[];

  before(async () => {
    [stack, receiver, frames] = await Promise.all([startProcessStack(), startWebhookReceiver(), eventFrames('pets2009_people_walking_a')]);
  });
  after(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  async function newRound(name: string): Promise<Round> {
    const account = `faults_${name}`;
    return { name, account, token: await stack.createToken(account), webhookPath: `/hooks/${name}`, accepted: new Map(), startedAt: Date.now() };
  }

  /** One submission; its own zone, since the cooldown is per camera. Throws when the API cannot be reached. */
  async function submit(round: Round, index: number): Promise<void> {
    const vendorEventId = `${round.name}-${index}`;
    const fields = defaultFields({
      group_id: `g_${round.name}`,
      zone_id: `zone_${index}`,
      vendor_event_id: vendorEventId,
      webhook_url: receiver.url(round.webhookPath),
    });
    const response = await submitAlarm(stack.baseUrl, round.token, alarmForm(fields, frames));
    assert.ok(response.status === 202 || (response.status === 200 && response.body.data.duplicate), `${vendorEventId}: ${response.status} ${JSON.stringify(response.body)}`);
    round.accepted.set(vendorEventId, response.body.data.job_id);
  }

  async function submitAll(round: Round): Promise<void> {
    for (let index = 0; index < JOBS_PER_ROUND; index++) await submit(round, index);
  }

  async function jobRows(round: Round): Promise<JobRow[]> {
    const { rows } = await sql<JobRow>`
      select jobs.id, jobs.vendor_event_id, jobs.status
      from jobs join accounts on accounts.id = jobs.account_id
      where accounts.name = ${round.account}`.execute(stack.db);
    return rows;
  }

  async function unfinishedCount(round: Round): Promise<number> {
    stack.assertRunning();
    return (await jobRows(round)).filter((job) => !terminalStatuses.includes(job.status)).length;
  }

  /** Waits until the round's jobs are under way: some analysis done, most of it still to come. */
  async function waitUntilInFlight(round: Round, minimumFinished = 1): Promise<number> {
    const inFlight = await waitFor(
      `${round.name}: jobs in flight`,
      async () => {
        stack.assertRunning();
        const rows = await jobRows(round);
        const finished = rows.filter((job) => terminalStatuses.includes(job.status)).length;
        return finished >= minimumFinished ? { unfinished: rows.length - finished } : undefined;
      },
      ROUND_DEADLINE_MS,
      50,
    );
    assert.ok(inFlight.unfinished > 0, 'jobs were still in flight when the fault came');
    return inFlight.unfinished;
  }

  /** Waits for every accepted job to end and its webhook to be settled, then checks "exactly once" everywhere. */
  async function assertEachJobEndedOnce(t: TestContext, round: Round, inFlightAtFault: number): Promise<void> {
    const jobIds = [...round.accepted.values()];
    await waitFor(`${round.name}: every accepted job to end`, async () => (await unfinishedCount(round)) === 0 && round.accepted.size > 0, ROUND_DEADLINE_MS, 250);
    await waitFor(
      `${round.name}: every webhook delivery to settle`,
      async () => {
        stack.assertRunning();
        const { rows } = await sql<{ jobs: number; pending: number }>`
          select count(distinct job_id)::int as jobs, count(*) filter (where status = 'pending')::int as pending
          from webhook_deliveries where job_id in (${sql.join(jobIds)})`.execute(stack.db);
        return rows[0]!.jobs === jobIds.length && rows[0]!.pending === 0;
      },
      ROUND_DEADLINE_MS,
      250,
    );

    // One row per accepted submission, each finished.
    const rows = await jobRows(round);
    assert.deepEqual(rows.map((row) => row.id).sort(), [...jobIds].sort(), 'one job row per accepted submission, and no other');
    for (const row of rows) assert.equal(row.status, 'finished', `${row.id} ended ${row.status}`);

    // One workflow run per job, completed.
    const runs = await waitFor(
      `${round.name}: visibility to list every run closed`,
      async () => {
        const listed: { workflowId: string; status: string }[] = [];
        for await (const run of stack.temporal.workflow.list({ query: `VigilAccount = '${round.account}'` })) {
          listed.push({ workflowId: run.workflowId, status: run.status.name });
        }
        return listed.length >= jobIds.length && listed.every((run) => run.status !== 'RUNNING') ? listed : undefined;
      },
      60_000,
      250,
    );
    for (const jobId of jobIds) {
      const own = runs.filter((run) => run.workflowId === jobId);
      assert.equal(own.length, 1, `${jobId}: one workflow run`);
      assert.equal(own[0]!.status, 'COMPLETED', `${jobId}: run ${own[0]!.status}`);
    }
    // A submission cut off between starting its workflow and committing its rows was never acknowledged: its
    // workflow finds no job and fails (or was terminated by the API's undo), and sends nothing.
    const orphans = runs.filter((run) => !jobIds.includes(run.workflowId));
    for (const orphan of orphans) {
      assert.ok(['FAILED', 'TERMINATED'].includes(orphan.status), `${orphan.workflowId}: an unacknowledged submission's run ${orphan.status}`);
      assert.deepEqual(await stack.mediaKeys(`alarms/${orphan.workflowId}`), [], `${orphan.workflowId}: its frames were removed`);
    }

    // One delivery per job, delivered: one distinct X-Webhook-Id received, and it says finished.
    const { rows: deliveries } = await sql<{ job_id: string; status: string }>`
      select job_id, status from webhook_deliveries where job_id in (${sql.join(jobIds)})`.execute(stack.db);
    assert.equal(deliveries.length, jobIds.length, 'one delivery record per job');
    for (const delivery of deliveries) assert.equal(delivery.status, 'delivered', `${delivery.job_id}: delivery ${delivery.status}`);
    const hooks = receiver.received(round.webhookPath).filter((hook) => hook.answeredWith === 200);
    const idsByJob = new Map<string, Set<string>>();
    for (const hook of hooks) {
      const payload = JSON.parse(hook.body.toString()) as { type: string; job_id: string };
      assert.equal(payload.type, 'alarm.finished', `${payload.job_id}: ${payload.type}`);
      const ids = idsByJob.get(payload.job_id) ?? new Set<string>();
      ids.add(String(hook.headers['x-webhook-id']));
      idsByJob.set(payload.job_id, ids);
    }
    for (const jobId of jobIds) assert.equal(idsByJob.get(jobId)?.size, 1, `${jobId}: one distinct final webhook`);
    assert.equal(idsByJob.size, jobIds.length, 'no webhook for a job that was not accepted');
    const redundant = hooks.length - jobIds.length;
    const acceptedRuns = runs.filter((run) => jobIds.includes(run.workflowId)).length;
    const distinctFinalWebhooks = [...idsByJob.values()].reduce((count, ids) => count + ids.size, 0);

    t.diagnostic(
      `${round.name}: ${jobIds.length} accepted, ${inFlightAtFault} in flight at the fault, ${rows.length} terminal (finished), ` +
        `${acceptedRuns} workflow runs, ${distinctFinalWebhooks} distinct final webhooks, ${redundant} redundant deliveries, ` +
        `${orphans.length} failed runs of unacknowledged submissions, ${((Date.now() - round.startedAt) / 1000).toFixed(1)} s`,
    );
  }

  test('kill -9 the analysis worker', async (t) => {
    const round = await newRound('analysis');
    await submitAll(round);
    const inFlight = await waitUntilInFlight(round);
    await stack.analysisWorker.restart();
    await assertEachJobEndedOnce(t, round, inFlight);
  });

  test('kill -9 the detection worker', async (t) => {
    const round = await newRound('detection');
    await submitAll(round);
    const inFlight = await waitUntilInFlight(round);
    await stack.detectionWorker.restart();
    await assertEachJobEndedOnce(t, round, inFlight);
  });

  test('kill -9 the API while submissions are under way', async (t) => {
    const round = await newRound('api');
    const cutOff: number[] = [];
    // Four submissions at a time; the kill lands once half are accepted, with others mid-request.
    let next = 0;
    const submitter = async () => {
      for (let index = next++; index < JOBS_PER_ROUND; index = next++) {
        try {
          await submit(round, index);
        } catch (error) {
          if (error instanceof assert.AssertionError) throw error;
          cutOff.push(index);
        }
      }
    };
    const submitting = Promise.all([submitter(), submitter(), submitter(), submitter()]);
    await waitFor('half the submissions to be accepted', () => round.accepted.size >= JOBS_PER_ROUND / 2, ROUND_DEADLINE_MS, 10);
    const inFlight = await unfinishedCount(round);
    assert.ok(inFlight > 0, 'jobs were still in flight when the fault came');
    await stack.api.kill();
    await submitting;
    await stack.api.restart();
    // A client whose request was cut off sends it again: the same vendor_event_id must not start a second job.
    for (const index of cutOff) await submit(round, index);
    assert.equal(round.accepted.size, JOBS_PER_ROUND);
    const health = await api(stack.baseUrl, '/healthz');
    assert.equal(health.status, 200);
    t.diagnostic(`api: ${cutOff.length} submissions cut off by the kill and sent again`);
    await assertEachJobEndedOnce(t, round, inFlight);
  });

  test('restart PostgreSQL', async (t) => {
    const round = await newRound('postgres');
    await submitAll(round);
    const inFlight = await waitUntilInFlight(round);
    await stack.restartPostgres();
    await assertEachJobEndedOnce(t, round, inFlight);
  });
});
