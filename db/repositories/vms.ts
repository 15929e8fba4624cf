import { sql } from 'kysely';
import type { Db } from '../database.js';
import type { VmsIncidentResult } from '../schema.js';
import { detectionRow, JobRepository, type StoredDetection } from './jobs.js';
import { TenancyRepository } from './tenancy.js';

/** The VMS's cameras live in this group and site of the account; the VMS's camera id is the camera's external id. */
export const vmsTenancy = { groupId: 'vms', siteId: 'vms', siteCategory: 'other' } as const;

export interface VmsCameraSighting {
  vmsCameraId: string;
  technicalName: string;
  displayName: string;
  seenAt: Date;
}

export interface IncidentKey {
  accountId: string;
  cameraId: string;
  configId: string;
  type: string;
}

export interface NewIncident extends IncidentKey {
  id: string;
  vmsCameraId: string;
  displayName: string;
}

export interface IncidentListFilters {
  vmsCameraId?: string;
  type?: string;
  verdict?: string;
  from?: Date;
  to?: Date;
}

/** Where a page starts: after the incident opened at `openedAt` with id `id` (newest first). */
export interface IncidentPosition {
  openedAt: Date;
  id: string;
}

export interface WindowFrame {
  frameId: string;
  frameIndex: number;
  key: string;
}

/** VMS events, incidents, the VMS's cameras and snapshots waiting for their event; every query takes the account. */
export class VmsRepository {
  constructor(private readonly db: Db) {}

  /** Serializes the ingest of an event id with the snapshots PUT for it, until the transaction ends. */
  async lockEventId(accountId: string, eventId: string): Promise<void> {
    await sql`select pg_advisory_xact_lock(hashtext(${`vms-event:${accountId}:${eventId}`}))`.execute(this.db);
  }

  /** Records an event once per id; undefined when the account already has an event with this id. */
  async insertEvent(event: {
    accountId: string;
    eventId: string;
    type: string;
    displayName: string;
    configId: string;
    endOfEvent: boolean;
    eventTime: Date | null;
    payload: Record<string, unknown>;
  }): Promise<string | undefined> {
    const row = await this.db
      .insertInto('vms_events')
      .values({
        account_id: event.accountId,
        event_id: event.eventId,
        type: event.type,
        display_name: event.displayName,
        config_id: event.configId,
        end_of_event: event.endOfEvent,
        event_time: event.eventTime,
        payload: JSON.stringify(event.payload),
      })
      .onConflict((oc) => oc.columns(['account_id', 'event_id']).doNothing())
      .returning('id')
      .executeTakeFirst();
    return row?.id;
  }

  /** The account's camera for a VMS camera (created in the VMS site when new), marked seen now. Returns its id. */
  async sawCamera(accountId: string, sighting: VmsCameraSighting): Promise<string> {
    const cameraId = await new TenancyRepository(this.db).ensureCamera(
      accountId,
      { groupId: vmsTenancy.groupId, siteId: vmsTenancy.siteId, zoneId: sighting.vmsCameraId },
      vmsTenancy.siteCategory,
    );
    await this.db
      .insertInto('vms_cameras')
      .values({
        camera_id: cameraId,
        account_id: accountId,
        vms_camera_id: sighting.vmsCameraId,
        technical_name: sighting.technicalName,
        display_name: sighting.displayName,
        last_seen_at: sighting.seenAt,
      })
      .onConflict((oc) =>
        oc.column('camera_id').doUpdateSet({
          technical_name: sighting.technicalName,
          display_name: sighting.displayName,
          last_seen_at: sql`greatest(vms_cameras.last_seen_at, excluded.last_seen_at)`,
        }),
      )
      .execute();
    await this.db
      .updateTable('cameras')
      .set({ name: sighting.displayName, updated_at: sighting.seenAt })
      .where('account_id', '=', accountId)
      .where('id', '=', cameraId)
      .where('name', '<>', sighting.displayName)
      .execute();
    return cameraId;
  }

