import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { Worker, type NativeConnection, type WorkflowBundle } from '@temporalio/worker';
import { createAlarmActivities } from '../activities/alarm.js';
import { createImageBatchActivities } from '../activities/image-batch.js';
import { createClassificationActivities } from '../activities/classification.js';
import { filterSettingsFor } from '../domain/filters.js';
import { createJobLifecycleActivities, workerJobSettingsOf } from '../activities/job-lifecycle.js';
import { createLlmActivities } from '../activities/llm.js';
import { createRetentionActivities } from '../activities/retention.js';
import { createVmsActivities } from '../activities/vms.js';
import { createVideoActivities, createVideoStepActivities } from '../activities/video.js';
import { createWebhookActivities } from '../activities/webhook.js';
import type { Config } from '../config/index.js';
import type { Db } from '../db/database.js';
import { WebhookRepository } from '../db/repositories/webhooks.js';
import type { SecretKeyring } from '../domain/secret-keyring.js';
import type { MediaStore } from '../media/store.js';
import type { Logger } from '../logging/logger.js';
import { jobMetricsSinks } from '../observability/job-metrics-sinks.js';
import { createAnalysisWorkerMetrics, type AnalysisWorkerMetrics } from '../observability/metrics.js';
import { ensureRetentionSchedule } from './retention-schedule.js';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export interface AnalysisWorkerDeps {
  config: Config;
  connection: NativeConnection;
  db: Db;
  media: MediaStore;
  logger: Logger;
  /** Opens the webhook secrets it signs with. */
  secrets: SecretKeyring;
  /** Where its jobs, stages, webhooks, LLM calls and slots are counted; a registry of its own when not given. */
  metrics?: AnalysisWorkerMetrics;
  /** A pre-built bundle (tests build it once); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkflowBundle;
}

/**
 * The `vigil-analysis` worker: every workflow and the CPU activities. Its start also ensures the retention
 * schedule and seals the webhook secrets stored before secrets were sealed (the migration could not: it has no key).
 */
export async function createAnalysisWorker({
  config,
  connection,
  db,
  media,
  logger,
  secrets,
  metrics = createAnalysisWorkerMetrics(),
  workflowBundle,
}: AnalysisWorkerDeps): Promise<Worker> {
  await ensureRetentionSchedule(new Client({ connection, namespace: config.temporal.namespace }), config);
  const sealed = await new WebhookRepository(db, secrets).resealSecrets('plaintext');
  if (sealed > 0) logger.info({ sealed, keyId: secrets.currentKeyId }, 'webhook secrets stored in plain text are now sealed');
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.analysisTaskQueue,
    ...(workflowBundle ? { workflowBundle } : { workflowsPath }),
    activities: {
      ...createJobLifecycleActivities({ db, logger, settings: workerJobSettingsOf(config) }),
      ...createAlarmActivities({ db, media, logger, businessHours: config.businessHours, filterOverrides: config.filterOverrides }),
      ...createWebhookActivities({ db, logger, webhooks: config.webhooks, secrets, metrics }),
      ...createLlmActivities({ llm: config.llm, media, logger, businessHours: config.businessHours, metrics }),
      ...createRetentionActivities({ db, media, logger }),
      ...createImageBatchActivities({ db, logger, tagMinProbability: config.imageBatches.tagMinProbability }),
      ...createClassificationActivities({
        db,
        media,
        logger,
        sampling: config.classification.sampling,
        filterSettings: filterSettingsFor(undefined, config.filterOverrides),
        detectorModel: config.detector.model,
      }),
      ...createVmsActivities({ db, media, logger, secrets }),
      ...createVideoActivities({ db, media, logger, criticalTags: config.video.criticalTags }),
      ...createVideoStepActivities({ db, media }),
    },
    sinks: jobMetricsSinks(metrics),
    maxConcurrentActivityTaskExecutions: config.temporal.analysisConcurrency,
    // The workflows' short steps (tenancy, analysis, storage) are local activities: bounded alike.
    maxConcurrentLocalActivityExecutions: config.temporal.analysisConcurrency,
    // A deadline or cancellation reaches a model call only with a heartbeat's answer: soon, not at 80 % of its timeout.
    maxHeartbeatThrottleInterval: '500ms',
  });
  metrics.trackWorker(worker, config.temporal.analysisTaskQueue, config.temporal.analysisConcurrency, config.temporal.analysisConcurrency);
  return worker;
}
