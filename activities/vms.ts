import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../db/database.js';
import { JobRepository } from '../db/repositories/jobs.js';
import { VmsRepository, type WindowFrame } from '../db/repositories/vms.js';
import { WebhookRepository } from '../db/repositories/webhooks.js';
import type { VmsIncidentResult } from '../db/schema.js';
import { FailureType } from '../domain/failure-types.js';
import type { SecretKeyring } from '../domain/secret-keyring.js';
import { forwardedEventOf, maxIncidentSnapshots, verdictOf, vmsForwardTargetName, type VmsEventType, type VmsVerdict, type VmsWebhookEventType } from '../domain/vms-events.js';
import type { Logger } from '../logging/logger.js';
import type { MediaStore } from '../media/store.js';
import type { FrameRef } from '../workflows/contracts/alarm-verification.js';
import { storedDetectionsOf, type DecisionResult, type FrameAnalysis } from './alarm.js';
import { jobLogger } from './job-logger.js';
import { loadVmsIncidentDocument } from './vms-incident-document.js';

export interface VmsActivityDeps {
  db: Db;
  media: MediaStore;
  logger: Logger;
  /** Opens nothing here; the webhook repository needs it to resolve targets. */
  secrets: SecretKeyring;
}

interface IncidentScope {
  accountId: string;
  incidentId: string;
}

/** The snapshots a verification runs on: frame refs numbered by their place in the window, as the detector and filters expect. */
export interface IncidentWindow {
  cameraId: string;
  frames: FrameRef[];
  window: WindowFrame[];
  totalFrames: number;
  /** Snapshots arrived since the last verification. */
  fresh: boolean;
}

/** `X-Webhook-Id` of one message that is not a job's outcome: the same for every attempt of it. */
function messageId(type: VmsWebhookEventType, subject: string, sequence: number): string {
  return `whk_${createHash('sha256').update(`${type}\n${subject}\n${sequence}`, 'utf8').digest('hex').slice(0, 32)}`;
}

/** The delivery-log id of a camera's health messages (deliveries are kept per job id or, here, per camera). */
export function cameraDeliverySubject(cameraId: string): string {
  return `vms_camera_${cameraId}`;
}

