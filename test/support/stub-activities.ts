import { ApplicationFailure, Context } from '@temporalio/activity';
import type { AlarmActivities, DecisionResult, FrameAnalysis } from '../../activities/alarm.js';
import type { JobLifecycleActivities } from '../../activities/job-lifecycle.js';
import type { LlmActivities, ModelVerdict } from '../../activities/llm.js';
import type { WebhookActivities } from '../../activities/webhook.js';
import type { FrameDetections } from '../../domain/types.js';
import type { VideoActivities, VideoStepActivities } from '../../activities/video.js';
import type { DetectionActivities } from '../../gpu-worker/activities.js';
import type { VideoDetectionActivities } from '../../gpu-worker/video-activities.js';

/**
 * Every activity the workflows call, local ones included. `defaultStubs` must stub each one (the compiler
 * checks), so a new activity is one more stub there, and one more module here if it is a new module.
 */
export type VigilActivities = JobLifecycleActivities & AlarmActivities & DetectionActivities & LlmActivities & WebhookActivities &
  VideoActivities & VideoStepActivities & VideoDetectionActivities;
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

/** Frame analysis that kept what detection found. */
export function keptAnalysis(detections: FrameDetections[]): FrameAnalysis {
  return { kept: detections, removed: [], indicators: [], quality: [], activityDiffs: detections.map(() => 0.2), hasMotion: true };
}

/** A plausible run: a person in every frame, a local decision, a model that answers, a webhook target that accepts. */
function defaultStubs(): VigilActivities {
  const prepareDelivery = async () => true;
  return {
    // Tests give the settings of their own worker (its task queue for detection); these keep a forgotten one from hanging.
    workerSettings: async () => {
      throw ApplicationFailure.nonRetryable('the test did not give the worker settings', 'TEST_SETUP');
    },
    upsertTenancy: async () => ({ siteDbId: 'site-1', category: 'retail', address: null, cachedTimezone: null }),
    resolveSiteTime: async ({ timestamp }) => ({ vendorTime: timestamp ?? '2024-05-01T23:15:00', timezone: 'Europe/London', indicators: [] }),
    detectFrames: async ({ frames }) => personInEveryFrame(frames),
    analyseFrames: async ({ detections }) => keptAnalysis(detections),
    decide: async () => localDecision(),
    persistResult: async () => undefined,
    failJob: async () => undefined,
    askPrimaryModel: async () => modelVerdict({ engine: 'stub-primary' }),
    askSecondaryModel: async () => modelVerdict({ engine: 'stub-secondary' }),
    prepareJobDelivery: prepareDelivery,
    prepareAlarmDelivery: prepareDelivery,
    attemptWebhookDelivery: async () => ({ statusCode: 200 }),
    abandonWebhookDelivery: async () => undefined,
    probeStoredVideo: async () => undefined,
    analyseVideoMotion: async () => ({ scenes: 2, activitySamples: 60 }),
    finishedVideoChunks: async () => [],
    detectVideoChunk: async ({ chunkIndex }) => ({ chunkIndex, frames: 20, detections: 3 }),
    storeVideoChunk: async () => undefined,
    summariseVideo: async () => ({ sections: 3, tracks: 2 }),
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
