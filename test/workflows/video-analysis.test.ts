import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { progressQuery } from '../../workflows/contracts/job.js';
import type { VideoWorkflowInput } from '../../workflows/contracts/video-analysis.js';
import { videoAnalysis } from '../../workflows/video-analysis.js';
import { answers, failsWith, runsUntilCancelled, type StubActivities, type VigilActivities } from '../support/stub-activities.js';
import { waitFor } from '../support/wait.js';
import { startWorkflowEnv, type WorkflowTestEnv } from '../support/workflow-env.js';

const webhookDelivery = { maxAttempts: 2, initialIntervalSeconds: 0.1, maxIntervalSeconds: 0.2, timeoutSeconds: 5 };

function videoInput(jobId: string, fields: Partial<VideoWorkflowInput> = {}): VideoWorkflowInput {
  return {
    jobId,
    accountId: 'account-1',
    maxProcessingSeconds: 0,
    hasWebhook: true,
    video: { mediaKey: `videos/${jobId}/source`, width: 640, height: 360, fps: 10, durationS: 30 },
    sampleFps: 2,
    chunkSeconds: 10,
    ...fields,
  };
}

interface VideoRun {
  handle: WorkflowHandle<typeof videoAnalysis>;
  stubs: StubActivities;
  ended: PromiseSettledResult<Awaited<ReturnType<typeof videoAnalysis>>>;
}

