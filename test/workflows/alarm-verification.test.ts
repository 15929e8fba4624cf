import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { DecisionResult } from '../../activities/alarm.js';
import { progressQuery } from '../../workflows/contracts/job.js';
import {
  answers,
  failsWith,
  keptAnalysis,
  localDecision,
  personInEveryFrame,
  type ActivityName,
} from '../support/stub-activities.js';
import { waitFor } from '../support/wait.js';
import { startWorkflowEnv, type WorkflowTestEnv } from '../support/workflow-env.js';
import {
  alarmScenarios,
  llmRouting,
  primaryVerdict,
  runAlarm,
  secondaryVerdict,
  startAlarm,
  unsureSecondaryVerdict,
  type AlarmOutcome,
  type EndedAlarmRun,
} from './alarm-scenarios.js';

function outcomeOf({ ended }: EndedAlarmRun): AlarmOutcome {
  if (ended.status === 'rejected') assert.fail(`the workflow failed: ${String(ended.reason)}`);
  return ended.value;
}

/** The application failure the workflow ended with. */
function failureOf({ ended }: EndedAlarmRun): ApplicationFailure {
  if (ended.status === 'fulfilled') assert.fail(`the workflow finished: ${JSON.stringify(ended.value)}`);
  assert.ok(ended.reason instanceof WorkflowFailedError, String(ended.reason));
  assert.ok(ended.reason.cause instanceof ApplicationFailure, String(ended.reason.cause));
  return ended.reason.cause;
}

/** The local rules decided and stored the job's result within `settleAlarm`: no model was asked. */
function assertSettledLocally(run: EndedAlarmRun): void {
  assert.equal(callCount(run, 'settleAlarm'), 1);
  assert.equal(callCount(run, 'persistResult') + callCount(run, 'decide'), 0, 'decided and stored within settleAlarm');
  assert.equal(callCount(run, 'askPrimaryModel') + callCount(run, 'askSecondaryModel'), 0);
}

/** The decision the job's result was stored with, after a model's route. */
function storedDecision(run: EndedAlarmRun): DecisionResult {
  const persisted = run.stubs.inputsOf('persistResult');
  assert.equal(persisted.length, 1, 'the result is stored once');
  return persisted[0]!.decision;
}

function callCount(run: EndedAlarmRun, name: ActivityName): number {
  return run.stubs.inputsOf(name).length;
}

/** The job ended with this error code, then its webhook was delivered. */
function assertFailedThenDelivered(run: EndedAlarmRun, code: string, cancelled: boolean): void {
  const failed = run.stubs.inputsOf('failJob');
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.jobId, run.handle.workflowId);
  assert.equal(failed[0]!.error.code, code);
  assert.equal(failed[0]!.cancelled, cancelled);
  assert.equal(callCount(run, 'persistResult'), 0);
  assertWebhookDelivered(run);
  const names = run.stubs.calls.map((call) => call.name);
  assert.ok(names.indexOf('failJob') < names.indexOf('prepareJobDelivery'), `the job ends before its webhook: ${names.join(', ')}`);
}

/** One completion delivery of the job was recorded and then sent. */
function assertWebhookDelivered(run: EndedAlarmRun): void {
  const prepared = run.stubs.inputsOf('prepareJobDelivery');
  assert.equal(prepared.length, 1);
  assert.equal(prepared[0]!.jobId, run.handle.workflowId);
  assert.equal(prepared[0]!.trigger, 'completion');
  const attempts = run.stubs.inputsOf('attemptWebhookDelivery');
  assert.equal(attempts.length, 1);
  assert.deepEqual(attempts[0], { accountId: prepared[0]!.accountId, deliveryId: prepared[0]!.deliveryId });
}

