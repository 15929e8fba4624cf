import { randomBytes, randomUUID } from 'node:crypto';
import { VmsRepository, type OwedSignal, type SnapshotFrame } from '../db/repositories/vms.js';
import { jobIdOf } from '../domain/identifiers.js';
import type { VmsDetection, VmsEventType } from '../domain/vms-events.js';
import { InvalidImageError } from '../media/image.js';
import { probeJpegHeader } from '../media/jpeg-header.js';
import { jobMediaPrefix, type MediaStore } from '../media/store.js';
import type { Refusal } from './job-acceptance.js';
import { sendOwedSignals, type VmsSignalDeps } from './vms-signals.js';

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

export interface IngestDeps extends VmsSignalDeps {
  media: MediaStore;
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

/**
 * Stores a VMS event and its consequences in one transaction of a few statements: the event once per id, its
 * cameras seen, the incidents it opens or joins with the VMS's boxes and its snapshots (sent inline, written just
 * before the transaction; or PUT earlier and held), the incidents an end-of-event message closes. After the commit, without holding up the
 * answer, it sends the signals the transaction recorded as owed (a new incident, the first snapshot since a verification read its window, a close,
 * a new or offline camera); verification runs in the workflows, never here. A signal lost to a crash between the
 * commit and the send stays owed and the API's sweep sends it (commands/vms-signals.ts).
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
  const owed: OwedSignal[] = [];
  try {
    const prewritten = await prewriteSnapshots(deps, account, event, snapshots, written);
    const outcome = await deps.db.transaction().execute(async (trx): Promise<IngestOutcome> => {
      const vms = new VmsRepository(trx);
      const receivedAt = new Date();
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
      const incidents = new Set<string>();

      for (const [index, source] of event.sources.entries()) {
        const camera = await vms.sawCamera(account.accountId, {
          vmsCameraId: source.cameraId,
          technicalName: source.technicalName,
          displayName: source.displayName,
          seenAt: receivedAt,
        });
        owed.push(...camera.owed);
        if (!joinsIncident(event, source)) continue;

        let snapshot = snapshots[index] ?? null;
        if (!snapshot) {
          const pendingKey = await vms.takePendingSnapshot(account.accountId, event.id, source.technicalName, deps.vms.snapshotWaitSeconds);
          if (pendingKey) {
            takenPending.push(pendingKey);
            const checked = checkSnapshot(await deps.media.get(pendingKey));
            if (!('code' in checked)) snapshot = checked;
          }
        }
        const early = prewritten[index];
        const joined = await vms.openOrJoinIncident({
          id: early?.incidentId ?? newIncidentId(),
          accountId: account.accountId,
          cameraId: camera.cameraId,
          configId: event.configId,
          type: event.type,
          vmsCameraId: source.cameraId,
          displayName: event.displayName,
          receivedAt,
          withSnapshot: snapshot !== null,
        });
        owed.push(...joined.owed);
        incidents.add(joined.incidentId);
        await vms.addIncidentEvent({
          accountId: account.accountId,
          incidentId: joined.incidentId,
          eventRowId,
          technicalName: source.technicalName,
          frameTimestamp: source.frameTimestamp === null ? null : new Date(source.frameTimestamp),
          width: source.width,
          height: source.height,
          vmsDetections: source.detections,
          snapshot: snapshot && joined.frameIndex !== null ? await placeSnapshot(deps, written, early, joined.incidentId, joined.frameIndex, snapshot) : null,
        });
      }

      const closing: string[] = [];
      if (event.endOfEvent && !event.heartbeat && event.type !== 'UNKNOWN') {
        const closes = await vms.oweCloseOfIncidentsNamed(account.accountId, event.displayName, event.type);
        owed.push(...closes);
        closing.push(...closes.map((c) => c.subjectId));
      }
      return { outcome: 'accepted', eventId: event.id, incidentIds: [...incidents], closedIncidentIds: closing };
    });
    // The held snapshots now live under their incidents; snapshots written early for an incident the event did not
    // join (or for an event already received) belong to nothing.
    const unused = prewritten.flatMap((early) => (early && !early.used ? [early.mediaKey] : []));
    await Promise.all([...takenPending, ...unused].map((key) => deps.media.remove(key)));
    // Not awaited: the answer does not wait for Temporal. The signals are owed in the committed rows, so one that
    // does not get through is sent by the sweep; a close that overtakes an update still verifies what came.
    if (outcome.outcome === 'accepted') void sendOwedSignals(deps, account, owed);
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
  const owed: OwedSignal[] = [];
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
      const reserved = await vms.reserveSnapshot(account.accountId, incidentId);
      owed.push(...reserved.owed);
      const snapshot = await placeSnapshot(deps, written, null, incidentId, reserved.frameIndex, checked);
      await vms.attachSnapshot({ accountId: account.accountId, incidentId, eventRowId: found.event.rowId, snapshot });
      return 'attached';
    });
    if (replacedPending) await deps.media.remove(replacedPending);
    void sendOwedSignals(deps, account, owed);
    return { status };
  } catch (error) {
    await Promise.all(written.map((key) => deps.media.remove(key)));
    throw error;
  }
}

/** Whether this camera's part of the event opens or joins an incident (a heartbeat, a close or no detection does not). */
function joinsIncident(event: VmsEvent, source: VmsCameraRecord): boolean {
  return !event.heartbeat && !event.endOfEvent && event.type !== 'UNKNOWN' && source.detections.length > 0;
}

const newIncidentId = () => jobIdOf('vms_incident', randomBytes(12).toString('hex'));

/** A snapshot written before the event's transaction, under the incident it was expected to join. */
interface EarlySnapshot {
  incidentId: string;
  mediaKey: string;
  used: boolean;
}

/**
 * Each snapshot sent inline is written before the transaction, under the incident the event will most likely join
 * (the camera's open one of this configuration and type, else a new one with the id it will open under), so that no
 * file is written while the transaction holds the camera's and the incident's rows, which the camera's next events
 * wait for. The keys are noted in `written`.
 */
async function prewriteSnapshots(
  deps: IngestDeps,
  account: IngestAccount,
  event: VmsEvent,
  snapshots: readonly (CheckedSnapshot | null)[],
  written: string[],
): Promise<(EarlySnapshot | null)[]> {
  const vms = new VmsRepository(deps.db);
  return Promise.all(
    event.sources.map(async (source, index) => {
      const snapshot = snapshots[index];
      if (!snapshot || !joinsIncident(event, source)) return null;
      const incidentId = (await vms.openIncidentOf(account.accountId, source.cameraId, event.configId, event.type)) ?? newIncidentId();
      return { incidentId, mediaKey: await writeSnapshot(deps, written, incidentId, snapshot), used: false };
    }),
  );
}

/** The snapshot as the incident's frame at `frameIndex`: the one written early if it is under this incident, else written now. */
async function placeSnapshot(
  deps: IngestDeps,
  written: string[],
  early: EarlySnapshot | null | undefined,
  incidentId: string,
  frameIndex: number,
  snapshot: CheckedSnapshot,
): Promise<SnapshotFrame> {
  let mediaKey: string;
  if (early?.incidentId === incidentId) {
    early.used = true;
    mediaKey = early.mediaKey;
  } else {
    mediaKey = await writeSnapshot(deps, written, incidentId, snapshot);
  }
  return { frameIndex, mediaKey, format: 'jpeg', width: snapshot.width, height: snapshot.height, bytes: snapshot.bytes.length };
}

/** Writes a snapshot under its incident, named apart from every other (noted in `written`, removed if the transaction fails). */
async function writeSnapshot(deps: IngestDeps, written: string[], incidentId: string, snapshot: CheckedSnapshot): Promise<string> {
  const mediaKey = `${jobMediaPrefix('vms_incident', incidentId)}/snapshot_${randomUUID()}.jpg`;
  written.push(mediaKey);
  await deps.media.put(mediaKey, snapshot.bytes);
  return mediaKey;
}

/** Removes held snapshots whose event never came. */
async function expireHeldSnapshots(deps: IngestDeps): Promise<void> {
  const expired = await new VmsRepository(deps.db).expirePendingSnapshots(deps.vms.snapshotWaitSeconds);
  await Promise.all(expired.map((key) => deps.media.remove(key)));
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
