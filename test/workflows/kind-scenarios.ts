import { randomUUID } from 'node:crypto';
import { ApplicationFailure, type WorkflowHandle } from '@temporalio/client';
import type { WorkerJobSettings } from '../../workflows/contracts/job.js';
import { vmsCameraHeardSignal, vmsCameraWatchId, vmsIncidentCloseSignal, vmsIncidentUpdatedSignal } from '../../workflows/contracts/vms-incident.js';
import { clipClassification, imageBatchAnalysis, videoAnalysis, vmsCameraWatch, vmsIncident } from '../../workflows/index.js';
import { answers, type StubActivities } from '../support/stub-activities.js';
import { waitFor } from '../support/wait.js';
import type { WorkflowTestEnv } from '../support/workflow-env.js';

/**
 * One plausible run of every workflow type other than the alarm's, with stub activities, recorded by
 * `record-histories.ts` so the replay test holds each kind's command sequence to what running workflows saw.
 */
export interface KindRun {
  handle: WorkflowHandle;
  stubs: StubActivities;
}

const webhookDelivery = { maxAttempts: 2, initialIntervalSeconds: 0.05, maxIntervalSeconds: 0.1, timeoutSeconds: 1 };

function register(
  env: WorkflowTestEnv,
  workflowId: string,
  overrides: Parameters<WorkflowTestEnv['stubActivities']>[1] = {},
): { stubs: StubActivities; settings: WorkerJobSettings } {
  const settings: WorkerJobSettings = { detectTaskQueue: env.taskQueue, webhookDelivery };
  return { stubs: env.stubActivities(workflowId, { workerSettings: answers(settings), ...overrides }), settings };
}

const hex24 = () => randomUUID().replaceAll('-', '').slice(0, 24);

/** An incident workflow started by its first event, as the API starts it. */
const openIncident = (env: WorkflowTestEnv, jobId: string) =>
  env.client.workflow.signalWithStart(vmsIncident, {
    workflowId: jobId,
    taskQueue: env.taskQueue,
    args: [{ jobId, accountId: 'account-1', maxProcessingSeconds: 0, hasWebhook: true, reverifySeconds: 1 }],
    signal: vmsIncidentUpdatedSignal,
    signalArgs: [],
  });