  /**
   * The open incident of the key, locked until the transaction ends, or a new one (its `vms_incident` job
   * queued). Events of one key take turns on an advisory lock, so two never open two incidents.
   */
  async openOrJoinIncident(incident: NewIncident): Promise<{ incidentId: string; opened: boolean }> {
    const { accountId, cameraId, configId, type } = incident;
    await sql`select pg_advisory_xact_lock(hashtext(${`vms:${accountId}:${cameraId}:${configId}:${type}`}))`.execute(this.db);
    const open = await this.db
      .selectFrom('vms_incidents')
      .select('id')
      .where('account_id', '=', accountId)
      .where('camera_id', '=', cameraId)
      .where('config_id', '=', configId)
      .where('type', '=', type)
      .where('status', '=', 'open')
      .forUpdate()
      .executeTakeFirst();
    if (open) return { incidentId: open.id, opened: false };
    await new JobRepository(this.db).insert(
      {
        id: incident.id,
        kind: 'vms_incident',
        accountId,
        cameraId,
        request: { vms_camera_id: incident.vmsCameraId, config_id: configId, type, display_name: incident.displayName },
      },
      [],
    );
    await this.db
      .insertInto('vms_incidents')
      .values({
        id: incident.id,
        account_id: accountId,
        camera_id: cameraId,
        vms_camera_id: incident.vmsCameraId,
        config_id: configId,
        type,
        display_name: incident.displayName,
      })
      .execute();
    return { incidentId: incident.id, opened: true };
  }

  async addIncidentEvent(entry: {
    accountId: string;
    incidentId: string;
    eventRowId: string;
    technicalName: string;
    frameTimestamp: Date | null;
    width: number | null;
    height: number | null;
    vmsDetections: unknown[];
    receivedAt: Date;
  }): Promise<void> {
    await this.db
      .insertInto('vms_incident_events')
      .values({
        incident_id: entry.incidentId,
        event_id: entry.eventRowId,
        account_id: entry.accountId,
        technical_name: entry.technicalName,
        frame_timestamp: entry.frameTimestamp,
        width: entry.width,
        height: entry.height,
        vms_detections: JSON.stringify(entry.vmsDetections),
      })
      .onConflict((oc) => oc.columns(['incident_id', 'event_id']).doNothing())
      .execute();
    await this.db
      .updateTable('vms_incidents')
      .set({ last_event_at: sql`greatest(last_event_at, ${entry.receivedAt})` })
      .where('account_id', '=', entry.accountId)
      .where('id', '=', entry.incidentId)
      .execute();
  }

  /**
   * Stores an event's snapshot as the incident's next frame. Call with the incident locked (openOrJoinIncident,
   * or lockIncident), so frame indexes are handed out one at a time. Returns the frame's index.
   */
  async attachSnapshot(attachment: {
    accountId: string;
    incidentId: string;
    eventRowId: string;
    frame: { mediaKeyOf(frameIndex: number): Promise<string>; format: string; width: number; height: number; bytes: number };
  }): Promise<number> {
    const { accountId, incidentId } = attachment;
    const next = await this.db
      .selectFrom('frames')
      .select((eb) => eb.fn.coalesce(eb(eb.fn.max('frame_index'), '+', 1), sql<number>`0`).as('next'))
      .where('account_id', '=', accountId)
      .where('job_id', '=', incidentId)
      .executeTakeFirstOrThrow();
    const frameIndex = Number(next.next);
    const mediaKey = await attachment.frame.mediaKeyOf(frameIndex);
    await this.db
      .insertInto('frames')
      .values({
        account_id: accountId,
        job_id: incidentId,
        frame_index: frameIndex,
        name: `snapshot_${String(frameIndex).padStart(3, '0')}.jpg`,
        media_key: mediaKey,
        format: attachment.frame.format,
        width: attachment.frame.width,
        height: attachment.frame.height,
        bytes: attachment.frame.bytes,
      })
      .execute();
    await this.db
      .updateTable('vms_incident_events')
      .set({ frame_index: frameIndex })
      .where('account_id', '=', accountId)
      .where('incident_id', '=', incidentId)
      .where('event_id', '=', attachment.eventRowId)
      .execute();
    return frameIndex;
  }