describe('alarmVerification with stub activities', () => {
  let env: WorkflowTestEnv;

  before(async () => {
    env = await startWorkflowEnv();
  });

  after(async () => {
    await env?.stop();
  });

  test('without an LLM the local rules decide, the result is stored and the webhook delivered', async () => {
    const run = await runAlarm(env, alarmScenarios.local());
    assert.deepEqual(outcomeOf(run), { jobId: run.handle.workflowId, crimeRate: 1, decision: 'Maybe' });
    assert.deepEqual(
      run.stubs.calls.map((call) => call.name),
      ['workerSettings', 'beginAlarm', 'detectFrames', 'settleAlarm', 'prepareJobDelivery', 'attemptWebhookDelivery'],
    );
    const [detected] = run.stubs.inputsOf('detectFrames');
    assert.deepEqual(detected!.frames.map((frame) => frame.index), [0, 1, 2]);
    const [settled] = run.stubs.inputsOf('settleAlarm');
    assert.equal(settled!.modelConfigured, false);
    assert.equal(settled!.detections.length, 3, 'what detection found goes to the analysis');
    assert.equal(settled!.vendorTime, '2024-05-01T23:15:00', 'the site time beginAlarm resolved');
    assertSettledLocally(run);
    assertWebhookDelivered(run);
  });

  test('C1: the primary model answers and decides', async () => {
    const run = await runAlarm(env, alarmScenarios.c1());
    assert.deepEqual(outcomeOf(run), { jobId: run.handle.workflowId, crimeRate: 2, decision: 'Yes' });
    const decision = storedDecision(run);
    assert.deepEqual([decision.method, decision.engine, decision.decision], ['C1', primaryVerdict.engine, 'Yes']);
    assert.ok(decision.indicators.includes('climbing'), 'the model indicators are kept');
    const [asked] = run.stubs.inputsOf('askPrimaryModel');
    assert.equal(asked!.jobId, run.handle.workflowId);
    assert.equal(asked!.frames.length, 3);
    assert.equal(asked!.analysis.kept.length, 3);
    assert.equal(callCount(run, 'askSecondaryModel'), 0);
    assert.equal(callCount(run, 'decide'), 0);
  });

  test('C2: the primary fails all its attempts and the confident secondary decides', async () => {
    const run = await runAlarm(env, alarmScenarios.c2());
    assert.equal(outcomeOf(run).decision, secondaryVerdict.decision);
    const decision = storedDecision(run);
    assert.deepEqual([decision.method, decision.engine], ['C2', secondaryVerdict.engine]);
    assert.equal(callCount(run, 'askPrimaryModel'), llmRouting.maxAttempts);
    assert.equal(callCount(run, 'askSecondaryModel'), 1);
  });

  test('C21: the secondary is unsure and the primary, asked once more, confirms', async () => {
    const run = await runAlarm(env, alarmScenarios.c21());
    assert.equal(outcomeOf(run).decision, primaryVerdict.decision);
    const decision = storedDecision(run);
    assert.deepEqual([decision.method, decision.engine], ['C21', primaryVerdict.engine]);
    assert.equal(callCount(run, 'askPrimaryModel'), llmRouting.maxAttempts + 1);
    assert.equal(callCount(run, 'askSecondaryModel'), 1);
  });

  test('C2 stands when the confirmation by the primary fails, and the confirmation is not retried', async () => {
    const run = await runAlarm(env, {
      options: { llm: llmRouting },
      stubs: { askPrimaryModel: failsWith('LLM_UNAVAILABLE'), askSecondaryModel: answers(unsureSecondaryVerdict) },
    });
    assert.equal(outcomeOf(run).decision, unsureSecondaryVerdict.decision);
    const decision = storedDecision(run);
    assert.deepEqual([decision.method, decision.engine], ['C2', unsureSecondaryVerdict.engine]);
    assert.equal(callCount(run, 'askPrimaryModel'), llmRouting.maxAttempts + 1);
  });

  test('Cbr: when no model answers, the local rules decide', async () => {
    const run = await runAlarm(env, alarmScenarios.cbr());
    assert.equal(outcomeOf(run).decision, localDecision().decision);
    const decision = storedDecision(run);
    assert.deepEqual([decision.method, decision.engine], ['Cbr', localDecision().engine]);
    assert.equal(callCount(run, 'askPrimaryModel'), llmRouting.maxAttempts);
    assert.equal(callCount(run, 'askSecondaryModel'), llmRouting.maxAttempts);
    assert.equal(callCount(run, 'decide'), 1);
  });

  test('Cbr without a secondary model: the failed primary falls back to the local rules', async () => {
    const run = await runAlarm(env, {
      options: { llm: { ...llmRouting, secondary: false } },
      stubs: { askPrimaryModel: failsWith('LLM_UNAVAILABLE') },
    });
    assert.equal(storedDecision(run).method, 'Cbr');
    assert.equal(callCount(run, 'askSecondaryModel'), 0);
  });

  test('sensitivity 0 never reaches a model', async () => {
    const run = await runAlarm(env, { input: { sensitivity: 0 }, options: { llm: llmRouting } });
    const [settled] = run.stubs.inputsOf('settleAlarm');
    assert.deepEqual([settled!.sensitivity, settled!.modelConfigured], [0, true]);
    assertSettledLocally(run);
  });

  test('detection looks at every changed frame only where a person seen in one frame counts (sensitivity below 2)', async () => {
    for (const sensitivity of [0, 1, 2] as const) {
      const run = await runAlarm(env, { input: { sensitivity } });
      assert.equal(run.stubs.inputsOf('detectFrames')[0]!.everyChangedFrame, sensitivity < 2, `sensitivity ${sensitivity}`);
    }
  });

  test('an alarm settleAlarm decided and stored, a model configured, goes to no model (nothing kept after the filters)', async () => {
    const run = await runAlarm(env, { options: { llm: llmRouting }, stubs: { settleAlarm: answers({ decision: localDecision({ decision: 'No', crimeRate: 0 }) }) } });
    assert.deepEqual(outcomeOf(run), { jobId: run.handle.workflowId, crimeRate: 0, decision: 'No' });
    assertSettledLocally(run);
  });

  test('an alarm for a model: the analysis settleAlarm answered goes to the model, then to storage', async () => {
    const analysis = keptAnalysis(personInEveryFrame([{ index: 0 }, { index: 1 }, { index: 2 }]));
    const run = await runAlarm(env, alarmScenarios.c1());
    assert.deepEqual(run.stubs.inputsOf('askPrimaryModel')[0]!.analysis, analysis);
    assert.deepEqual(run.stubs.inputsOf('persistResult')[0]!.analysis, analysis);
    assert.deepEqual(
      run.stubs.calls.map((call) => call.name),
      ['workerSettings', 'beginAlarm', 'detectFrames', 'settleAlarm', 'askPrimaryModel', 'persistResult', 'prepareJobDelivery', 'attemptWebhookDelivery'],
    );
  });

  test('past its Max-Processing-Time the job fails MAX_PROCESSING_TIME_EXCEEDED, detection is cancelled, the webhook still goes', async () => {
    const run = await runAlarm(env, alarmScenarios['max-processing-time']());
    const failure = failureOf(run);
    assert.equal(failure.type, 'MAX_PROCESSING_TIME_EXCEEDED');
    assert.equal(failure.nonRetryable, true);
    assertFailedThenDelivered(run, 'MAX_PROCESSING_TIME_EXCEEDED', false);
    assert.equal((await run.handle.query(progressQuery)).stage, 'failed');
    await waitFor('the detection stub to be cancelled', () => run.stubs.cancelled.includes('detectFrames'));
  });

  test('a cancelled workflow ends its job as cancelled, cancels detection and still delivers the webhook', async () => {
    const run = await runAlarm(env, alarmScenarios.cancelled());
    assert.equal(run.ended.status, 'rejected');
    assertFailedThenDelivered(run, 'CANCELLED', true);
    assert.equal((await run.handle.query(progressQuery)).stage, 'cancelled');
    assert.equal((await run.handle.describe()).status.name, 'CANCELLED', 'Temporal shows the job as cancelled, as its row does');
    await waitFor('the detection stub to be cancelled', () => run.stubs.cancelled.includes('detectFrames'));
  });

  test('a non-retryable activity failure fails the job with its type at once, and the webhook still goes', async () => {
    const run = await runAlarm(env, alarmScenarios['invalid-image']());
    assert.equal(failureOf(run).type, 'INVALID_IMAGE');
    assertFailedThenDelivered(run, 'INVALID_IMAGE', false);
    assert.equal(callCount(run, 'detectFrames'), 1);
    assert.equal(callCount(run, 'settleAlarm'), 0);
  });

  test('a job without a webhook target delivers nothing', async () => {
    const run = await runAlarm(env, { input: { hasWebhook: false } });
    outcomeOf(run);
    assert.equal(callCount(run, 'settleAlarm'), 1);
    assert.equal(callCount(run, 'prepareJobDelivery') + callCount(run, 'attemptWebhookDelivery'), 0);
  });

  test('a delivery that spends its attempts is abandoned and the job still finishes', async () => {
    const run = await runAlarm(env, { stubs: { attemptWebhookDelivery: failsWith('WEBHOOK_UNREACHABLE') } });
    outcomeOf(run);
    const [prepared] = run.stubs.inputsOf('prepareJobDelivery');
    assert.equal(callCount(run, 'attemptWebhookDelivery'), 2, 'the policy allows two attempts');
    assert.deepEqual(run.stubs.inputsOf('abandonWebhookDelivery'), [{ accountId: prepared!.accountId, deliveryId: prepared!.deliveryId }]);
  });

  test('no attempt is made when the target is gone by the time the job ends', async () => {
    const run = await runAlarm(env, { stubs: { prepareJobDelivery: answers(false) } });
    outcomeOf(run);
    assert.equal(callCount(run, 'prepareJobDelivery'), 1);
    assert.equal(callCount(run, 'attemptWebhookDelivery') + callCount(run, 'abandonWebhookDelivery'), 0);
  });

  test('the progress query reports the stages in order, each timed until the next begins', async () => {
    const detectionMs = 250;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const run = await startAlarm(env, {
      stubs: {
        detectFrames: async ({ frames }) => {
          await released;
          await delay(detectionMs);
          return personInEveryFrame(frames);
        },
      },
    });

    const running = await waitFor('the detect stage', async () => {
      const progress = await run.handle.query(progressQuery);
      return progress.stage === 'detect' ? progress : undefined;
    });
    assert.deepEqual(running.stages.map((stage) => stage.stage), ['tenancy', 'detect']);
    assert.equal(running.stages.at(-1)!.durationMs, null, 'the current stage is still open');
    release();
    await run.handle.result();

    const ended = await run.handle.query(progressQuery);
    assert.equal(ended.jobId, run.handle.workflowId);
    assert.equal(ended.stage, 'finished');
    assert.deepEqual(ended.stages.map((stage) => stage.stage), ['tenancy', 'detect', 'analyse', 'finished']);
    for (const [index, stage] of ended.stages.entries()) {
      const next = ended.stages[index + 1];
      assert.ok(stage.durationMs !== null && stage.durationMs >= 0, `${stage.stage} has a duration`);
      if (next) assert.equal(Date.parse(stage.startedAt) + stage.durationMs, Date.parse(next.startedAt), `${stage.stage} ends as ${next.stage} begins`);
    }
    assert.ok(ended.stages[1]!.durationMs! >= detectionMs, `detection took ${ended.stages[1]!.durationMs} ms`);
  });
});
