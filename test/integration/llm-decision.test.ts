import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { AlarmServerResult } from '../../db/schema.js';
import { LOCAL_RULES_VERSION } from '../../domain/decision.js';
import { alarmForm, api, defaultFields, eventFrames, submitAlarm, waitForTerminal } from '../support/alarms.js';
import { startLlmDouble, type DoubleVerdict, type LlmDouble } from '../support/llm-double.js';
import { startStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/** One scheduling of an activity as the workflow history tells it. */
interface ActivityRun {
  name: string;
  /** The attempt that ended it: 3 means two failed attempts before. */
  attempts: number;
  lastFailureType: string | undefined;
  failureType: string | undefined;
  completed: boolean;
}

const primaryModel = 'vision-primary';
const secondaryModel = 'vision-secondary';
const sure: DoubleVerdict = {
  decision: 'Yes',
  confidence: 0.92,
  description: 'Two people walk across the yard after closing time.',
  indicators: ['person_after_hours', 'loitering'],
};
const unsure: DoubleVerdict = { decision: 'Maybe', confidence: 0.3, description: 'Figures, hard to make out.', indicators: ['person_present'] };
const calm: DoubleVerdict = { decision: 'No', confidence: 0.85, description: 'Pedestrians on a public path.', indicators: ['authorised_activity'] };

describe('AI decision through a vision LLM (chat-completions double)', () => {
  let double: LlmDouble;
  let stack: TestStack;
  let token: string;

  before(async () => {
    double = await startLlmDouble();
    stack = await startStack({
      env: {
        LLM_BASE_URL: double.baseUrl,
        LLM_MODEL: primaryModel,
        LLM_API_KEY: 'sk-primary-test',
        LLM_FALLBACK_BASE_URL: double.baseUrl,
        LLM_FALLBACK_MODEL: secondaryModel,
        LLM_FALLBACK_API_KEY: 'sk-secondary-test',
        LLM_TIMEOUT_S: '1',
        LLM_MAX_ATTEMPTS: '3',
        LLM_RETRY_INITIAL_S: '0.1',
        LLM_RETRY_MAX_S: '0.2',
        LLM_CONFIRM_BELOW: '0.6',
        LLM_BREAKER_FAILURES: '3',
        // Long enough that the breaker tests at the end see it open.
        LLM_BREAKER_COOLDOWN_S: '600',
      },
    });
    token = await stack.createToken('acme');
  });

  after(async () => {
    await stack?.stop();
    await double?.stop();
  });

  beforeEach(() => double.reset());

  /** Submits the event and waits for its verdict; `whileRunning` sees the job before it ends. */
  async function decide(
    event: string,
    fields: Record<string, string> = {},
    whileRunning?: (jobId: string) => Promise<void>,
  ): Promise<{ jobId: string; server: AlarmServerResult }> {
    const form = alarmForm(defaultFields(fields), await eventFrames(event, 4));
    const submitted = await submitAlarm(stack.baseUrl, token, form);
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const jobId = submitted.body.data.job_id;
    await whileRunning?.(jobId);
    const status = await waitForTerminal(stack.baseUrl, token, jobId);
    assert.equal(status.status, 'finished', JSON.stringify(status));
    const exported = await api<{ server: AlarmServerResult }>(stack.baseUrl, `/api/v1/alarms/${jobId}/export`, { token });
    assert.equal(exported.status, 200, JSON.stringify(exported.body));
    return { jobId, server: exported.body.data.server };
  }

  async function modelRuns(jobId: string): Promise<ActivityRun[]> {
    const history = await stack.temporal.workflow.getHandle(jobId).fetchHistory();
    const runs = new Map<string, ActivityRun>();
    for (const event of history.events ?? []) {
      const id = event.eventId?.toString() ?? '';
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled) {
        runs.set(id, { name: scheduled.activityType?.name ?? '', attempts: 0, lastFailureType: undefined, failureType: undefined, completed: false });
      }
      const started = event.activityTaskStartedEventAttributes;
      const startedRun = started && runs.get(started.scheduledEventId?.toString() ?? '');
      if (started && startedRun) {
        startedRun.attempts = started.attempt ?? 0;
        startedRun.lastFailureType = started.lastFailure?.applicationFailureInfo?.type ?? undefined;
      }
      const failed = event.activityTaskFailedEventAttributes;
      const failedRun = failed && runs.get(failed.scheduledEventId?.toString() ?? '');
      if (failed && failedRun) failedRun.failureType = failed.failure?.applicationFailureInfo?.type ?? undefined;
      const completed = event.activityTaskCompletedEventAttributes;
      const completedRun = completed && runs.get(completed.scheduledEventId?.toString() ?? '');
      if (completedRun) completedRun.completed = true;
    }
    return [...runs.values()].filter((run) => run.name.startsWith('ask'));
  }

  test('sensitivity 0 settles the event locally and never calls a model', async () => {
    double.script(primaryModel, { verdict: sure });
    const { server } = await decide('pets2009_people_walking_a', { detection_sensitive_level: '0' });
    assert.equal(server.ai_decision_method, 'Local');
    assert.equal(server.ai_engine, LOCAL_RULES_VERSION);
    assert.equal(server.ai_decision, 'Maybe');
    assert.equal(double.requestsFor(primaryModel).length, 0);
  });

  test('an event with nothing left after the filters is No without a model', async () => {
    double.script(primaryModel, { verdict: sure });
    const { server } = await decide('tree_foliage_wind');
    assert.deepEqual([server.ai_decision_method, server.ai_decision, server.ai_analysis_called], ['Local', 'No', false]);
    assert.equal(double.requestsFor(primaryModel).length, 0);
  });

  test('C1: the primary answers; the request carries the contact sheet and the context', async () => {
    double.script(primaryModel, { verdict: sure });
    const { server } = await decide('pets2009_people_walking_a', { site_category: 'jewelry' });
    assert.equal(server.ai_decision_method, 'C1');
    assert.equal(server.ai_engine, primaryModel);
    assert.equal(server.ai_decision, 'Yes');
    assert.equal(server.crime_rate, 2);
    assert.equal(server.ai_description, sure.description);
    assert.equal(server.ai_analysis_called, true);
    assert.ok(server.ai_analysis_time > 0, JSON.stringify(server));
    assert.ok(!Number.isNaN(Date.parse(server.ai_decision_time)), server.ai_decision_time);
    for (const indicator of sure.indicators) assert.ok(server.ai_decision_indicators.includes(indicator), indicator);

    const [request, ...more] = double.requestsFor(primaryModel);
    assert.equal(more.length, 0);
    assert.equal(request!.headers.authorization, 'Bearer sk-primary-test');
    assert.equal(request!.body.response_format?.json_schema?.name, 'alarm_verdict');
    const user = request!.body.messages.find((message) => message.role === 'user')!;
    assert.ok(Array.isArray(user.content));
    const text = user.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n');
    assert.match(text, /Site category: jewelry\. Business hours: 10:00–20:00\./);
    assert.match(text, /Local time: 2026-11-20 23:15:00 \(after hours\)\./);
    assert.match(text, /Frames: 4, numbered 1 to 4/);
    assert.match(text, /Persons detected: frame 1: \d+/);
    const [url] = user.content.flatMap((part) => (part.type === 'image_url' ? [part.image_url.url] : []));
    assert.match(url!, /^data:image\/jpeg;base64,/);
    const sheet = await sharp(Buffer.from(url!.slice(url!.indexOf(',') + 1), 'base64')).metadata();
    assert.deepEqual([sheet.format, sheet.width, sheet.height], ['jpeg', 960, 720], 'four 768x576 frames on a 2x2 sheet');
  });

  test('two 500s, then an answer: the history shows three attempts of the primary activity', async () => {
    double.script(primaryModel, { status: 500 }, { status: 500 }, { verdict: sure });
    const { jobId, server } = await decide('pets2009_people_walking_a');
    assert.equal(server.ai_decision_method, 'C1');
    assert.equal(double.requestsFor(primaryModel).length, 3);
    assert.deepEqual(await modelRuns(jobId), [
      { name: 'askPrimaryModel', attempts: 3, lastFailureType: 'LLM_UNAVAILABLE', failureType: undefined, completed: true },
    ]);
  });

  test('a primary that does not answer in time is retried', async () => {
    double.script(primaryModel, { hang: true }, { verdict: sure });
    // While the model is asked, the alarm's status says so (the row's stage, set as the analysis hands over).
    const decideStage = async (jobId: string) => {
      await waitFor('the status to show the decide stage', async () => {
        const { body } = await api<{ status: string; stage: string }>(stack.baseUrl, `/api/v1/alarms/${jobId}`, { token });
        return body.data.status === 'running' && body.data.stage === 'decide';
      });
    };
    const { jobId, server } = await decide('pets2009_people_walking_a', {}, decideStage);
    assert.equal(server.ai_decision_method, 'C1');
    const [primary] = await modelRuns(jobId);
    assert.deepEqual([primary!.attempts, primary!.lastFailureType, primary!.completed], [2, 'LLM_TIMEOUT', true]);
  });

  test('an answer still invalid after one repair is not retried: the secondary decides (C2)', async () => {
    double.script(primaryModel, { content: 'There are two people, probably fine.' }, { content: '{"decision": "Perhaps"}' });
    double.script(secondaryModel, { verdict: calm });
    const { jobId, server } = await decide('pets2009_people_walking_a');
    assert.deepEqual([server.ai_decision_method, server.ai_engine, server.ai_decision, server.crime_rate], ['C2', secondaryModel, 'No', 0]);
    const [firstAsk, repair] = double.requestsFor(primaryModel);
    assert.ok(firstAsk && repair);
    assert.equal(repair.body.messages.at(-2)?.content, 'There are two people, probably fine.');
    assert.equal(double.requestsFor(secondaryModel)[0]!.headers.authorization, 'Bearer sk-secondary-test');
    assert.deepEqual(await modelRuns(jobId), [
      { name: 'askPrimaryModel', attempts: 1, lastFailureType: undefined, failureType: 'LLM_INVALID_ANSWER', completed: false },
      { name: 'askSecondaryModel', attempts: 1, lastFailureType: undefined, failureType: undefined, completed: true },
    ]);
  });

  test('C21: an unsure secondary answer goes back to the primary, whose verdict stands', async () => {
    double.script(primaryModel, { status: 400, message: 'image too large' }, { verdict: sure });
    double.script(secondaryModel, { verdict: unsure });
    const { jobId, server } = await decide('pets2009_people_walking_a');
    assert.deepEqual([server.ai_decision_method, server.ai_engine, server.ai_decision], ['C21', primaryModel, 'Yes']);
    assert.deepEqual(
      (await modelRuns(jobId)).map((run) => [run.name, run.attempts, run.failureType ?? 'ok']),
      [
        ['askPrimaryModel', 1, 'LLM_BAD_REQUEST'],
        ['askSecondaryModel', 1, 'ok'],
        ['askPrimaryModel', 1, 'ok'],
      ],
    );
  });

  test('primary down: its retries are spent, then the secondary decides (C2)', async () => {
    double.script(primaryModel, { drop: true });
    double.script(secondaryModel, { verdict: calm });
    const { jobId, server } = await decide('pets2009_people_walking_a');
    assert.deepEqual([server.ai_decision_method, server.ai_engine], ['C2', secondaryModel]);
    assert.equal(double.requestsFor(primaryModel).length, 3);
    const [primary] = await modelRuns(jobId);
    assert.deepEqual([primary!.attempts, primary!.failureType], [3, 'LLM_UNAVAILABLE']);
  });

  // The primary's breaker opened on the three failures above (LLM_BREAKER_FAILURES=3).
  test('both down: the open primary fails at once, the secondary spends its retries, the local rules decide (Cbr)', async () => {
    double.script(primaryModel, { drop: true });
    double.script(secondaryModel, { drop: true });
    const { jobId, server } = await decide('pets2009_people_walking_a');
    assert.deepEqual([server.ai_decision_method, server.ai_engine, server.ai_analysis_called], ['Cbr', LOCAL_RULES_VERSION, true]);
    assert.equal(server.ai_decision, 'Yes', 'people after hours at a retail site');
    assert.equal(double.requestsFor(primaryModel).length, 0);
    assert.equal(double.requestsFor(secondaryModel).length, 3);
    assert.deepEqual(
      (await modelRuns(jobId)).map((run) => [run.name, run.attempts, run.failureType]),
      [
        ['askPrimaryModel', 1, 'LLM_CIRCUIT_OPEN'],
        ['askSecondaryModel', 3, 'LLM_UNAVAILABLE'],
      ],
    );
  });

  test('both breakers open: one immediate fallback to the local rules, no request sent (Cbr)', async () => {
    double.script(primaryModel, { verdict: sure });
    double.script(secondaryModel, { verdict: sure });
    const { jobId, server } = await decide('pets2009_people_walking_a');
    assert.equal(server.ai_decision_method, 'Cbr');
    assert.equal(double.requestsFor(primaryModel).length + double.requestsFor(secondaryModel).length, 0);
    assert.deepEqual(
      (await modelRuns(jobId)).map((run) => [run.name, run.attempts, run.failureType]),
      [
        ['askPrimaryModel', 1, 'LLM_CIRCUIT_OPEN'],
        ['askSecondaryModel', 1, 'LLM_CIRCUIT_OPEN'],
      ],
    );
  });
});
