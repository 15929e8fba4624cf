import type { Migration } from 'kysely';
import * as initial from './20261122T1530-initial.js';
import * as webhooks from './20261122T1600-webhooks.js';
import * as detectionsApi from './20261122T1610-detections-api.js';
import * as jobRetention from './20261202T1000-job-retention.js';
import * as jobKinds from './20261202T1200-job-kinds.js';
import * as idempotentAnswers from './20261202T1300-idempotent-answers.js';
import * as sealedWebhookSecrets from './20261202T1310-sealed-webhook-secrets.js';
import * as integerDetectionIds from './20261202T1446-integer-detection-ids.js';
import * as parkedDetections from './20261202T1527-parked-detections.js';
import * as imageBatches from './20261202T1500-image-batches.js';
import * as faces from './20261202T1515-faces.js';
import * as classificationThresholds from './20261202T1448-classification-thresholds.js';
import * as vmsEvents from './20261202T1445-vms-events.js';
import * as videoAnalysis from './20261202T1451-video-analysis.js';
import * as facesTextMedia from './20261203T0630-faces-text-media.js';
import * as vmsIngestSignals from './20261203T0640-vms-ingest-signals.js';
import * as faceresDescriptors from './20261203T1300-faceres-descriptors.js';
import * as detectionsIndexedPerEvent from './20261203T1600-detections-indexed-per-event.js';

/** Every migration, keyed by its timestamped name; kysely applies them in name order. */
export const migrations: Record<string, Migration> = {
  '20261122T1530-initial': initial,
  '20261122T1600-webhooks': webhooks,
  '20261122T1610-detections-api': detectionsApi,
  '20261202T1000-job-retention': jobRetention,
  '20261202T1200-job-kinds': jobKinds,
  '20261202T1300-idempotent-answers': idempotentAnswers,
  '20261202T1310-sealed-webhook-secrets': sealedWebhookSecrets,
  '20261202T1445-vms-events': vmsEvents,
  '20261202T1446-integer-detection-ids': integerDetectionIds,
  '20261202T1448-classification-thresholds': classificationThresholds,
  '20261202T1451-video-analysis': videoAnalysis,
  '20261202T1500-image-batches': imageBatches,
  '20261202T1515-faces': faces,
  '20261202T1527-parked-detections': parkedDetections,
  '20261203T0630-faces-text-media': facesTextMedia,
  '20261203T0640-vms-ingest-signals': vmsIngestSignals,
  '20261203T1300-faceres-descriptors': faceresDescriptors,
  '20261203T1600-detections-indexed-per-event': detectionsIndexedPerEvent,
};