  /** The open incidents an end-of-event message closes: the same display name and type. */
  async openIncidentsNamed(accountId: string, displayName: string, type: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('vms_incidents')
      .select('id')
      .where('account_id', '=', accountId)
      .where('display_name', '=', displayName)
      .where('type', '=', type)
      .where('status', '=', 'open')
      .execute();
    return rows.map((r) => r.id);
  }

  /** Where a snapshot PUT for an event's camera goes: the incident the event joined, and whether it has a snapshot already. */
  async snapshotTarget(accountId: string, eventId: string, technicalName: string) {
    const event = await this.db.selectFrom('vms_events').select('id').where('account_id', '=', accountId).where('event_id', '=', eventId).executeTakeFirst();
    if (!event) return { event: undefined, incident: undefined } as const;
    const incident = await this.db
      .selectFrom('vms_incident_events')
      .select(['incident_id', 'frame_index'])
      .where('account_id', '=', accountId)
      .where('event_id', '=', event.id)
      .where('technical_name', '=', technicalName)
      .executeTakeFirst();
    return { event: { rowId: event.id }, incident: incident && { incidentId: incident.incident_id, frameIndex: incident.frame_index } } as const;
  }

  /** Locks an incident's row until the transaction ends (its frames are numbered under it). */
  async lockIncident(accountId: string, incidentId: string): Promise<void> {
    await this.db.selectFrom('vms_incidents').select('id').where('account_id', '=', accountId).where('id', '=', incidentId).forUpdate().execute();
  }

  async putPendingSnapshot(accountId: string, eventId: string, technicalName: string, mediaKey: string): Promise<string | undefined> {
    const replaced = await this.db
      .selectFrom('vms_pending_snapshots')
      .select('media_key')
      .where('account_id', '=', accountId)
      .where('event_id', '=', eventId)
      .where('technical_name', '=', technicalName)
      .forUpdate()
      .executeTakeFirst();
    await this.db
      .insertInto('vms_pending_snapshots')
      .values({ account_id: accountId, event_id: eventId, technical_name: technicalName, media_key: mediaKey })
      .onConflict((oc) => oc.columns(['account_id', 'event_id', 'technical_name']).doUpdateSet({ media_key: mediaKey, received_at: sql`now()` }))
      .execute();
    return replaced?.media_key;
  }

  /** Takes the snapshot held for an event's camera, if one arrived within `maxAgeSeconds`. */
  async takePendingSnapshot(accountId: string, eventId: string, technicalName: string, maxAgeSeconds: number): Promise<string | undefined> {
    const row = await this.db
      .deleteFrom('vms_pending_snapshots')
      .where('account_id', '=', accountId)
      .where('event_id', '=', eventId)
      .where('technical_name', '=', technicalName)
      .where('received_at', '>', sql<Date>`now() - make_interval(secs => ${maxAgeSeconds})`)
      .returning('media_key')
      .executeTakeFirst();
    return row?.media_key;
  }

  /** Removes held snapshots older than `maxAgeSeconds` (any account: the sweep of expired ones); returns their media keys. */
  async expirePendingSnapshots(maxAgeSeconds: number): Promise<string[]> {
    const rows = await this.db
      .deleteFrom('vms_pending_snapshots')
      .where('received_at', '<=', sql<Date>`now() - make_interval(secs => ${maxAgeSeconds})`)
      .returning('media_key')
      .execute();
    return rows.map((r) => r.media_key);
  }

  async incident(accountId: string, incidentId: string) {
    return this.db
      .selectFrom('vms_incidents')
      .innerJoin('vms_cameras', 'vms_cameras.camera_id', 'vms_incidents.camera_id')
      .innerJoin('jobs', 'jobs.id', 'vms_incidents.id')
      .selectAll('vms_incidents')
      .select(['vms_cameras.technical_name', 'vms_cameras.display_name as camera_display_name', 'jobs.result'])
      .where('vms_incidents.account_id', '=', accountId)
      .where('vms_incidents.id', '=', incidentId)
      .executeTakeFirst();
  }

