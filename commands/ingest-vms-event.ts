import { randomBytes, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Db } from '../db/database.js';
import { VmsRepository } from '../db/repositories/vms.js';
import { jobIdOf } from '../domain/identifiers.js';
import type { VmsDetection, VmsEventType } from '../domain/vms-events.js';
import { InvalidImageError } from '../media/image.js';
import { probeJpegHeader } from '../media/jpeg-header.js';
import { jobMediaPrefix, type MediaStore } from '../media/store.js';
import type { Logger } from '../logging/logger.js';
import { VigilAccount, VigilJobKind, VigilStage } from '../temporal/search-attributes.js';
import { vmsCameraWatchId, vmsCameraHeardSignal, vmsIncidentCloseSignal, vmsIncidentUpdatedSignal } from '../workflows/contracts/vms-incident.js';
import { vmsCameraWatch, vmsIncident } from '../workflows/index.js';
import type { Refusal } from './job-acceptance.js';

/** One camera's part of a VMS event, as the API parsed it. */
export interface VmsCameraRecord {
  cameraId: string;
  displayName: string;
  technicalName: string;
  width: number | null;
  height: number | null;
  /** Epoch milliseconds. */
  frameTimestamp: number | null;
  detections: VmsDetection[];
  /** The JPEG bytes, when the event carried a snapshot. */
  snapshot: Buffer | null;
}

/** A VMS event (Ultinous AI Suite schema) whatever its transport. */
export interface VmsEvent {
  id: string;
  /** Epoch milliseconds. */
  timestamp: number | null;
  displayName: string;
  type: VmsEventType;
  configId: string;
  /** The schema's deprecated flag: a message that only says the camera is alive. */
  heartbeat: boolean;
  schemaVersion: number | null;
  endOfEvent: boolean;
  numOfPeople: number | null;
  /** The key of the event's detail block (`intrusion_detection_details`, …), null for UNKNOWN. */
  detailKey: string | null;
  sources: VmsCameraRecord[];
  /** The event as received, every field kept, snapshots left out. */
  document: Record<string, unknown>;
}

export interface VmsSettings {
  /** Verifications of an open incident are at least this far apart. */
  reverifySeconds: number;
  /** Silence after which a camera is offline. */
  offlineAfterSeconds: number;
  /** How long a snapshot PUT before its event waits for it. */
  snapshotWaitSeconds: number;
}

export interface IngestDeps {
  db: Db;
  media: MediaStore;
  temporal: Client;
  logger: Logger;
  analysisTaskQueue: string;
  vms: VmsSettings;
}

export interface IngestAccount {
  accountId: string;
  accountName: string;
}

export type IngestOutcome =
  | { outcome: 'accepted'; eventId: string; incidentIds: string[]; closedIncidentIds: string[] }
  | { outcome: 'duplicate'; eventId: string }
  | { outcome: 'refused'; refusal: Refusal<'INVALID_IMAGE'> };

interface CheckedSnapshot {
  bytes: Buffer;
  width: number;
  height: number;
}

/** What a transaction did that Temporal must hear of once it can commit. */
interface Touched {
  incidents: Set<string>;
  closing: Set<string>;
  cameras: Set<string>;
}

/**
 * Stores a VMS event and its consequences in one transaction: the event once per id, its cameras seen, the
 * incidents it opens or joins with the VMS's boxes and its snapshots (sent inline, or PUT earlier and held),
 * the incidents an end-of-event message closes. Before the commit it signals (starting where needed) each
 * incident's workflow and each camera's watch; verification runs there, never here.
 */
