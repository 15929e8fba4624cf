import { defineQuery } from '@temporalio/workflow';
import type { JobKind } from '../../domain/job-kinds.js';

/** What every job's workflow shares, whatever its kind: the lifecycle's input, its progress query and its settings. */

/** The lifecycle's part of a job's workflow input. Identifiers only, never media bytes nor webhook secrets. */
export interface JobLifecycleInput {
  jobId: string;
  accountId: string;
  /** Max-Processing-Time in seconds; 0: no limit. */
  maxProcessingSeconds: number;
  /** Whether the job had a webhook target (its own or the account's default) when it was submitted. */
  hasWebhook: boolean;
}

export interface StageTiming {
  stage: string;
  startedAt: string;
  durationMs: number | null;
}

/** The `progress` query's answer. */
export interface JobProgress {
  jobId: string;
  kind: JobKind;
  /** queued, then the pipeline's stages, then finished, failed or cancelled. */
  stage: string;
  stages: StageTiming[];
  /** 0–1, for pipelines that report it (long jobs); null for the others. */
  fractionDone: number | null;
}

export const progressQuery = defineQuery<JobProgress>('progress');

/** How webhook attempts are retried (the WEBHOOK_* settings). */
export interface WebhookDeliveryPolicy {
  maxAttempts: number;
  initialIntervalSeconds: number;
  maxIntervalSeconds: number;
  /** One HTTP attempt. */
  timeoutSeconds: number;
}

/** The LLM settings a workflow runs with, fixed when it starts. Absent: no LLM, the local rules decide. */
export interface LlmRouting {
  secondary: boolean;
  timeoutSeconds: number;
  maxAttempts: number;
  retryInitialSeconds: number;
  retryMaxSeconds: number;
  confirmBelowConfidence: number;
}

/**
 * Settings that belong to the analysis worker's configuration, read once by each workflow when it starts
 * (the `workerSettings` local activity), so a running job keeps the ones it started with.
 */
export interface WorkerJobSettings {
  detectTaskQueue: string;
  webhookDelivery: WebhookDeliveryPolicy;
  llm?: LlmRouting;
}

export interface JobFailure {
  code: string;
  message: string;
}
