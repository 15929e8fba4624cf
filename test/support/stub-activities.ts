import { ApplicationFailure, Context } from '@temporalio/activity';
import type { AlarmActivities, DecisionResult, FrameAnalysis } from '../../activities/alarm.js';
import type { ImageBatchActivities } from '../../activities/image-batch.js';
import type { ClassificationActivities } from '../../activities/classification.js';
import type { JobLifecycleActivities } from '../../activities/job-lifecycle.js';
import type { LlmActivities, ModelVerdict } from '../../activities/llm.js';
import type { VmsActivities } from '../../activities/vms.js';
import type { WebhookActivities } from '../../activities/webhook.js';
import { reachesModel } from '../../domain/decision.js';
import type { FrameDetections } from '../../domain/types.js';
import type { ClassifierActivities, DetectionActivities, ImageAnalysisActivities } from '../../gpu-worker/activities.js';
import type { ImageRef } from '../../workflows/contracts/image-batch-analysis.js';
import type { TextActivities } from '../../gpu-worker/text-activities.js';
import type { VideoActivities, VideoStepActivities } from '../../activities/video.js';
import type { VideoDetectionActivities } from '../../gpu-worker/video-activities.js';
import type { FacesTextActivities } from '../../gpu-worker/faces-text-activities.js';
import type { ClassificationFrameActivities } from '../../gpu-worker/classification-activities.js';

/**
 * Every activity the workflows call, local ones included. `defaultStubs` must stub each one (the compiler
 * checks), so a new activity is one more stub there, and one more module here if it is a new module.
 */
export type VigilActivities = JobLifecycleActivities &
  AlarmActivities &
  DetectionActivities &
  LlmActivities &
  WebhookActivities &
  ImageBatchActivities &
  ImageAnalysisActivities &
  ClassificationActivities &
  ClassifierActivities &
  TextActivities &
  VmsActivities &
  VideoActivities &
  VideoStepActivities &
  VideoDetectionActivities &
  FacesTextActivities &
  ClassificationFrameActivities;
export type ActivityName = keyof VigilActivities;
export type ActivityInput<N extends ActivityName> = Parameters<VigilActivities[N]>[0];

export interface ActivityCall {
  name: ActivityName;
  input: unknown;
}

export interface StubActivities {
  /** For the worker: each records its call, then runs the test's override or the default stub. */
  readonly activities: VigilActivities;
  /** Every call (each retry is a call), in the order they started. */
  readonly calls: readonly ActivityCall[];
  /** The activities that were running when their cancellation reached them. */
  readonly cancelled: readonly ActivityName[];
  inputsOf<N extends ActivityName>(name: N): ActivityInput<N>[];
}

/** A confident answer of a model; tests change its fields. */
export function modelVerdict(fields: Partial<ModelVerdict> = {}): ModelVerdict {
  return {
    decision: 'Yes',
    confidence: 0.9,
    description: 'A person climbs the fence after closing time.',
    indicators: ['person_after_hours', 'climbing'],
    engine: 'stub-model',
    decidedAt: '2024-05-01T23:15:05.000Z',
    ...fields,
  };
}

/** What the local rules would say, as the `decide` step returns it. */
export function localDecision(fields: Partial<DecisionResult> = {}): DecisionResult {
  return {
    decision: 'Maybe',
    crimeRate: 1,
    method: 'Local',
    engine: 'stub-local-rules',
    analysisCalled: true,
    analysisSeconds: 0.001,
    decidedAt: '2024-05-01T23:15:04.000Z',
    description: 'A person on site after hours.',
    indicators: [],
    ...fields,
  };
}

/** What detection finds in an event with someone walking through it. */
export function personInEveryFrame(frames: readonly { index: number }[]): FrameDetections[] {
  return frames.map((frame) => ({
    frameIndex: frame.index,
    width: 640,
    height: 480,
    detections: [{ category: 'person', label: 'person', score: 0.9, box: [100, 80, 180, 300] }],
  }));
}

/** What the models see in images with a person in each. */
export function personInEveryImage(images: readonly ImageRef[]) {
  return images.map((image) => ({ index: image.index, signals: { objects: [{ label: 'person', score: 0.9 }], groups: [], lowLight: false } }));
}