describe('videoAnalysis with stub activities', () => {
  let env: WorkflowTestEnv;

  before(async () => {
    env = await startWorkflowEnv();
  });
  after(async () => env?.stop());

  async function runVideo(
    setup: { input?: Partial<VideoWorkflowInput>; stubs?: Partial<VigilActivities>; whileRunning?: (run: Omit<VideoRun, 'ended'>) => Promise<void> } = {},
  ): Promise<VideoRun> {
    const jobId = `video_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
    const stubs = env.stubActivities(jobId, { workerSettings: answers({ detectTaskQueue: env.taskQueue, webhookDelivery }), ...setup.stubs });
    const handle = await env.client.workflow.start(videoAnalysis, { workflowId: jobId, taskQueue: env.taskQueue, args: [videoInput(jobId, setup.input)] });
    await setup.whileRunning?.({ handle, stubs });
    const [ended] = await Promise.allSettled([handle.result()]);
    return { handle, stubs, ended: ended! };
  }

  function failureOf(run: VideoRun): ApplicationFailure {
    if (run.ended.status === 'fulfilled') assert.fail(`the workflow finished: ${JSON.stringify(run.ended.value)}`);
    assert.ok(run.ended.reason instanceof WorkflowFailedError, String(run.ended.reason));
    assert.ok(run.ended.reason.cause instanceof ApplicationFailure, String(run.ended.reason.cause));
    return run.ended.reason.cause;
  }

  test('probe, motion, detection chunk by chunk (each stored before the next), summary, then the webhook', async () => {
    const run = await runVideo({ input: { video: { mediaKey: 'videos/x/source', width: 640, height: 360, fps: 10, durationS: 25 } } });
    assert.equal(run.ended.status, 'fulfilled', String((run.ended as PromiseRejectedResult).reason));
    assert.deepEqual(run.ended.value, { jobId: run.handle.workflowId, scenes: 2, sections: 3, tracks: 2 });
    assert.deepEqual(
      run.stubs.calls.map((call) => call.name),
      [
        'workerSettings', 'probeStoredVideo', 'analyseVideoMotion', 'finishedVideoChunks',
        'detectVideoChunk', 'storeVideoChunk', 'detectVideoChunk', 'storeVideoChunk', 'detectVideoChunk', 'storeVideoChunk',
        'analyseVideoFacesText', 'analyseVideoFacesText', 'analyseVideoFacesText',
        'summariseVideo', 'prepareJobDelivery', 'attemptWebhookDelivery',
      ],
    );
    // Faces and text are read per chunk after every chunk is detected, on the detect queue.
    assert.deepEqual(run.stubs.inputsOf('analyseVideoFacesText').map(({ chunkIndex, startS, endS, sampleFps }) => [chunkIndex, startS, endS, sampleFps]), [
      [0, 0, 10, 2],
      [1, 10, 20, 2],
      [2, 20, 25, 2],
    ]);
    assert.deepEqual(run.stubs.inputsOf('detectVideoChunk').map(({ chunkIndex, startS, endS, sampleFps }) => [chunkIndex, startS, endS, sampleFps]), [
      [0, 0, 10, 2],
      [1, 10, 20, 2],
      [2, 20, 25, 2],
    ]);
    const progress = await run.handle.query(progressQuery);
    assert.deepEqual([progress.kind, progress.stage, progress.fractionDone], ['video', 'finished', 1]);
    assert.deepEqual(progress.stages.map((stage) => stage.stage), ['probe', 'motion', 'detect', 'faces_text', 'summarise', 'finished']);
  });

  test('chunks already stored are not detected again', async () => {
    const run = await runVideo({ stubs: { finishedVideoChunks: answers([0, 1]) } });
    assert.equal(run.ended.status, 'fulfilled');
    assert.deepEqual(run.stubs.inputsOf('detectVideoChunk').map((input) => input.chunkIndex), [2]);
    assert.deepEqual(run.stubs.inputsOf('storeVideoChunk').map((input) => input.chunkIndex), [2]);
  });

  test('a video that no longer decodes fails INVALID_VIDEO, stored, then the webhook', async () => {
    const run = await runVideo({ stubs: { probeStoredVideo: failsWith('INVALID_VIDEO', { nonRetryable: true }) } });
    assert.equal(failureOf(run).type, 'INVALID_VIDEO');
    const [failed] = run.stubs.inputsOf('failJob');
    assert.deepEqual([failed?.error.code, failed?.cancelled], ['INVALID_VIDEO', false]);
    assert.equal(run.stubs.inputsOf('summariseVideo').length, 0);
    assert.equal(run.stubs.inputsOf('prepareJobDelivery').length, 1);
  });

  test('past its Max-Processing-Time the job fails MAX_PROCESSING_TIME_EXCEEDED and the running chunk is cancelled', async () => {
    const run = await runVideo({ input: { maxProcessingSeconds: 5 }, stubs: { detectVideoChunk: runsUntilCancelled } });
    assert.equal(failureOf(run).type, 'MAX_PROCESSING_TIME_EXCEEDED');
    const [failed] = run.stubs.inputsOf('failJob');
    assert.deepEqual([failed?.error.code, failed?.cancelled], ['MAX_PROCESSING_TIME_EXCEEDED', false]);
    assert.equal(run.stubs.inputsOf('storeVideoChunk').length, 0);
    assert.equal(run.stubs.inputsOf('prepareJobDelivery').length, 1);
    await waitFor('the chunk to be cancelled', () => run.stubs.cancelled.includes('detectVideoChunk'));
  });

  test('a cancelled job ends cancelled, its chunk cancelled, and its webhook still goes', async () => {
    const run = await runVideo({
      stubs: { detectVideoChunk: runsUntilCancelled },
      whileRunning: async ({ handle, stubs }) => {
        await waitFor('detection to start', () => stubs.inputsOf('detectVideoChunk').length > 0);
        await handle.cancel();
      },
    });
    assert.equal(run.ended.status, 'rejected');
    const [failed] = run.stubs.inputsOf('failJob');
    assert.deepEqual([failed?.error.code, failed?.cancelled], ['CANCELLED', true]);
    assert.equal((await run.handle.describe()).status.name, 'CANCELLED');
    assert.equal(run.stubs.inputsOf('prepareJobDelivery').length, 1);
    await waitFor('the chunk to be cancelled', () => run.stubs.cancelled.includes('detectVideoChunk'));
  });
});