  async incidentEvents(accountId: string, incidentId: string) {
    return this.db
      .selectFrom('vms_incident_events')
      .innerJoin('vms_events', 'vms_events.id', 'vms_incident_events.event_id')
      .select(['vms_events.event_id', 'vms_events.received_at', 'vms_incident_events.frame_timestamp', 'vms_incident_events.frame_index'])
      .select(['vms_incident_events.vms_detections', 'vms_incident_events.technical_name', 'vms_incident_events.width', 'vms_incident_events.height'])
      .where('vms_incident_events.account_id', '=', accountId)
      .where('vms_incident_events.incident_id', '=', incidentId)
      .orderBy('vms_events.received_at')
      .orderBy('vms_events.id')
      .execute();
  }

  /** Vigil's detections on the incident's snapshots, by frame index. */
  async incidentDetections(accountId: string, incidentId: string) {
    return this.db
      .selectFrom('detections')
      .select(['frame_index', 'label', 'score', 'x1', 'y1', 'x2', 'y2', 'kept', 'filtered_by'])
      .where('account_id', '=', accountId)
      .where('job_id', '=', incidentId)
      .orderBy('frame_index')
      .orderBy('score', 'desc')
      .execute();
  }

  /** Newest first, `limit` of them after `after`, with the filters. */
  async listIncidents(accountId: string, filters: IncidentListFilters, limit: number, after?: IncidentPosition): Promise<string[]> {
    let query = this.db.selectFrom('vms_incidents').select(['id']).where('account_id', '=', accountId);
    if (filters.vmsCameraId !== undefined) query = query.where('vms_camera_id', '=', filters.vmsCameraId);
    if (filters.type !== undefined) query = query.where('type', '=', filters.type);
    if (filters.verdict !== undefined) query = query.where('verdict', '=', filters.verdict);
    if (filters.from !== undefined) query = query.where('opened_at', '>=', filters.from);
    if (filters.to !== undefined) query = query.where('opened_at', '<=', filters.to);
    if (after) query = query.where(sql<boolean>`(opened_at, id) < (${after.openedAt}, ${after.id})`);
    const rows = await query.orderBy('opened_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => r.id);
  }

  async cameras(accountId: string) {
    return this.db
      .selectFrom('vms_cameras')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('vms_camera_id')
      .execute();
  }

  async camera(accountId: string, cameraId: string) {
    return this.db.selectFrom('vms_cameras').selectAll().where('account_id', '=', accountId).where('camera_id', '=', cameraId).executeTakeFirst();
  }

  /** Records the camera watch's finding; false when the camera already had that status. */
  async setCameraStatus(accountId: string, cameraId: string, status: 'online' | 'offline'): Promise<boolean> {
    const result = await this.db
      .updateTable('vms_cameras')
      .set({ status, status_changed_at: new Date() })
      .where('account_id', '=', accountId)
      .where('camera_id', '=', cameraId)
      .where('status', '<>', status)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * The incident's latest snapshots (at most `max`, oldest first) and how many it has in all. Waits for an
   * event still being stored for this incident (its transaction holds the incident's row).
   */
  async verificationWindow(accountId: string, incidentId: string, max: number) {
    return this.db.transaction().execute(async (trx) => {
      const incident = await trx
        .selectFrom('vms_incidents')
        .select(['camera_id', 'verified_frames', 'status'])
        .where('account_id', '=', accountId)
        .where('id', '=', incidentId)
        .forShare()
        .executeTakeFirst();
      if (!incident) return undefined;
      const frames = await trx
        .selectFrom('frames')
        .select(['id', 'frame_index', 'media_key'])
        .where('account_id', '=', accountId)
        .where('job_id', '=', incidentId)
        .orderBy('frame_index', 'desc')
        .limit(max)
        .execute();
      const total = await trx
        .selectFrom('frames')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('account_id', '=', accountId)
        .where('job_id', '=', incidentId)
        .executeTakeFirstOrThrow();
      return {
        cameraId: incident.camera_id,
        verifiedFrames: incident.verified_frames,
        totalFrames: Number(total.n),
        frames: frames.reverse().map((f): WindowFrame => ({ frameId: f.id, frameIndex: f.frame_index, key: f.media_key })),
      };
    });
  }

  /**
   * Stores one verification: the window's detections replace those it had, then the verdict. The result goes
   * before the detections: their insert trigger reads the job's indicators and description from it.
   */
  async recordVerification(verification: {
    accountId: string;
    incidentId: string;
    window: WindowFrame[];
    totalFrames: number;
    verdict: string;
    result: VmsIncidentResult;
    detections: StoredDetection[];
  }): Promise<void> {
    const { accountId, incidentId, window } = verification;
    await this.db.transaction().execute(async (trx) => {
      const incident = await trx
        .selectFrom('vms_incidents')
        .select(['camera_id'])
        .where('account_id', '=', accountId)
        .where('id', '=', incidentId)
        .forUpdate()
        .executeTakeFirstOrThrow();
      await trx
        .updateTable('jobs')
        .set({ result: JSON.stringify(verification.result) })
        .where('account_id', '=', accountId)
        .where('id', '=', incidentId)
        .execute();
      await trx
        .updateTable('vms_incidents')
        .set({ verdict: verification.verdict, verified_at: new Date(), verified_frames: verification.totalFrames })
        .where('account_id', '=', accountId)
        .where('id', '=', incidentId)
        .execute();
      const frameIds = window.map((f) => f.frameId);
      if (frameIds.length > 0) await trx.deleteFrom('detections').where('account_id', '=', accountId).where('frame_id', 'in', frameIds).execute();
      if (verification.detections.length === 0) return;
      await trx
        .insertInto('detections')
        .values(
          verification.detections.map((d) => {
            const frame = window[d.frameIndex];
            if (!frame) throw new Error(`incident ${incidentId} has no snapshot at window position ${d.frameIndex}`);
            // The row's frame index is the snapshot's own, not its position in the verified window.
            return detectionRow({ ...d, frameIndex: frame.frameIndex }, { accountId, jobId: incidentId, frameId: frame.frameId, cameraId: incident.camera_id });
          }),
        )
        .execute();
    });
  }

  /** Closes an incident and ends its job; one closed without a verified snapshot is `unverified`. False when already closed. */
  async closeIncident(accountId: string, incidentId: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const closed = await trx
        .updateTable('vms_incidents')
        .set({ status: 'closed', closed_at: new Date(), verdict: sql`case when verdict = 'pending' then 'unverified' else verdict end` })
        .where('account_id', '=', accountId)
        .where('id', '=', incidentId)
        .where('status', '=', 'open')
        .returning('verdict')
        .executeTakeFirst();
      if (!closed) return false;
      const unverified: VmsIncidentResult = { verdict: closed.verdict, decision: null, crime_rate: null, ai_description: null, ai_decision_indicators: [] };
      await trx
        .updateTable('jobs')
        .set({
          status: 'finished',
          stage: 'finished',
          finished_at: sql`now()`,
          result: sql`coalesce(result || jsonb_build_object('verdict', ${closed.verdict}::text), ${JSON.stringify(unverified)}::jsonb)`,
        })
        .where('account_id', '=', accountId)
        .where('id', '=', incidentId)
        .execute();
      return true;
    });
  }

  /** The account's VMS settings: the header its VMS sends the token in. */
  async accountSettings(accountId: string) {
    return this.db.selectFrom('accounts').select(['vms_token_header']).where('id', '=', accountId).executeTakeFirst();
  }

  /** Every header name some account's VMS sends its token in. */
  async tokenHeaders(): Promise<string[]> {
    const rows = await this.db.selectFrom('accounts').select('vms_token_header').distinct().where('vms_token_header', 'is not', null).execute();
    return rows.map((r) => r.vms_token_header!);
  }

  async setAccountSettings(accountId: string, settings: { tokenHeader: string | null }): Promise<void> {
    await this.db.updateTable('accounts').set({ vms_token_header: settings.tokenHeader }).where('id', '=', accountId).execute();
  }
}
