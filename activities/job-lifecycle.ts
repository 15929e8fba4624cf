import type { Config } from '../config/index.js';
import type { Db } from '../db/database.js';
import { JobRepository } from '../db/repositories/jobs.js';
import type { Logger } from '../logging/logger.js';
import type { JobFailure, LlmRouting, WorkerJobSettings } from '../workflows/contracts/job.js';
import { jobLogger } from './job-logger.js';

export interface JobLifecycleActivityDeps {
  db: Db;
  logger: Logger;
  settings: WorkerJobSettings;
}

/** The analysis worker's settings every new job runs with: the detection queue, webhook retries, LLM routing. */
export function workerJobSettingsOf(config: Config): WorkerJobSettings {
  return { detectTaskQueue: config.temporal.detectTaskQueue, webhookDelivery: config.webhooks.delivery, llm: llmRoutingOf(config) };
}

function llmRoutingOf({ llm }: Config): LlmRouting | undefined {
  if (!llm.primary) return undefined;
  return {
    secondary: llm.secondary !== null,
    timeoutSeconds: llm.timeoutSeconds,
    maxAttempts: llm.maxAttempts,
    retryInitialSeconds: llm.retryInitialSeconds,
    retryMaxSeconds: llm.retryMaxSeconds,
    confirmBelowConfidence: llm.confirmBelowConfidence,
  };
}

/** The steps of the job lifecycle (workflows/job-lifecycle.ts) that touch the world, for every kind. */
export function createJobLifecycleActivities({ db, logger, settings }: JobLifecycleActivityDeps) {
  const jobs = new JobRepository(db);
  return {
    /** Read once when a workflow starts: it keeps these settings even if the worker's configuration changes meanwhile. */
    async workerSettings(): Promise<WorkerJobSettings> {
      return settings;
    },

    /** Ends a job that failed or was cancelled; a job that had already ended stays as it was. */
    async failJob({ accountId, jobId, error, cancelled }: { accountId: string; jobId: string; error: JobFailure; cancelled: boolean }): Promise<void> {
      const ended = await jobs.fail(accountId, jobId, error, cancelled ? 'cancelled' : 'failed');
      jobLogger(logger, { jobId, accountId }).warn({ code: error.code, ended }, 'job failed');
    },
  };
}

export type JobLifecycleActivities = ReturnType<typeof createJobLifecycleActivities>;
