import Koa from 'koa';
import type { Router } from '@koa/router';
import type { Client } from '@temporalio/client';
import type { Config } from '../config/index.js';
import type { Db } from '../db/database.js';
import { AccountRepository } from '../db/repositories/accounts.js';
import type { SecretKeyring } from '../domain/secret-keyring.js';
import type { MediaStore } from '../media/store.js';
import type { Logger } from '../logging/logger.js';
import { createApiMetrics, type ApiMetrics } from '../observability/metrics.js';
import { alarmRoutes } from './alarms/routes.js';
import { classificationRoutes } from './classify/routes.js';
import { refuseQueryTokenOffGet } from './auth.js';
import { refuseControlCharactersInPathParameters, refuseControlCharactersInQuery } from './control-characters.js';
import { detectionRoutes } from './detections/routes.js';
import { docsRoutes } from './docs/routes.js';
import { faceRoutes } from './faces/routes.js';
import type { LazyFaceAnalyser } from '../gpu-worker/faces.js';
import type { LazyTextReader } from '../gpu-worker/ocr.js';
import { ApiError, errorEnvelope } from './errors.js';
import { healthRoutes } from './health/routes.js';
import { httpMetrics } from './http-metrics.js';
import { imageRoutes } from './images/routes.js';
import { jobRoutes } from './jobs/routes.js';
import { latencyRoutes } from './latency/routes.js';
import { metricsRoutes } from './metrics/routes.js';
import { buildOpenApiDocument } from './openapi.js';
import { UploadMemory } from './upload-memory.js';
import { videoRoutes } from './videos/routes.js';
import { deliveryRoutes } from './webhooks/routes.js';
import { vmsRoutes } from './vms/routes.js';

export interface ApiDeps {
  config: Config;
  db: Db;
  media: MediaStore;
  temporal: Client;
  logger: Logger;
  /** Seals the webhook secrets submissions bring. */
  secrets: SecretKeyring;
  /** This process's registry, served at GET /metrics; one of its own when not given. */
  metrics?: ApiMetrics;
  /** The face models for allowlist photos, opened on first use; without them the allowlist POST answers 503. */
  faces?: LazyFaceAnalyser;
  /** The text models for plates in enrichment, opened on first use. */
  text?: LazyTextReader;
}

export function createApp(deps: ApiDeps): Koa {
  const app = new Koa({ proxy: true });
  const metrics = deps.metrics ?? createApiMetrics();
  // Outermost: requests are counted with the status the error envelope gave them.
  app.use(httpMetrics(metrics));
  app.use(errorEnvelope(deps.logger));
  app.use(refuseQueryTokenOffGet);
  app.use(refuseControlCharactersInQuery);
  for (const router of apiRouters({ ...deps, metrics })) {
    refuseControlCharactersInPathParameters(router);
    app.use(router.routes()).use(router.allowedMethods());
  }
  return app;
}

/** Every router of the API, in the order they are tried; the OpenAPI document covers each of their routes. */
export function apiRouters({ config, db, media, temporal, logger, secrets, metrics, faces, text }: ApiDeps & { metrics: ApiMetrics }): Router[] {
  const accounts = new AccountRepository(db);
  const uploadMemory = new UploadMemory(config.api.uploadMemoryBytes, metrics.uploadBytesHeld);
  return [
    healthRoutes({ db, temporal, media }),
    metricsRoutes(metrics.registry),
    docsRoutes(buildOpenApiDocument()),
    alarmRoutes({
      db,
      accounts,
      media,
      temporal,
      logger,
      metrics,
      uploadMemory,
      maxImageBytes: config.api.maxImageBytes,
      cooldownSeconds: config.api.alarmCooldownSeconds,
      exportLockSeconds: config.api.exportLockSeconds,
      analysisTaskQueue: config.temporal.analysisTaskQueue,
      maxProcessingSeconds: config.api.maxProcessingSeconds,
      allowPrivateWebhooks: config.webhooks.allowPrivate,
      secrets,
    }),
    classificationRoutes({
      db,
      accounts,
      media,
      temporal,
      logger,
      metrics,
      uploadMemory,
      maxImageBytes: config.api.maxImageBytes,
      maxClipBytes: config.classification.maxClipBytes,
      analysisTaskQueue: config.temporal.analysisTaskQueue,
      maxProcessingSeconds: config.api.maxProcessingSeconds,
      syncWaitSeconds: config.classification.syncWaitSeconds,
      allowPrivateWebhooks: config.webhooks.allowPrivate,
      secrets,
    }),
    videoRoutes({
      db,
      accounts,
      media,
      temporal,
      logger,
      metrics,
      analysisTaskQueue: config.temporal.analysisTaskQueue,
      maxProcessingSeconds: config.api.maxProcessingSeconds,
      allowPrivateWebhooks: config.webhooks.allowPrivate,
      secrets,
      maxVideoBytes: config.video.maxBytes,
      maxVideoSeconds: config.video.maxSeconds,
      sampleFps: config.video.sampleFps,
      chunkSeconds: config.video.chunkSeconds,
    }),
    ...deliveryRoutes({ db, accounts, temporal, logger, analysisTaskQueue: config.temporal.analysisTaskQueue, secrets }),
    detectionRoutes({
      db,
      accounts,
      media,
      logger,
      rateLimits: config.api.rateLimits,
      ...(faces && text ? { visual: { faces: () => faces.get(), text: () => text.get() } } : {}),
    }),
    jobRoutes({ db, accounts, media, temporal, logger }),
    imageRoutes({
      db,
      accounts,
      media,
      temporal,
      logger,
      metrics,
      secrets,
      analysisTaskQueue: config.temporal.analysisTaskQueue,
      maxImages: config.imageBatches.maxImages,
      maxImageBytes: config.api.maxImageBytes,
      maxBodyBytes: config.imageBatches.maxBodyBytes,
      maxProcessingSeconds: config.api.maxProcessingSeconds,
      allowPrivateWebhooks: config.webhooks.allowPrivate,
    }),
    latencyRoutes({ db, accounts, window: config.latency }),
    faceRoutes({
      db,
      accounts,
      logger,
      uploadMemory,
      maxImageBytes: config.api.maxImageBytes,
      describer: () => faces?.get() ?? Promise.reject(new ApiError(503, 'SERVICE_UNAVAILABLE', 'This API process has no face models.')),
    }),
    vmsRoutes({
      db,
      accounts,
      media,
      temporal,
      logger,
      metrics,
      uploadMemory,
      maxImageBytes: config.api.maxImageBytes,
      maxEventBytes: config.vms.maxEventBytes,
      analysisTaskQueue: config.temporal.analysisTaskQueue,
      vms: config.vms,
    }),
  ];
}