export async function ingestVmsEvent(deps: IngestDeps, account: IngestAccount, event: VmsEvent): Promise<IngestOutcome> {
  const snapshots: (CheckedSnapshot | null)[] = [];
  for (const [index, source] of event.sources.entries()) {
    if (!source.snapshot) {
      snapshots.push(null);
      continue;
    }
    const checked = checkSnapshot(source.snapshot);
    if ('code' in checked) return { outcome: 'refused', refusal: { ...checked, field: snapshotField(event, index) } };
    snapshots.push(checked);
  }

  const written: string[] = [];
  const takenPending: string[] = [];
  try {
    const outcome = await deps.db.transaction().execute(async (trx): Promise<IngestOutcome> => {
      const vms = new VmsRepository(trx);
      const receivedAt = new Date();
      await vms.lockEventId(account.accountId, event.id);
      const eventRowId = await vms.insertEvent({
        accountId: account.accountId,
        eventId: event.id,
        type: event.type,
        displayName: event.displayName,
        configId: event.configId,
        endOfEvent: event.endOfEvent,
        eventTime: event.timestamp === null ? null : new Date(event.timestamp),
        payload: event.document,
      });
      if (!eventRowId) return { outcome: 'duplicate', eventId: event.id };
      const touched: Touched = { incidents: new Set(), closing: new Set(), cameras: new Set() };

      for (const [index, source] of event.sources.entries()) {
        const cameraId = await vms.sawCamera(account.accountId, {
          vmsCameraId: source.cameraId,
          technicalName: source.technicalName,
          displayName: source.displayName,
          seenAt: receivedAt,
        });
        touched.cameras.add(cameraId);
        if (event.heartbeat || event.endOfEvent || event.type === 'UNKNOWN' || source.detections.length === 0) continue;

        const { incidentId } = await vms.openOrJoinIncident({
          id: jobIdOf('vms_incident', randomBytes(12).toString('hex')),
          accountId: account.accountId,
          cameraId,
          configId: event.configId,
          type: event.type,
          vmsCameraId: source.cameraId,
          displayName: event.displayName,
        });
        touched.incidents.add(incidentId);
        await vms.addIncidentEvent({
          accountId: account.accountId,
          incidentId,
          eventRowId,
          technicalName: source.technicalName,
          frameTimestamp: source.frameTimestamp === null ? null : new Date(source.frameTimestamp),
          width: source.width,
          height: source.height,
          vmsDetections: source.detections,
          receivedAt,
        });
        let snapshot = snapshots[index] ?? null;
        if (!snapshot) {
          const pendingKey = await vms.takePendingSnapshot(account.accountId, event.id, source.technicalName, deps.vms.snapshotWaitSeconds);
          if (pendingKey) {
            takenPending.push(pendingKey);
            const checked = checkSnapshot(await deps.media.get(pendingKey));
            if (!('code' in checked)) snapshot = checked;
          }
        }
        if (snapshot) {
          const bytes = snapshot;
          await vms.attachSnapshot({
            accountId: account.accountId,
            incidentId,
            eventRowId,
            frame: {
              format: 'jpeg',
              width: bytes.width,
              height: bytes.height,
              bytes: bytes.bytes.length,
              mediaKeyOf: async (frameIndex) => {
                const key = snapshotKey(incidentId, frameIndex);
                written.push(key);
                await deps.media.put(key, bytes.bytes);
                return key;
              },
            },
          });
        }
      }

      if (event.endOfEvent && !event.heartbeat && event.type !== 'UNKNOWN') {
        for (const incidentId of await vms.openIncidentsNamed(account.accountId, event.displayName, event.type)) touched.closing.add(incidentId);
      }
      // Signalled before the commit: an event answered 200 always has its workflows told. A signal for a
      // transaction that then rolls back finds nothing new (the incident's activities read only committed rows).
      await signalWorkflows(deps, account, touched);
      return { outcome: 'accepted', eventId: event.id, incidentIds: [...touched.incidents], closedIncidentIds: [...touched.closing] };
    });
    // The held snapshots now live under their incidents.
    await Promise.all(takenPending.map((key) => deps.media.remove(key)));
    return outcome;
  } catch (error) {
    await Promise.all(written.map((key) => deps.media.remove(key)));
    throw error;
  }
}

export type SnapshotOutcome = { status: 'attached' | 'pending' | 'already_attached' | 'not_needed' } | { status: 'refused'; refusal: Refusal<'INVALID_IMAGE'> };

/**
 * A snapshot PUT for an event's camera: attached to the incident the event joined (once), or held until the
 * event arrives within `snapshotWaitSeconds`. An event that joined no incident (no detections) needs none.
 */
