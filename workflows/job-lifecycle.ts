import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  log,
  patched,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { JobKind } from '../domain/job-kinds.js';
import { FailureType } from '../domain/failure-types.js';
import { VigilStage } from '../temporal/search-attributes.js';
import { progressQuery, type JobFailure, type JobLifecycleInput, type JobProgress, type WorkerJobSettings } from './contracts/job.js';
import { jobMetrics } from './job-metrics.js';
import { lifecycleSteps } from './short-steps.js';
import { deliverJobWebhook } from './webhook-delivery.js';

/** What a kind's pipeline is handed: the settings it runs with, and how it reports where it is. */
export interface PipelineContext {
  settings: WorkerJobSettings;
  /** Ends the current stage (its duration goes to the metrics) and starts the next. */
  enterStage(stage: string): void;
  /** For long jobs: how much of the work is done, 0–1, shown by the `progress` query. */
  reportFraction(fraction: number): void;
}

export interface JobPipeline<Outcome> {
  kind: JobKind;
  /** The kind's stages, from the job's input to its stored result. Runs under the job's Max-Processing-Time. */
  run(context: PipelineContext): Promise<Outcome>;
  /** Once the job is finished, before its webhook: e.g. search attributes of the outcome. */
  onFinished?(outcome: Outcome): void;
}

/**
 * The lifecycle every kind of job shares: the `progress` query, the `VigilStage` search attribute and the
 * stage metrics, the Max-Processing-Time deadline, the failure stored even while the workflow is being
 * cancelled, then the webhook. A kind brings only its pipeline.
 *
 * `givenSettings` pins the worker settings (tests, and workflows started before the worker supplied them);
 * otherwise the analysis worker's are read once, at the start.
 */
export async function runJob<Outcome>(
  job: JobLifecycleInput,
  givenSettings: WorkerJobSettings | undefined,
  pipeline: JobPipeline<Outcome>,
): Promise<Outcome> {
  const progress: JobProgress = { jobId: job.jobId, kind: pipeline.kind, stage: 'queued', stages: [], fractionDone: null };
  setHandler(progressQuery, () => progress);

  const enterStage = (stage: string) => {
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
    if (stage === 'finished' && progress.fractionDone !== null) progress.fractionDone = 1;
    progress.stages.push({ stage, startedAt: new Date(now).toISOString(), durationMs: terminal ? 0 : null });
    upsertSearchAttributes([{ key: VigilStage, value: stage }]);
    if (terminal) jobMetrics.jobEnded(stage);
  };
  const reportFraction = (fraction: number) => {
    progress.fractionDone = Math.min(1, Math.max(0, fraction));
  };

  const settings = givenSettings ?? (await lifecycleSteps.workerSettings());
  let outcome: Outcome;
  try {
    outcome = await withinProcessingTime(job.maxProcessingSeconds, () => pipeline.run({ settings, enterStage, reportFraction }));
  } catch (error) {
    const failure = describeFailure(error);
    // The job row must end, and its failure be delivered, even when the workflow itself is being cancelled.
    await CancellationScope.nonCancellable(() =>
      lifecycleSteps.failJob({ accountId: job.accountId, jobId: job.jobId, error: failure, cancelled: isCancellation(error) }),
    );
    enterStage(isCancellation(error) ? 'cancelled' : 'failed');
    await CancellationScope.nonCancellable(() => deliverOutcome(job, settings));
    // A cancelled job closes as Canceled in Temporal, as its row says; workflows started before closed it as failed.
    if (isCancellation(error) && patched('cancelled-jobs-close-cancelled')) throw error;
    throw ApplicationFailure.create({ type: failure.code, message: failure.message, nonRetryable: true, cause: error instanceof Error ? error : undefined });
  }
  enterStage('finished');
  pipeline.onFinished?.(outcome);
  await deliverOutcome(job, settings);
  return outcome;
}

/**
 * Runs the pipeline under the job's Max-Processing-Time: when it expires, the scope's in-flight activities are
 * cancelled (a heartbeating activity sees it at its next heartbeat) and the job fails MAX_PROCESSING_TIME_EXCEEDED.
 */
async function withinProcessingTime<T>(seconds: number, run: () => Promise<T>): Promise<T> {
  if (!seconds) return run();
  try {
    return await CancellationScope.withTimeout(seconds * 1000, run);
  } catch (error) {
    // The deadline cancels the inner scope only; when the workflow itself is cancelled, the outer scope is too.
    if (isCancellation(error) && !CancellationScope.current().consideredCancelled) {
      throw ApplicationFailure.nonRetryable(
        `The job did not finish within its Max-Processing-Time of ${seconds} s.`,
        FailureType.MaxProcessingTimeExceeded,
      );
    }
    throw error;
  }
}

/** Sends the ended job's webhook, if it has a target. A delivery that fails is recorded on the delivery, never on the job. */
async function deliverOutcome(job: JobLifecycleInput, settings: WorkerJobSettings): Promise<void> {
  if (!job.hasWebhook) return;
  try {
    await deliverJobWebhook({ accountId: job.accountId, jobId: job.jobId, deliveryId: uuid4(), trigger: 'completion' }, settings.webhookDelivery);
  } catch (error) {
    log.warn('webhook delivery did not complete', { jobId: job.jobId, error: error instanceof Error ? error.message : String(error) });
  }
}

function describeFailure(error: unknown): JobFailure {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure && cause.type) return { code: cause.type, message: cause.message };
  if (isCancellation(error)) return { code: FailureType.Cancelled, message: 'The job was cancelled.' };
  return { code: FailureType.AnalysisFailed, message: `Analysis of job ${workflowInfo().workflowId} failed.` };
}
