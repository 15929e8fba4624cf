import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { FailureType } from '../../domain/failure-types.js';
import { clipClassification } from '../../workflows/index.js';
import { classificationEndedUpdate, type ClassificationWorkflowInput } from '../../workflows/contracts/clip-classification.js';
import type { WorkerJobSettings } from '../../workflows/contracts/job.js';
import { failsWith, runsUntilCancelled, type StubActivities, type VigilActivities } from '../support/stub-activities.js';
import { waitFor } from '../support/wait.js';
import { startWorkflowEnv, type WorkflowTestEnv } from '../support/workflow-env.js';

interface Run {
  handle: WorkflowHandle<typeof clipClassification>;
  stubs: StubActivities;
}

describe('clipClassification with stub activities', () => {
  let env: WorkflowTestEnv;
  before(async () => {
    env = await startWorkflowEnv();
  });
  after(async () => env?.stop());

  const settings = (): WorkerJobSettings => ({
    detectTaskQueue: env.taskQueue,
    webhookDelivery: { maxAttempts: 2, initialIntervalSeconds: 0.05, maxIntervalSeconds: 0.1, timeoutSeconds: 1 },
  });

  async function start(input: Partial<ClassificationWorkflowInput> = {}, stubs: Partial<VigilActivities> = {}): Promise<Run> {
    const jobId = randomUUID().replace(/-/g, '').slice(0, 24);
    const registered = env.stubActivities(jobId, stubs);
    const workflowInput: ClassificationWorkflowInput = {
      jobId,
      accountId: 'account-1',
      cameraId: 'cam-7',
      source: { kind: 'video', key: `classifications/${jobId}/clip.mp4`, width: 1280, height: 720, durationS: 4 },
      maxProcessingSeconds: 0,
      hasWebhook: true,
      ...input,
    };
    const handle = await env.client.workflow.start(clipClassification, { taskQueue: env.taskQueue, workflowId: jobId, args: [workflowInput, settings()] });
    return { handle, stubs: registered };
  }

  const names = (run: Run) => run.stubs.calls.map((call) => call.name);

  test('a clip: marked running and analysed in one detect-queue task side by side, scored and stored, then the webhook', async () => {
    const run = await start();
    assert.deepEqual(await run.handle.result(), { jobId: run.handle.workflowId, risk: 'intrusion' });
    assert.deepEqual(new Set(names(run).slice(0, 2)), new Set(['beginClassification', 'analyseClassificationFrames']));
    assert.deepEqual(names(run).slice(2), ['scoreAnalysedClassification', 'prepareJobDelivery', 'attemptWebhookDelivery']);
    const [analyse] = run.stubs.inputsOf('analyseClassificationFrames');
    assert.equal(analyse!.source.kind, 'video');
    assert.equal(analyse!.jobId, run.handle.workflowId);
    const [score] = run.stubs.inputsOf('scoreAnalysedClassification');
    assert.equal(score!.cameraId, 'cam-7');
    assert.equal(score!.analysed.detections.length, 3);
    assert.equal(score!.analysed.processed.fps, 3);
    assert.deepEqual(score!.analysed.evidence, { classifier: { spider: 0, web: 0.6997, flag: 0, plant: 0, animal: 0 }, text: 0.9 }, 'the analysis as it answered');
  });

  test('images go to the analysis as sent, and without a webhook target none is sent', async () => {
    const frames = [0, 1].map((index) => ({ index, key: `classifications/x/frame_0${index}.jpg` }));
    const run = await start({ source: { kind: 'images', frames }, hasWebhook: false, cameraId: null });
    await run.handle.result();
    assert.deepEqual(run.stubs.inputsOf('analyseClassificationFrames')[0]!.source, { kind: 'images', frames });
    assert.equal(run.stubs.inputsOf('scoreAnalysedClassification')[0]!.cameraId, null);
    assert.ok(!names(run).includes('prepareJobDelivery'));
  });

  test('the ended update answers once the result is stored', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const run = await start({}, {
      scoreAnalysedClassification: async () => {
        await held;
        return { risk: 'safe' };
      },
    });
    const update = run.handle.executeUpdate(classificationEndedUpdate);
    let answered = false;
    void update.then(() => (answered = true));
    await waitFor('scoring to start', () => names(run).includes('scoreAnalysedClassification'));
    assert.equal(answered, false, 'not before the result is stored');
    release();
    await update;
    assert.deepEqual(await run.handle.result(), { jobId: run.handle.workflowId, risk: 'safe' });
  });

  test('a clip that does not decode fails the job INVALID_VIDEO and is delivered failed, with no retry', async () => {
    const run = await start({}, { analyseClassificationFrames: failsWith(FailureType.InvalidVideo, { nonRetryable: true }) });
    await assert.rejects(run.handle.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.ok(error.cause instanceof ApplicationFailure);
      assert.equal(error.cause.type, FailureType.InvalidVideo);
      return true;
    });
    assert.equal(run.stubs.inputsOf('analyseClassificationFrames').length, 1);
    const [failed] = run.stubs.inputsOf('failJob');
    assert.equal(failed!.error.code, FailureType.InvalidVideo);
    assert.ok(!names(run).includes('scoreAnalysedClassification'));
    assert.ok(names(run).indexOf('failJob') < names(run).indexOf('prepareJobDelivery'));
  });

  test('past its Max-Processing-Time the analysis is cancelled and the job fails MAX_PROCESSING_TIME_EXCEEDED', async () => {
    const run = await start({ maxProcessingSeconds: 1 }, { analyseClassificationFrames: runsUntilCancelled });
    await assert.rejects(run.handle.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.equal((error.cause as ApplicationFailure).type, FailureType.MaxProcessingTimeExceeded);
      return true;
    });
    await waitFor('the analysis to see its cancellation', () => run.stubs.cancelled.includes('analyseClassificationFrames'));
    assert.equal(run.stubs.inputsOf('failJob')[0]!.error.code, FailureType.MaxProcessingTimeExceeded);
    assert.ok(!names(run).includes('scoreAnalysedClassification'));
  });

  test('a cancelled classification stops its analysis and ends cancelled', async () => {
    const run = await start({}, { analyseClassificationFrames: runsUntilCancelled });
    await waitFor('the analysis to start', () => names(run).includes('analyseClassificationFrames'));
    await run.handle.cancel();
    await assert.rejects(run.handle.result());
    await waitFor('the analysis to see its cancellation', () => run.stubs.cancelled.includes('analyseClassificationFrames'));
    const [failed] = run.stubs.inputsOf('failJob');
    assert.equal(failed!.cancelled, true);
    assert.equal(failed!.error.code, FailureType.Cancelled);
    assert.ok(!names(run).includes('scoreAnalysedClassification'));
  });
});