export const kindScenarios = {
  /** 25 s of video in chunks of 10 s: probe, motion, three chunks detected and stored, summary, webhook. */
  video: async (env: WorkflowTestEnv): Promise<KindRun> => {
    const jobId = `video_${hex24()}`;
    const { stubs } = register(env, jobId);
    const handle = await env.client.workflow.start(videoAnalysis, {
      workflowId: jobId,
      taskQueue: env.taskQueue,
      args: [{
        jobId, accountId: 'account-1', maxProcessingSeconds: 0, hasWebhook: true,
        video: { mediaKey: `videos/${jobId}/source`, width: 640, height: 360, fps: 10, durationS: 25 },
        sampleFps: 2, chunkSeconds: 10,
      }],
    });
    await handle.result();
    return { handle, stubs };
  },
  /** 19 images in chunks of 8. */
  'image-batch': async (env: WorkflowTestEnv): Promise<KindRun> => {
    const jobId = `image_batch_${hex24()}`;
    const { stubs } = register(env, jobId);
    const handle = await env.client.workflow.start(imageBatchAnalysis, {
      workflowId: jobId,
      taskQueue: env.taskQueue,
      args: [{ jobId, accountId: 'account-1', itemCount: 19, maxProcessingSeconds: 0, hasWebhook: true }],
    });
    await handle.result();
    return { handle, stubs };
  },
  /** A 4 s clip, started with its settings pinned as the API starts it. */
  classification: async (env: WorkflowTestEnv): Promise<KindRun> => {
    const jobId = hex24();
    const { stubs, settings } = register(env, jobId);
    const handle = await env.client.workflow.start(clipClassification, {
      workflowId: jobId,
      taskQueue: env.taskQueue,
      args: [{
        jobId, accountId: 'account-1', cameraId: 'cam-7', maxProcessingSeconds: 0, hasWebhook: true,
        source: { kind: 'video', key: `classifications/${jobId}/clip.mp4`, width: 1280, height: 720, durationS: 4 },
      }, settings],
    });
    await handle.result();
    return { handle, stubs };
  },
  /** Started by an event, verified, joined by another event, then closed by the end-of-event message. */
  'vms-incident': async (env: WorkflowTestEnv): Promise<KindRun> => {
    const jobId = `vms_incident_${hex24()}`;
    const { stubs } = register(env, jobId);
    const handle = await openIncident(env, jobId);
    await waitFor('the first verification', () => stubs.inputsOf('recordVmsVerification').length === 1);
    await handle.signal(vmsIncidentUpdatedSignal);
    await handle.signal(vmsIncidentCloseSignal);
    await handle.result();
    return { handle, stubs };
  },
  /** Verified once, then closed without a signal for its last snapshots: the close reads the window and verifies them. */
  'vms-incident-closed-unannounced': async (env: WorkflowTestEnv): Promise<KindRun> => {
    const jobId = `vms_incident_${hex24()}`;
    const { stubs } = register(env, jobId);
    const handle = await openIncident(env, jobId);
    await waitFor('the first verification done', () => stubs.inputsOf('prepareVmsForward').length === 1);
    await handle.signal(vmsIncidentCloseSignal);
    await handle.result();
    return { handle, stubs };
  },
  /** Snapshots announced and the close arriving while a verification runs: they are verified before it closes. */
  'vms-incident-closed-while-verifying': async (env: WorkflowTestEnv): Promise<KindRun> => {
    const jobId = `vms_incident_${hex24()}`;
    let release = () => {};
    const verifying = new Promise<void>((resolve) => (release = resolve));
    const { stubs } = register(env, jobId, {
      recordVmsVerification: async () => {
        if (stubs.inputsOf('recordVmsVerification').length === 1) await verifying;
        return 'real';
      },
    });
    const handle = await openIncident(env, jobId);
    await waitFor('the first verification running', () => stubs.inputsOf('recordVmsVerification').length === 1);
    await handle.signal(vmsIncidentUpdatedSignal);
    await handle.signal(vmsIncidentCloseSignal);
    release();
    await handle.result();
    return { handle, stubs };
  },
  /** The first verification fails (an undecodable snapshot, recorded on the incident); the close verifies again. */
  'vms-incident-verification-failed': async (env: WorkflowTestEnv): Promise<KindRun> => {
    const jobId = `vms_incident_${hex24()}`;
    let detections = 0;
    const { stubs } = register(env, jobId, {
      detectFrames: async ({ frames }) => {
        if (++detections === 1) throw ApplicationFailure.nonRetryable('undecodable snapshot', 'INVALID_IMAGE');
        return frames.map((f) => ({ frameIndex: f.index, width: 10, height: 10, detections: [] }));
      },
    });
    const handle = await openIncident(env, jobId);
    await waitFor('the failure recorded', () => stubs.inputsOf('recordVmsVerificationFailure').length === 1);
    await handle.signal(vmsIncidentCloseSignal);
    await handle.result();
    return { handle, stubs };
  },
  /**
   * A camera heard (its watch started), heard again before its timer fired (the watch waits the rest), silent
   * past its limit (offline), heard again (online), then stopped.
   */
  'vms-camera-watch': async (env: WorkflowTestEnv): Promise<KindRun> => {
    const cameraId = `camera-${hex24()}`;
    const workflowId = vmsCameraWatchId(cameraId);
    const silences = [500];
    const { stubs } = register(env, workflowId, {
      markVmsCameraOfflineIfSilent: async ({ offlineAfterSeconds }) => {
        const silentMs = silences.shift() ?? offlineAfterSeconds * 1000;
        return { marked: silentMs >= offlineAfterSeconds * 1000, silentMs };
      },
    });
    const heard = () =>
      env.client.workflow.signalWithStart(vmsCameraWatch, {
        workflowId,
        taskQueue: env.taskQueue,
        args: [{ accountId: 'account-1', cameraId, offlineAfterSeconds: 1 }],
        signal: vmsCameraHeardSignal,
        signalArgs: [],
      });
    const handle = await heard();
    await waitFor('offline', () => stubs.inputsOf('prepareVmsCameraDelivery').length === 1, 10_000);
    await heard();
    await waitFor('online delivered', () => stubs.inputsOf('attemptWebhookDelivery').length === 2, 10_000);
    await handle.terminate('recorded');
    return { handle, stubs };
  },
} satisfies Record<string, (env: WorkflowTestEnv) => Promise<KindRun>>;

export type KindScenario = keyof typeof kindScenarios;