/** Frame analysis that kept what detection found. */
export function keptAnalysis(detections: FrameDetections[]): FrameAnalysis {
  return { kept: detections, removed: [], indicators: [], quality: [], activityDiffs: detections.map(() => 0.2), hasMotion: true };
}

/** A plausible run: a person in every frame, a local decision, a model that answers, a webhook target that accepts. */
function defaultStubs(): VigilActivities {
  const prepareDelivery = async () => true;
  const site = { siteDbId: 'site-1', category: 'retail', address: null, cachedTimezone: null };
  const siteTimeOf = (timestamp: string | null) => ({ vendorTime: timestamp ?? '2024-05-01T23:15:00', timezone: 'Europe/London', indicators: [] });
  return {
    // Tests give the settings of their own worker (its task queue for detection); these keep a forgotten one from hanging.
    workerSettings: async () => {
      throw ApplicationFailure.nonRetryable('the test did not give the worker settings', 'TEST_SETUP');
    },
    upsertTenancy: async () => site,
    resolveSiteTime: async ({ timestamp }) => siteTimeOf(timestamp),
    beginAlarm: async ({ timestamp }) => ({ site, siteTime: siteTimeOf(timestamp) }),
    detectFrames: async ({ frames }) => personInEveryFrame(frames),
    analyseFrames: async ({ detections }) => keptAnalysis(detections),
    decide: async () => localDecision(),
    persistResult: async () => undefined,
    // What detection found is kept: a model decides when one is configured, the local rules otherwise.
    settleAlarm: async ({ detections, sensitivity, modelConfigured }) =>
      modelConfigured && reachesModel(sensitivity, detections) ? { analysis: keptAnalysis(detections) } : { decision: localDecision() },
    failJob: async () => undefined,
    askPrimaryModel: async () => modelVerdict({ engine: 'stub-primary' }),
    askSecondaryModel: async () => modelVerdict({ engine: 'stub-secondary' }),
    prepareJobDelivery: prepareDelivery,
    prepareAlarmDelivery: prepareDelivery,
    attemptWebhookDelivery: async () => ({ statusCode: 200 }),
    abandonWebhookDelivery: async () => undefined,
    startImageBatch: async () => undefined,
    // Every item of the chunk is queued: a stored image under the job's prefix.
    queuedImages: async ({ jobId, fromIndex, toIndex }) =>
      Array.from({ length: toIndex - fromIndex }, (_, i) => ({ index: fromIndex + i, key: `image-batches/${jobId}/item_${fromIndex + i}.jpg` })),
    analyseImages: async ({ images }) => personInEveryImage(images),
    storeImageOutcomes: async () => undefined,
    finishImageBatch: async ({ jobId }) => ({ jobId, finished: 0, failed: 0 }),
    prepareClassification: async ({ source }) => ({
      frames: source.kind === 'images' ? source.frames : [0, 1, 2].map((index) => ({ index, key: `${source.key}/frame_${index}.jpg` })),
      processed: { width: 640, height: 360, fps: 3, nframes: 3, duration: 1 },
      motion: { activityDiffs: [0.1, 0.1], hasMotion: true, peakActivity: 0.1, spread: 0.1, steadiness: 0, faintness: 0.1, density: 0.5, concentration: 0.8, hotRegion: null },
      regionKey: null,
    }),
    scoreClassification: async () => ({ risk: 'intrusion' }),
    beginClassification: async () => undefined,
    analyseClassificationFrames: async ({ source }) => {
      const nframes = source.kind === 'images' ? source.frames.length : 3;
      return {
        processed: { width: 640, height: 360, fps: source.kind === 'images' ? 0 : 3, nframes, duration: source.kind === 'images' ? 0 : 1 },
        detections: personInEveryFrame(Array.from({ length: nframes }, (_, index) => ({ index }))),
        motion: { activityDiffs: [0.1, 0.1], hasMotion: true, peakActivity: 0.1, spread: 0.1, steadiness: 0, faintness: 0.1, density: 0.5, concentration: 0.8, hotRegion: null, flicker: 0 },
        evidence: { classifier: { spider: 0, web: 0.6997, flag: 0, plant: 0, animal: 0 }, text: 0.9 },
      };
    },
    scoreAnalysedClassification: async () => ({ risk: 'intrusion' }),
    classifyFrames: async ({ frames }) => frames.map((frame) => ({ frameIndex: frame.index, top: [], groups: [{ group: 'spider_web', probability: 0.7 }] })),
    readText: async ({ mediaKeys }) => ({ frames: mediaKeys.map((mediaKey) => ({ mediaKey, lines: [{ text: 'CAM 04', confidence: 0.9, box: [0, 0, 10, 10], boxScore: 0.9 }] })) }),
    beginVmsIncident: async () => 'open',
    vmsIncidentWindow: async () => ({ cameraId: 'camera-1', frames: [{ index: 0, key: 'k/0.jpg' }], window: [{ frameId: 'f0', frameIndex: 0, key: 'k/0.jpg' }], totalFrames: 1, fresh: true }),
    recordVmsVerification: async () => 'real',
    recordVmsVerificationFailure: async () => undefined,
    prepareVmsIncidentDelivery: prepareDelivery,
    prepareVmsForward: async () => false,
    closeVmsIncident: async () => true,
    setVmsCameraStatus: async () => true,
    markVmsCameraOfflineIfSilent: async ({ offlineAfterSeconds }) => ({ marked: true, silentMs: offlineAfterSeconds * 1000 }),
    prepareVmsCameraDelivery: prepareDelivery,
    probeStoredVideo: async () => undefined,
    analyseVideoMotion: async () => ({ scenes: 2, activitySamples: 60 }),
    finishedVideoChunks: async () => [],
    detectVideoChunk: async ({ chunkIndex }) => ({ chunkIndex, frames: 20, detections: 3 }),
    storeVideoChunk: async () => undefined,
    summariseVideo: async () => ({ sections: 3, tracks: 2 }),
    analyseVideoFacesText: async () => ({ frames: 4, faces: 2, textLines: 1 }),
    analyseImageFacesText: async ({ images }) => ({ frames: images.length, faces: images.length, textLines: 0 }),
  };
}

