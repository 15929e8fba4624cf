import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { imageBatchAnalysis } from '../../workflows/image-batch-analysis.js';
import type { ImageBatchWorkflowInput } from '../../workflows/contracts/image-batch-analysis.js';
import { progressQuery, type WorkerJobSettings } from '../../workflows/contracts/job.js';
import { answers, failsWith, runsUntilCancelled, type StubActivities, type VigilActivities } from '../support/stub-activities.js';
import { waitFor } from '../support/wait.js';
import { startWorkflowEnv, type WorkflowTestEnv } from '../support/workflow-env.js';

const webhookDelivery = { maxAttempts: 2, initialIntervalSeconds: 0.05, maxIntervalSeconds: 0.1, timeoutSeconds: 1 };

describe('imageBatchAnalysis workflow', () => {
  let env: WorkflowTestEnv;
  before(async () => {
    env = await startWorkflowEnv();
  });
  after(async () => env?.stop());

  async function start(input: Partial<ImageBatchWorkflowInput>, stubs: Partial<VigilActivities> = {}) {
    const jobId = `image_batch_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
    const settings: WorkerJobSettings = { detectTaskQueue: env.taskQueue, webhookDelivery };
    const stubbed: StubActivities = env.stubActivities(jobId, { workerSettings: answers(settings), ...stubs });
    const handle = await env.client.workflow.start(imageBatchAnalysis, {
      workflowId: jobId,
      taskQueue: env.taskQueue,
      args: [{ jobId, accountId: 'account-1', itemCount: 3, maxProcessingSeconds: 0, hasWebhook: true, ...input }],
    });
    return { handle, stubs: stubbed };
  }

  function failureOf(error: unknown): ApplicationFailure {
    assert.ok(error instanceof WorkflowFailedError, String(error));
    assert.ok(error.cause instanceof ApplicationFailure, String(error.cause));
    return error.cause;
  }

  test('analyses the batch chunk by chunk on the detection queue, stores each chunk, then finishes and delivers', async () => {
    const { handle, stubs } = await start({ itemCount: 19 });
    const outcome = await handle.result();
    assert.equal(outcome.jobId, handle.workflowId);

    // 19 items in chunks of 8: [0, 8), [8, 16), [16, 19).
    assert.deepEqual(
      stubs.inputsOf('queuedImages').map(({ fromIndex, toIndex }) => [fromIndex, toIndex]),
      [
        [0, 8],
        [8, 16],
        [16, 19],
      ],
    );
    const analysed = stubs.inputsOf('analyseImages');
    assert.deepEqual(analysed.map(({ images }) => images.length), [8, 8, 3]);
    assert.deepEqual(analysed.flatMap(({ images }) => images.map((image) => image.index)), Array.from({ length: 19 }, (_, i) => i));
    // Faces and text of the same images in the same task, read before the chunk's outcomes are stored (they find
    // them in PostgreSQL): one task per chunk, each image fetched once.
    assert.ok(analysed.every((input) => input.facesText === true && input.accountId === 'account-1'));
    assert.equal(stubs.inputsOf('analyseImageFacesText').length, 0);
    const stored = stubs.inputsOf('storeImageOutcomes');
    assert.equal(stored.length, 3);
    assert.ok(stored.every(({ analysed: items }) => items.every((item) => 'signals' in item)));

    const names = stubs.calls.map((call) => call.name);
    assert.ok(names.indexOf('startImageBatch') < names.indexOf('analyseImages'));
    assert.ok(names.lastIndexOf('storeImageOutcomes') < names.indexOf('finishImageBatch'));
    assert.ok(names.indexOf('finishImageBatch') < names.indexOf('prepareJobDelivery'), 'the batch ends before its webhook');
    assert.equal(stubs.inputsOf('prepareJobDelivery').length, 1);

    const progress = await handle.query(progressQuery);
    assert.equal(progress.kind, 'image_batch');
    assert.deepEqual(progress.stages.map((s) => s.stage), ['start', 'analyse', 'persist', 'finished']);
    assert.equal(progress.fractionDone, 1);
  });

  test('a chunk whose items all failed at submission skips the detection queue', async () => {
    const { handle, stubs } = await start({ itemCount: 10 }, { queuedImages: async ({ fromIndex }) => (fromIndex === 0 ? [] : [{ index: 9, key: 'k' }]) });
    await handle.result();
    assert.deepEqual(stubs.inputsOf('analyseImages').map(({ images }) => images.map((image) => image.index)), [[9]]);
    assert.equal(stubs.inputsOf('storeImageOutcomes').length, 1);
  });

  test('past its Max-Processing-Time the batch fails MAX_PROCESSING_TIME_EXCEEDED, the analysis is cancelled, the webhook still goes', async () => {
    const { handle, stubs } = await start({ maxProcessingSeconds: 1 }, { analyseImages: runsUntilCancelled });
    const failure = failureOf(await handle.result().then(() => assert.fail('the batch finished'), (error: unknown) => error));
    assert.equal(failure.type, 'MAX_PROCESSING_TIME_EXCEEDED');
    const failed = stubs.inputsOf('failJob');
    assert.deepEqual(failed.map(({ error, cancelled }) => [error.code, cancelled]), [['MAX_PROCESSING_TIME_EXCEEDED', false]]);
    assert.equal(stubs.inputsOf('finishImageBatch').length, 0);
    assert.equal(stubs.inputsOf('prepareJobDelivery').length, 1);
    await waitFor('the analysis stub to be cancelled', () => stubs.cancelled.includes('analyseImages'));
  });

  test('a cancelled batch ends cancelled, cancels the analysis and still delivers its webhook', async () => {
    const { handle, stubs } = await start({}, { analyseImages: runsUntilCancelled });
    await waitFor('the analysis to start', () => stubs.inputsOf('analyseImages').length > 0);
    await handle.cancel();
    await assert.rejects(handle.result());
    assert.equal((await handle.describe()).status.name, 'CANCELLED');
    assert.deepEqual(stubs.inputsOf('failJob').map(({ error, cancelled }) => [error.code, cancelled]), [['CANCELLED', true]]);
    assert.equal(stubs.inputsOf('prepareJobDelivery').length, 1);
    await waitFor('the analysis stub to be cancelled', () => stubs.cancelled.includes('analyseImages'));
  });

  test('a batch whose job row is gone fails UNKNOWN_JOB without analysing anything', async () => {
    const { handle, stubs } = await start({}, { startImageBatch: failsWith('UNKNOWN_JOB', { nonRetryable: true }) });
    const failure = failureOf(await handle.result().then(() => assert.fail('the batch finished'), (error: unknown) => error));
    assert.equal(failure.type, 'UNKNOWN_JOB');
    assert.equal(stubs.inputsOf('analyseImages').length, 0);
  });
});
