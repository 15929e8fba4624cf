import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { DetectionActivities } from '../gpu-worker/activities.js';
import { VigilCrimeRate, VigilDecision, VigilStage } from '../temporal/search-attributes.js';
import type { AlarmOutcome, AlarmProgress, AlarmWorkflowInput } from './alarm-types.js';
import { deliverAlarmWebhook, type WebhookDeliveryPolicy } from './webhook-delivery.js';
import { decideAlarm, type LlmRouting } from './decision-routing.js';
import { shortSteps as alarm } from './short-steps.js';
import { jobMetrics } from './job-metrics.js';

export const progressQuery = defineQuery<AlarmProgress>('progress');

function detectionActivities(taskQueue: string) {
  return proxyActivities<DetectionActivities>({
    taskQueue,
    startToCloseTimeout: '2m',
    // Per-frame heartbeats: a worker that dies mid-event is noticed within this, and the frames go elsewhere.
    heartbeatTimeout: '10s',
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '15s',
      maximumAttempts: 8,
      nonRetryableErrorTypes: ['INVALID_IMAGE'],
    },
  });
}

export interface AlarmWorkflowOptions {
  detectTaskQueue: string;
  /** Retries of the webhook delivery; used when the input has a webhook target. */
  webhookDelivery?: WebhookDeliveryPolicy;
  /** The vision LLMs to ask (DESIGN §4); absent: the local rules decide. */
  llm?: LlmRouting;
}

type EnterStage = (stage: string) => void;

/** One alarm submission: tenancy, site time, detection, analysis, decision, storage, then its webhook. */
export async function alarmVerification(input: AlarmWorkflowInput, options: AlarmWorkflowOptions): Promise<AlarmOutcome> {
  const progress: AlarmProgress = { jobId: input.jobId, stage: 'queued', stages: [] };
  setHandler(progressQuery, () => progress);

  const enterStage: EnterStage = (stage) => {
    const now = Date.now();
    const current = progress.stages.at(-1);
    const interrupted = stage === 'failed' || stage === 'cancelled';
    if (current && current.durationMs === null) {
      current.durationMs = now - Date.parse(current.startedAt);
      // A stage cut short by a failure would skew its duration metric.
      if (!interrupted) jobMetrics.stageCompleted(current.stage, current.durationMs);
    }
    progress.stage = stage;
    const terminal = stage === 'finished' || interrupted;
    progress.stages.push({ stage, startedAt: new Date(now).toISOString(), durationMs: terminal ? 0 : null });
    upsertSearchAttributes([{ key: VigilStage, value: stage }]);
    if (terminal) jobMetrics.jobEnded(stage);
  };

  let outcome: AlarmOutcome;
  try {
    outcome = await withinProcessingTime(input.maxProcessingSeconds, () => runAnalysis(input, options, enterStage));
  } catch (error) {
    const failure = describeFailure(error);
    // The job row must end, and its failure be delivered, even when the workflow itself is being cancelled.
    await CancellationScope.nonCancellable(() =>
      alarm.failJob({ accountId: input.accountId, jobId: input.jobId, error: failure, cancelled: isCancellation(error) }),
    );
    enterStage(isCancellation(error) ? 'cancelled' : 'failed');
    await CancellationScope.nonCancellable(() => deliverOutcome(input, options));
    throw ApplicationFailure.create({ type: failure.code, message: failure.message, nonRetryable: true, cause: error instanceof Error ? error : undefined });
  }
  enterStage('finished');
  upsertSearchAttributes([
    { key: VigilDecision, value: outcome.decision },
    { key: VigilCrimeRate, value: outcome.crimeRate },
  ]);
  await deliverOutcome(input, options);
  return outcome;
}

/**
 * Runs the analysis under the job's Max-Processing-Time (DESIGN §3): when it expires, the scope's in-flight
 * activities are cancelled (detection sees it at its next heartbeat) and the job fails MAX_PROCESSING_TIME_EXCEEDED.
 */
async function withinProcessingTime<T>(seconds: number, run: () => Promise<T>): Promise<T> {
  if (!seconds) return run();
  try {
    return await CancellationScope.withTimeout(seconds * 1000, run);
  } catch (error) {
    // The deadline cancels the inner scope only; when the workflow itself is cancelled, the outer scope is too.
    if (isCancellation(error) && !CancellationScope.current().consideredCancelled) {
      throw ApplicationFailure.nonRetryable(`The job did not finish within its Max-Processing-Time of ${seconds} s.`, 'MAX_PROCESSING_TIME_EXCEEDED');
    }
    throw error;
  }
}

/** Sends the ended job's webhook, if it has a target. A delivery that fails is recorded on the delivery, never on the job. */
async function deliverOutcome(input: AlarmWorkflowInput, options: AlarmWorkflowOptions): Promise<void> {
  if (!input.hasWebhook || !options.webhookDelivery) return;
  try {
    await deliverAlarmWebhook({ accountId: input.accountId, jobId: input.jobId, deliveryId: uuid4(), trigger: 'completion' }, options.webhookDelivery);
  } catch (error) {
    log.warn('webhook delivery did not complete', { jobId: input.jobId, error: error instanceof Error ? error.message : String(error) });
  }
}

async function runAnalysis(input: AlarmWorkflowInput, options: AlarmWorkflowOptions, enterStage: EnterStage): Promise<AlarmOutcome> {
  const detect = detectionActivities(options.detectTaskQueue);
  const scope = { accountId: input.accountId, jobId: input.jobId };

  enterStage('tenancy');
  const site = await alarm.upsertTenancy({ ...scope, cameraId: input.cameraId, siteCategory: input.siteCategory, siteAddress: input.siteAddress, names: input.names });

  enterStage('site_time');
  const siteTime = await alarm.resolveSiteTime({ ...scope, site, timestamp: input.timestamp });

  enterStage('detect');
  const detections = await detect.detectFrames({ ...scope, frames: input.frames });

  enterStage('analyse');
  const analysis = await alarm.analyseFrames({ ...scope, cameraId: input.cameraId, siteCategory: site.category, frames: input.frames, detections, sensitivity: input.sensitivity });

  enterStage('decide');
  const decision = await decideAlarm(
    {
      ...scope,
      sensitivity: input.sensitivity,
      siteCategory: site.category,
      vendorTime: siteTime.vendorTime,
      frames: input.frames,
      analysis,
      frameCount: input.frames.length,
      extraIndicators: siteTime.indicators,
    },
    options.llm,
  );

  enterStage('persist');
  await alarm.persistResult({ ...scope, analysis, decision });
  return { jobId: input.jobId, crimeRate: decision.crimeRate, decision: decision.decision };
}

function describeFailure(error: unknown): { code: string; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure && cause.type) return { code: cause.type, message: cause.message };
  if (isCancellation(error)) return { code: 'CANCELLED', message: 'The job was cancelled.' };
  return { code: 'ANALYSIS_FAILED', message: `Analysis of job ${workflowInfo().workflowId} failed.` };
}