/** Stubs for every activity, with the test's overrides; each call is recorded before it runs. */
export function createStubActivities(overrides: Partial<VigilActivities> = {}): StubActivities {
  const stubs: Record<string, (input: never) => Promise<unknown>> = { ...defaultStubs(), ...overrides };
  const calls: ActivityCall[] = [];
  const cancelled: ActivityName[] = [];
  const recording = Object.fromEntries(
    Object.entries(stubs).map(([name, stub]) => [
      name,
      async (input: never) => {
        calls.push({ name: name as ActivityName, input });
        try {
          return await stub(input);
        } catch (error) {
          if (Context.current().cancellationSignal.aborted) cancelled.push(name as ActivityName);
          throw error;
        }
      },
    ]),
  );
  return {
    activities: recording as unknown as VigilActivities,
    calls,
    cancelled,
    inputsOf: <N extends ActivityName>(name: N) => calls.filter((call) => call.name === name).map((call) => call.input as ActivityInput<N>),
  };
}

/** A stub failing every call with this failure type, retryable unless said otherwise. */
export function failsWith(type: string, { nonRetryable = false } = {}): () => Promise<never> {
  return async () => {
    throw ApplicationFailure.create({ type, message: `stub failure ${type}`, nonRetryable });
  };
}

/** A stub whose first `count` calls fail retryably with `type`, and later ones run `then`. */
export function failsFirst<A extends unknown[], R>(count: number, type: string, then: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  let calls = 0;
  return async (...args) => {
    calls += 1;
    if (calls <= count) throw ApplicationFailure.retryable(`stub failure ${type} (call ${calls})`, type);
    return then(...args);
  };
}

/** A stub that answers with this value. */
export function answers<R>(value: R): () => Promise<R> {
  return async () => value;
}

/** A stub that runs until its activity is cancelled, then throws the cancellation. */
export async function runsUntilCancelled(): Promise<never> {
  const context = Context.current();
  // A task-queue activity learns of its cancellation only from the answer to a heartbeat.
  const heartbeats = setInterval(() => context.heartbeat(), 50);
  try {
    return await context.cancelled;
  } finally {
    clearInterval(heartbeats);
  }
}