/** The VMS incident and camera-watch steps: database reads and writes, and recording their webhooks. */
export function createVmsActivities({ db, media, logger, secrets }: VmsActivityDeps) {
  const jobs = new JobRepository(db);
  const vms = new VmsRepository(db);
  const deliveries = new WebhookRepository(db, secrets);

  async function recordDelivery(input: {
    accountId: string;
    subject: string;
    deliveryId: string;
    type: VmsWebhookEventType;
    sequence: number;
    payload: unknown;
    /** Another target than the subject's own or the account's default. */
    targetId?: string;
  }): Promise<boolean> {
    const targetId = input.targetId ?? (await deliveries.resolveTargetId(input.accountId, input.subject));
    if (!targetId) return false;
    await deliveries.createDelivery({
      id: input.deliveryId,
      accountId: input.accountId,
      jobId: input.subject,
      targetId,
      webhookId: messageId(input.type, input.subject, input.sequence),
      eventType: input.type,
      trigger: 'completion',
      payload: JSON.stringify(input.payload),
    });
    return true;
  }

  return {
    /**
     * Marks the incident's job running; waits while the event that opened it is still being stored. `closed` for an
     * incident already closed (a late signal started its workflow again), `missing` for one that never committed.
     */
    async beginVmsIncident({ accountId, incidentId }: IncidentScope): Promise<'open' | 'closed' | 'missing'> {
      const job = await jobs.markRunning(accountId, incidentId);
      if (job) return 'open';
      return (await jobs.get(accountId, incidentId)) ? 'closed' : 'missing';
    },

    /** The incident's latest snapshots (at most 8), and whether any arrived since the last verification. */
    async vmsIncidentWindow({ accountId, incidentId }: IncidentScope): Promise<IncidentWindow | null> {
      const found = await vms.verificationWindow(accountId, incidentId, maxIncidentSnapshots);
      if (!found) return null;
      return {
        cameraId: found.cameraId,
        frames: found.frames.map((frame, position) => ({ index: position, key: frame.key })),
        window: found.frames,
        totalFrames: found.totalFrames,
        fresh: found.totalFrames > found.verifiedFrames,
      };
    },

    /** Stores a verification's detections (on the window's snapshots) and the verdict; returns the verdict. */
    async recordVmsVerification({
      accountId,
      incidentId,
      window,
      analysis,
      decision,
    }: IncidentScope & { window: IncidentWindow; analysis: Pick<FrameAnalysis, 'kept' | 'removed'>; decision: DecisionResult }): Promise<VmsVerdict> {
      const verdict = verdictOf(decision.decision);
      const result: VmsIncidentResult = {
        verdict,
        decision: decision.decision,
        crime_rate: decision.crimeRate,
        ai_description: decision.description,
        ai_decision_indicators: decision.indicators,
      };
      await vms.recordVerification({ accountId, incidentId, window: window.window, totalFrames: window.totalFrames, verdict, result, detections: storedDetectionsOf(analysis) });
      jobLogger(logger, { jobId: incidentId, accountId }).info({ verdict, decision: decision.decision, snapshots: window.frames.length }, 'vms incident verified');
      return verdict;
    },

    /** Records on the incident why its verification failed (VERIFICATION_FAILED), until one succeeds. */
    async recordVmsVerificationFailure({ accountId, incidentId, message }: IncidentScope & { message: string }): Promise<void> {
      await vms.recordVerificationFailure(accountId, incidentId, message);
      jobLogger(logger, { jobId: incidentId, accountId }).warn({ failure: message }, 'vms incident verification failed');
    },

    /** Records a `vms_incident.verified` delivery of the incident as it is now; false when the account has no webhook. */
    async prepareVmsIncidentDelivery({ accountId, incidentId, deliveryId, sequence }: IncidentScope & { deliveryId: string; sequence: number }): Promise<boolean> {
      const document = await loadVmsIncidentDocument(db, accountId, incidentId);
      if (!document) throw ApplicationFailure.nonRetryable(`Incident ${incidentId} not found.`, FailureType.UnknownJob);
      const type = 'vms_incident.verified';
      return recordDelivery({ accountId, subject: incidentId, deliveryId, type, sequence, payload: { type, job_id: incidentId, data: document } });
    },

    /**
     * Records the forwarding of a confirmed incident to the account's VMS/PSIM target, in the VMS's own schema with
     * Vigil's detections and the snapshot they were found on; false when the account forwards nowhere.
     */
    async prepareVmsForward({ accountId, incidentId, deliveryId }: IncidentScope & { deliveryId: string }): Promise<boolean> {
      const targetId = await deliveries.namedTargetId(accountId, vmsForwardTargetName);
      if (!targetId) return false;
      const document = await loadVmsIncidentDocument(db, accountId, incidentId);
      if (!document) throw ApplicationFailure.nonRetryable(`Incident ${incidentId} not found.`, FailureType.UnknownJob);
      // The latest snapshot on which Vigil kept a target.
      const event = document.events.findLast((e) => e.snapshot !== null && e.vigil_detections.some((d) => d.kept));
      if (!event?.snapshot || document.type === 'UNKNOWN') return false;
      const frame = (await jobs.frames(accountId, incidentId)).find((f) => f.frame_index === event.snapshot!.frame_index);
      if (!frame) return false;
      const payload = forwardedEventOf({
        eventId: `${incidentId}@vigil`,
        timestampMs: Date.now(),
        displayName: document.display_name,
        type: document.type as Exclude<VmsEventType, 'UNKNOWN'>,
        configId: document.config_id,
        camera: {
          cameraId: document.camera.camera_id,
          displayName: document.camera.display_name,
          technicalName: document.camera.technical_name,
          width: frame.width,
          height: frame.height,
          frameTimestampMs: event.frame_timestamp ? Date.parse(event.frame_timestamp) : null,
        },
        detections: event.vigil_detections
          .filter((d) => d.kept)
          .map((d) => ({ label: d.object_type, score: d.confidence, box: d.box as [number, number, number, number] })),
        snapshotBase64: (await media.get(frame.media_key)).toString('base64'),
      });
      return recordDelivery({ accountId, subject: incidentId, deliveryId, type: 'vms_incident.forwarded', sequence: 1, payload, targetId });
    },

    /** Closes the incident and ends its job (its `vms_incident.finished` webhook follows). */
    async closeVmsIncident({ accountId, incidentId }: IncidentScope): Promise<boolean> {
      const closed = await vms.closeIncident(accountId, incidentId);
      jobLogger(logger, { jobId: incidentId, accountId }).info({ closed }, 'vms incident closed');
      return closed;
    },

    /** Records the camera's status; false when it already had it. */
    async setVmsCameraStatus({ accountId, cameraId, status }: { accountId: string; cameraId: string; status: 'online' | 'offline' }): Promise<boolean> {
      return vms.setCameraStatus(accountId, cameraId, status);
    },

    /**
     * Marks the camera offline when it has been silent for `offlineAfterSeconds` (`marked`); otherwise says how long
     * it has been silent, so its watch waits for the rest. Null for a camera that is gone.
     */
    async markVmsCameraOfflineIfSilent({
      accountId,
      cameraId,
      offlineAfterSeconds,
    }: {
      accountId: string;
      cameraId: string;
      offlineAfterSeconds: number;
    }): Promise<{ marked: boolean; silentMs: number } | null> {
      return (await vms.markCameraOfflineIfSilent(accountId, cameraId, offlineAfterSeconds)) ?? null;
    },

    /** Records a `camera.offline` or `camera.online` delivery; false when the account has no webhook. */
    async prepareVmsCameraDelivery({
      accountId,
      cameraId,
      deliveryId,
      status,
      sequence,
    }: {
      accountId: string;
      cameraId: string;
      deliveryId: string;
      status: 'online' | 'offline';
      sequence: number;
    }): Promise<boolean> {
      const camera = await vms.camera(accountId, cameraId);
      if (!camera) return false;
      const type = status === 'offline' ? 'camera.offline' : 'camera.online';
      return recordDelivery({
        accountId,
        subject: cameraDeliverySubject(cameraId),
        deliveryId,
        type,
        sequence,
        payload: {
          type,
          data: {
            camera_id: camera.vms_camera_id,
            technical_name: camera.technical_name,
            display_name: camera.display_name,
            status: camera.status,
            last_seen_at: camera.last_seen_at.toISOString(),
            status_changed_at: camera.status_changed_at.toISOString(),
          },
        },
      });
    },
  };
}

export type VmsActivities = ReturnType<typeof createVmsActivities>;
