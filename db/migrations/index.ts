import type { Migration } from 'kysely';
import * as initial from './20261122T1530-initial.js';
import * as webhooks from './20261122T1600-webhooks.js';
import * as detectionsApi from './20261122T1610-detections-api.js';
import * as jobRetention from './20261202T1000-job-retention.js';
import * as jobKinds from './20261202T1200-job-kinds.js';
import * as idempotentAnswers from './20261202T1300-idempotent-answers.js';
import * as sealedWebhookSecrets from './20261202T1310-sealed-webhook-secrets.js';
import * as videoAnalysis from './20261202T1451-video-analysis.js';

/** Every migration, keyed by its timestamped name; kysely applies them in name order. */
export const migrations: Record<string, Migration> = {
  '20261122T1530-initial': initial,
  '20261122T1600-webhooks': webhooks,
  '20261122T1610-detections-api': detectionsApi,
  '20261202T1000-job-retention': jobRetention,
  '20261202T1200-job-kinds': jobKinds,
  '20261202T1300-idempotent-answers': idempotentAnswers,
  '20261202T1310-sealed-webhook-secrets': sealedWebhookSecrets,
  '20261202T1451-video-analysis': videoAnalysis,
};
