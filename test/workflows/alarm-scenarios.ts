import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { alarmVerification } from '../../workflows/index.js';
import {
  answers,
  failsFirst,
  failsWith,
  modelVerdict,
  runsUntilCancelled,
  type StubActivities,
  type VigilActivities,
} from '../support/stub-activities.js';
import { waitFor } from '../support/wait.js';
import type { WorkflowTestEnv } from '../support/workflow-env.js';

export type AlarmInput = Parameters<typeof alarmVerification>[0];
export type AlarmOptions = NonNullable<Parameters<typeof alarmVerification>[1]>;
export type AlarmOutcome = Awaited<ReturnType<typeof alarmVerification>>;
export type LlmRouting = NonNullable<AlarmOptions['llm']>;

/** Both models, two attempts each, retried within a tenth of a second. */
export const llmRouting: LlmRouting = {
  secondary: true,
  timeoutSeconds: 1,
  maxAttempts: 2,
  retryInitialSeconds: 0.05,
  retryMaxSeconds: 0.1,
  confirmBelowConfidence: 0.6,
};

const webhookDelivery: NonNullable<AlarmOptions['webhookDelivery']> = {
  maxAttempts: 2,
  initialIntervalSeconds: 0.05,
  maxIntervalSeconds: 0.1,
  timeoutSeconds: 1,
};

/** Each model answers differently, so the verdict that stands tells who decided. */
export const primaryVerdict = modelVerdict({ engine: 'stub-primary', decision: 'Yes', confidence: 0.9 });
export const secondaryVerdict = modelVerdict({ engine: 'stub-secondary', decision: 'No', confidence: 0.8, indicators: ['authorised_activity'] });
export const unsureSecondaryVerdict = modelVerdict({ engine: 'stub-secondary', decision: 'Maybe', confidence: 0.3, indicators: ['person_present'] });

export function alarmInput(jobId: string, fields: Partial<AlarmInput> = {}): AlarmInput {
  return {
    jobId,
    accountId: 'account-1',
    cameraId: 'camera-1',
    sensitivity: 1,
    siteCategory: 'retail',
    timestamp: '2024-05-01T23:15:00',
    siteAddress: null,
    names: { groupName: null, siteName: null, zoneName: null },
    frames: [0, 1, 2].map((index) => ({ index, key: `alarms/${jobId}/${index}.jpg` })),
    maxProcessingSeconds: 0,
    hasWebhook: true,
    ...fields,
  };
}

export interface AlarmRunSetup {
  input?: Partial<AlarmInput>;
  /** The analysis worker's settings over the defaults: detection on the test worker's queue, fast webhook retries, no LLM. */
  options?: Partial<AlarmOptions>;
  stubs?: Partial<VigilActivities>;
  /** What happens to the workflow once it is started, e.g. a cancellation. */
  whileRunning?: (run: AlarmRun) => Promise<void>;
}

export interface AlarmRun {
  handle: WorkflowHandle<typeof alarmVerification>;
  stubs: StubActivities;
}

export interface EndedAlarmRun extends AlarmRun {
  ended: PromiseSettledResult<AlarmOutcome>;
}

export async function startAlarm(env: WorkflowTestEnv, setup: AlarmRunSetup = {}): Promise<AlarmRun> {
  const jobId = `job-${randomUUID()}`;
  const settings: AlarmOptions = { detectTaskQueue: env.taskQueue, webhookDelivery, ...setup.options };
  // As the API starts a job: the settings come from the worker (the workerSettings step), not from the starter.
  const stubs = env.stubActivities(jobId, { workerSettings: answers(settings), ...setup.stubs });
  const handle = await env.client.workflow.start(alarmVerification, {
    workflowId: jobId,
    taskQueue: env.taskQueue,
    args: [alarmInput(jobId, setup.input)],
  });
  return { handle, stubs };
}

/** Starts the alarm, does what the setup does to it, and waits until it has ended, either way. */
export async function runAlarm(env: WorkflowTestEnv, setup: AlarmRunSetup = {}): Promise<EndedAlarmRun> {
  const run = await startAlarm(env, setup);
  await setup.whileRunning?.(run);
  const [ended] = await Promise.allSettled([run.handle.result()]);
  return { ...run, ended: ended! };
}

async function cancelOnceDetecting({ handle, stubs }: AlarmRun): Promise<void> {
  await waitFor('detection to start', () => stubs.inputsOf('detectFrames').length > 0);
  await handle.cancel();
}

/**
 * The runs whose histories are recorded for the replay test (`record-histories.ts`), each ending with a
 * webhook delivery; the workflow tests check the same runs. Functions, so each run gets fresh stubs.
 */
export const alarmScenarios = {
  /** No LLM configured: the local rules decide. */
  local: () => ({}),
  c1: () => ({ options: { llm: llmRouting }, stubs: { askPrimaryModel: answers(primaryVerdict) } }),
  c2: () => ({
    options: { llm: llmRouting },
    stubs: { askPrimaryModel: failsWith('LLM_UNAVAILABLE'), askSecondaryModel: answers(secondaryVerdict) },
  }),
  c21: () => ({
    options: { llm: llmRouting },
    stubs: {
      askPrimaryModel: failsFirst(llmRouting.maxAttempts, 'LLM_UNAVAILABLE', answers(primaryVerdict)),
      askSecondaryModel: answers(unsureSecondaryVerdict),
    },
  }),
  cbr: () => ({
    options: { llm: llmRouting },
    stubs: { askPrimaryModel: failsWith('LLM_UNAVAILABLE'), askSecondaryModel: failsWith('LLM_TIMEOUT') },
  }),
  'max-processing-time': () => ({ input: { maxProcessingSeconds: 1 }, stubs: { detectFrames: runsUntilCancelled } }),
  cancelled: () => ({ stubs: { detectFrames: runsUntilCancelled }, whileRunning: cancelOnceDetecting }),
  'invalid-image': () => ({ stubs: { detectFrames: failsWith('INVALID_IMAGE', { nonRetryable: true }) } }),
} satisfies Record<string, () => AlarmRunSetup>;

export type AlarmScenario = keyof typeof alarmScenarios;