export async function attachVmsSnapshot(
  deps: IngestDeps,
  account: IngestAccount,
  target: { eventId: string; technicalName: string },
  bytes: Buffer,
): Promise<SnapshotOutcome> {
  const checked = checkSnapshot(bytes);
  if ('code' in checked) return { status: 'refused', refusal: { ...checked, field: 'snapshot' } };
  await expireHeldSnapshots(deps);
  const written: string[] = [];
  let replacedPending: string | undefined;
  try {
    const status = await deps.db.transaction().execute(async (trx): Promise<'attached' | 'pending' | 'already_attached' | 'not_needed'> => {
      const vms = new VmsRepository(trx);
      // Takes turns with the event's own ingest, which reads held snapshots under the same lock.
      await vms.lockEventId(account.accountId, target.eventId);
      const found = await vms.snapshotTarget(account.accountId, target.eventId, target.technicalName);
      if (!found.event) {
        const key = `vms-pending/${account.accountId}/${randomUUID()}.jpg`;
        written.push(key);
        await deps.media.put(key, checked.bytes);
        replacedPending = await vms.putPendingSnapshot(account.accountId, target.eventId, target.technicalName, key);
        return 'pending';
      }
      if (!found.incident) return 'not_needed';
      const { incidentId } = found.incident;
      await vms.lockIncident(account.accountId, incidentId);
      const again = await vms.snapshotTarget(account.accountId, target.eventId, target.technicalName);
      if (again.incident?.frameIndex !== null && again.incident?.frameIndex !== undefined) return 'already_attached';
      await vms.attachSnapshot({
        accountId: account.accountId,
        incidentId,
        eventRowId: found.event.rowId,
        frame: {
          format: 'jpeg',
          width: checked.width,
          height: checked.height,
          bytes: checked.bytes.length,
          mediaKeyOf: async (frameIndex) => {
            const key = snapshotKey(incidentId, frameIndex);
            written.push(key);
            await deps.media.put(key, checked.bytes);
            return key;
          },
        },
      });
      await signalWorkflows(deps, account, { incidents: new Set([incidentId]), closing: new Set(), cameras: new Set() });
      return 'attached';
    });
    if (replacedPending) await deps.media.remove(replacedPending);
    return { status };
  } catch (error) {
    await Promise.all(written.map((key) => deps.media.remove(key)));
    throw error;
  }
}

/** Removes held snapshots whose event never came. */
async function expireHeldSnapshots(deps: IngestDeps): Promise<void> {
  const expired = await new VmsRepository(deps.db).expirePendingSnapshots(deps.vms.snapshotWaitSeconds);
  await Promise.all(expired.map((key) => deps.media.remove(key)));
}

async function signalWorkflows(deps: IngestDeps, account: IngestAccount, touched: Touched): Promise<void> {
  const searchAttributes = [
    { key: VigilJobKind, value: 'vms_incident' },
    { key: VigilAccount, value: account.accountName },
    { key: VigilStage, value: 'queued' },
  ];
  const incidentInput = (incidentId: string) => ({
    jobId: incidentId,
    accountId: account.accountId,
    maxProcessingSeconds: 0,
    hasWebhook: true,
    reverifySeconds: deps.vms.reverifySeconds,
  });
  const signals: Promise<unknown>[] = [];
  for (const incidentId of touched.incidents) {
    if (touched.closing.has(incidentId)) continue;
    signals.push(
      deps.temporal.workflow.signalWithStart(vmsIncident, {
        workflowId: incidentId,
        taskQueue: deps.analysisTaskQueue,
        args: [incidentInput(incidentId)],
        signal: vmsIncidentUpdatedSignal,
        signalArgs: [],
        typedSearchAttributes: searchAttributes,
      }),
    );
  }
  for (const incidentId of touched.closing) {
    signals.push(
      deps.temporal.workflow.signalWithStart(vmsIncident, {
        workflowId: incidentId,
        taskQueue: deps.analysisTaskQueue,
        args: [incidentInput(incidentId)],
        signal: vmsIncidentCloseSignal,
        signalArgs: [],
        typedSearchAttributes: searchAttributes,
      }),
    );
  }
  for (const cameraId of touched.cameras) {
    signals.push(
      deps.temporal.workflow.signalWithStart(vmsCameraWatch, {
        workflowId: vmsCameraWatchId(cameraId),
        taskQueue: deps.analysisTaskQueue,
        args: [{ accountId: account.accountId, cameraId, offlineAfterSeconds: deps.vms.offlineAfterSeconds }],
        signal: vmsCameraHeardSignal,
        signalArgs: [],
        typedSearchAttributes: [{ key: VigilAccount, value: account.accountName }],
      }),
    );
  }
  await Promise.all(signals);
}

/** A snapshot's check: its JPEG markers walked, not its pixels decoded (a VMS sends many a second). */
function checkSnapshot(bytes: Buffer): CheckedSnapshot | Omit<Refusal<'INVALID_IMAGE'>, 'field'> {
  try {
    const { width, height } = probeJpegHeader(bytes);
    return { bytes, width, height };
  } catch (error) {
    if (error instanceof InvalidImageError) return { code: 'INVALID_IMAGE', message: `The snapshot is not a decodable JPEG: ${error.message}` };
    throw error;
  }
}

function snapshotField(event: VmsEvent, index: number): string {
  return event.detailKey === 'crowd_detection_details' ? `${event.detailKey}.sources.${index}.snapshot` : `${event.detailKey}.source.snapshot`;
}

function snapshotKey(incidentId: string, frameIndex: number): string {
  return `${jobMediaPrefix('vms_incident', incidentId)}/snapshot_${String(frameIndex).padStart(3, '0')}.jpg`;
}
