import { sql } from 'kysely';
import type { Db } from '../database.js';
import { FailureType } from '../../domain/failure-types.js';
import type { VmsIncidentRequest, VmsIncidentResult, VmsSignalName, VmsVerificationError } from '../schema.js';
import { detectionRow, type StoredDetection } from './jobs.js';
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

/** A signal a committed event owes a workflow: the incident's (`subjectId` its id) or a camera watch's (the camera's id). */
export interface OwedSignal {
  id: number;
  subjectId: string;
  signal: VmsSignalName;
}

/** A snapshot stored as an incident's frame: its index (openOrJoinIncident, reserveSnapshot), media key and size. */
export interface SnapshotFrame {
  frameIndex: number;
  mediaKey: string;
  format: string;
  width: number;
  height: number;
  bytes: number;
}

/** The name of an incident's snapshot frame, also the last part of its media key. */
export function snapshotName(frameIndex: number): string {
  return `snapshot_${String(frameIndex).padStart(3, '0')}.jpg`;
}

function frameRow(accountId: string, incidentId: string, snapshot: SnapshotFrame) {
  return {
    account_id: accountId,
    job_id: incidentId,
    frame_index: snapshot.frameIndex,
    name: snapshotName(snapshot.frameIndex),
    media_key: snapshot.mediaKey,
    format: snapshot.format,
    width: snapshot.width,
    height: snapshot.height,
    bytes: snapshot.bytes,
  };
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

  /**
   * Records an event once per id; undefined when the account already has an event with this id. Takes the event
   * id's lock (lockEventId) in the same statement, so a snapshot PUT for it waits for this transaction.
   */
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
    const { rows } = await sql<{ id: string }>`
      insert into vms_events (account_id, event_id, type, display_name, config_id, end_of_event, event_time, payload)
      select ${event.accountId}::uuid, ${event.eventId}, ${event.type}, ${event.displayName}, ${event.configId}, ${event.endOfEvent}::boolean,
             ${event.eventTime}::timestamptz, ${JSON.stringify(event.payload)}::jsonb
      from (select pg_advisory_xact_lock(hashtext(${`vms-event:${event.accountId}:${event.eventId}`}))) as locked
      on conflict (account_id, event_id) do nothing
      returning id`.execute(this.db);
    return rows[0]?.id;
  }

  /**
   * The account's camera for a VMS camera (created in the VMS site when new), marked seen. A known camera takes
   * one statement; its watch is owed a signal only when it is new (to start it) or offline (to bring it online).
   */
  async sawCamera(accountId: string, sighting: VmsCameraSighting): Promise<{ cameraId: string; owed: OwedSignal[] }> {
    const { rows } = await sql<{ camera_id: string; owed_id: number | null }>`
      with seen as (
        update vms_cameras
        set technical_name = ${sighting.technicalName}, display_name = ${sighting.displayName},
            last_seen_at = greatest(last_seen_at, ${sighting.seenAt}::timestamptz)
        where account_id = ${accountId} and vms_camera_id = ${sighting.vmsCameraId}
        returning camera_id, status
      ), renamed as (
        update cameras set name = ${sighting.displayName}, updated_at = ${sighting.seenAt}::timestamptz
        where account_id = ${accountId} and id = (select camera_id from seen) and name <> ${sighting.displayName}
      ), owed as (
        insert into vms_owed_signals (account_id, subject_id, signal)
        select ${accountId}::uuid, camera_id::text, 'vmsCameraHeard' from seen where status = 'offline'
        returning id
      )
      select seen.camera_id, owed.id as owed_id from seen left join owed on true`.execute(this.db);
    const seen = rows[0];
    if (seen) return { cameraId: seen.camera_id, owed: seen.owed_id === null ? [] : [{ id: seen.owed_id, subjectId: seen.camera_id, signal: 'vmsCameraHeard' }] };

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
    // A new camera: its watch starts with this signal.
    return { cameraId, owed: [await this.oweSignal(accountId, cameraId, 'vmsCameraHeard')] };
  }

  /**
   * The open incident that an event of this VMS camera, configuration and type would join now, if any: read without
   * a lock, so the event's transaction may still join another (one opened or closed meanwhile).
   */
  async openIncidentOf(accountId: string, vmsCameraId: string, configId: string, type: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('vms_incidents as i')
      .innerJoin('vms_cameras as c', (join) => join.onRef('c.camera_id', '=', 'i.camera_id').onRef('c.account_id', '=', 'i.account_id'))
      .select('i.id')
      .where('c.account_id', '=', accountId)
      .where('c.vms_camera_id', '=', vmsCameraId)
      .where('i.config_id', '=', configId)
      .where('i.type', '=', type)
      .where('i.status', '=', 'open')
      .executeTakeFirst();
    return row?.id;
  }

  /**
   * Joins the open incident of the key, or opens one (its `vms_incident` job queued), in one statement: the unique
   * index on open incidents makes concurrent events of one key join one incident, and the row stays locked until
   * the transaction ends. With a snapshot, the incident's next frame index is taken. The workflow is owed a signal
   * when the incident is new, or when this snapshot is the first since its last verification read its window.
   */
  async openOrJoinIncident(
    incident: NewIncident & { receivedAt: Date; withSnapshot: boolean },
  ): Promise<{ incidentId: string; opened: boolean; frameIndex: number | null; owed: OwedSignal[] }> {
    const { accountId, cameraId, configId, type } = incident;
    const added = incident.withSnapshot ? 1 : 0;
    const request: VmsIncidentRequest = { vms_camera_id: incident.vmsCameraId, config_id: configId, type, display_name: incident.displayName };
    const { rows } = await sql<{ id: string; opened: boolean; snapshots: number; owed_id: number | null }>`
      with incident as (
        insert into vms_incidents as i (id, account_id, camera_id, vms_camera_id, config_id, type, display_name, last_event_at, snapshots, snapshots_signalled)
        values (${incident.id}, ${accountId}, ${cameraId}, ${incident.vmsCameraId}, ${configId}, ${type}, ${incident.displayName}, ${incident.receivedAt}, ${added}, ${added})
        on conflict (account_id, camera_id, config_id, type) where status = 'open' do update set
          last_event_at = greatest(i.last_event_at, excluded.last_event_at),
          snapshots = i.snapshots + excluded.snapshots,
          snapshots_signalled = case when excluded.snapshots > 0 and i.snapshots_signalled <= i.snapshots_read
                                     then i.snapshots + excluded.snapshots else i.snapshots_signalled end
        returning i.id, i.xmax = 0 as opened, i.snapshots, i.snapshots_signalled
      ), job as (
        -- The incident's job, in the same statement: the reference from vms_incidents is checked at its end.
        insert into jobs (id, kind, account_id, camera_id, status, stage, request)
        select id, 'vms_incident', ${accountId}::uuid, ${cameraId}::uuid, 'queued', 'queued', ${JSON.stringify(request)}::jsonb from incident where opened
      ), owed as (
        insert into vms_owed_signals (account_id, subject_id, signal)
        select ${accountId}::uuid, id, 'vmsIncidentUpdated' from incident where opened or (${added}::int > 0 and snapshots_signalled = snapshots)
        returning id
      )
      select incident.id, incident.opened, incident.snapshots, owed.id as owed_id from incident left join owed on true`.execute(this.db);
    const row = rows[0]!;
    return {
      incidentId: row.id,
      opened: row.opened,
      frameIndex: incident.withSnapshot ? row.snapshots - 1 : null,
      owed: row.owed_id === null ? [] : [{ id: row.owed_id, subjectId: row.id, signal: 'vmsIncidentUpdated' }],
    };
  }

  /**
   * An event's part in an incident (the VMS's boxes) and, when it came with one, its snapshot as the incident's
   * frame at the index openOrJoinIncident or reserveSnapshot took: one statement.
   */
  async addIncidentEvent(entry: {
    accountId: string;
    incidentId: string;
    eventRowId: string;
    technicalName: string;
    frameTimestamp: Date | null;
    width: number | null;
    height: number | null;
    vmsDetections: unknown[];
    snapshot: SnapshotFrame | null;
  }): Promise<void> {
    const part = this.db
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
        frame_index: entry.snapshot?.frameIndex ?? null,
      })
      .onConflict((oc) => oc.columns(['incident_id', 'event_id']).doNothing());
    if (!entry.snapshot) {
      await part.execute();
      return;
    }
    await this.db
      .with('part', () => part)
      .insertInto('frames')
      .values(frameRow(entry.accountId, entry.incidentId, entry.snapshot))
      .execute();
  }

  /**
   * Takes the incident's next frame index for a snapshot sent after its event (the row locked until the
   * transaction ends), owing the workflow a signal as openOrJoinIncident does.
   */
  async reserveSnapshot(accountId: string, incidentId: string): Promise<{ frameIndex: number; owed: OwedSignal[] }> {
    const { rows } = await sql<{ snapshots: number; owed_id: number | null }>`
      with incident as (
        update vms_incidents
        set snapshots = snapshots + 1,
            snapshots_signalled = case when snapshots_signalled <= snapshots_read then snapshots + 1 else snapshots_signalled end
        where account_id = ${accountId} and id = ${incidentId}
        returning id, snapshots, snapshots_signalled
      ), owed as (
        insert into vms_owed_signals (account_id, subject_id, signal)
        select ${accountId}::uuid, id, 'vmsIncidentUpdated' from incident where snapshots_signalled = snapshots
        returning id
      )
      select incident.snapshots, owed.id as owed_id from incident left join owed on true`.execute(this.db);
    const row = rows[0];
    if (!row) throw new Error(`incident ${incidentId} not found`);
    return { frameIndex: row.snapshots - 1, owed: row.owed_id === null ? [] : [{ id: row.owed_id, subjectId: incidentId, signal: 'vmsIncidentUpdated' }] };
  }

  /** Stores a snapshot sent after its event as the frame reserveSnapshot numbered, and points the event's part at it. */
  async attachSnapshot(attachment: { accountId: string; incidentId: string; eventRowId: string; snapshot: SnapshotFrame }): Promise<void> {
    const { accountId, incidentId, snapshot } = attachment;
    await this.db
      .with('frame', (db) => db.insertInto('frames').values(frameRow(accountId, incidentId, snapshot)))
      .updateTable('vms_incident_events')
      .set({ frame_index: snapshot.frameIndex })
      .where('account_id', '=', accountId)
      .where('incident_id', '=', incidentId)
      .where('event_id', '=', attachment.eventRowId)
      .execute();
  }

  /** The open incidents an end-of-event message closes (the same display name and type), each owed its close signal. */
  async oweCloseOfIncidentsNamed(accountId: string, displayName: string, type: string): Promise<OwedSignal[]> {
    const { rows } = await sql<{ id: number; subject_id: string }>`
      insert into vms_owed_signals (account_id, subject_id, signal)
      select account_id, id, 'vmsIncidentClose' from vms_incidents
      where account_id = ${accountId} and display_name = ${displayName} and type = ${type} and status = 'open'
      returning id, subject_id`.execute(this.db);
    return rows.map((r) => ({ id: r.id, subjectId: r.subject_id, signal: 'vmsIncidentClose' }));
  }

  private async oweSignal(accountId: string, subjectId: string, signal: VmsSignalName): Promise<OwedSignal> {
    const row = await this.db.insertInto('vms_owed_signals').values({ account_id: accountId, subject_id: subjectId, signal }).returning('id').executeTakeFirstOrThrow();
    return { id: row.id, subjectId, signal };
  }

  /** Forgets signals once sent. */
  async forgetOwedSignals(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.deleteFrom('vms_owed_signals').where('id', 'in', ids).execute();
  }

  /** Signals owed for at least `minAgeSeconds` (any account: the sweep's), oldest first, with their account's name. */
  async staleOwedSignals(minAgeSeconds: number, limit: number) {
    return this.db
      .selectFrom('vms_owed_signals')
      .innerJoin('accounts', 'accounts.id', 'vms_owed_signals.account_id')
      .select(['vms_owed_signals.id', 'vms_owed_signals.account_id', 'accounts.name as account_name', 'vms_owed_signals.subject_id', 'vms_owed_signals.signal'])
      .where('vms_owed_signals.owed_at', '<=', sql<Date>`now() - make_interval(secs => ${minAgeSeconds})`)
      .orderBy('vms_owed_signals.id')
      .limit(limit)
      .execute();
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
   * Marks the camera offline if it has been silent for `offlineAfterSeconds`. Otherwise (or when already
   * offline) says how long it has been silent, by the database's clock, which also stamps a message's arrival.
   * Undefined for a camera that is gone.
   */
  async markCameraOfflineIfSilent(accountId: string, cameraId: string, offlineAfterSeconds: number): Promise<{ marked: boolean; silentMs: number } | undefined> {
    // One statement: the row lock waits for an ingest holding it, then reads its last-seen, so a camera heard
    // meanwhile stays online, and the silence and the decision come from one clock reading.
    const { rows } = await sql<{ silent_ms: number; marked: boolean }>`
      with camera as (
        select camera_id, status, extract(epoch from now() - last_seen_at) * 1000 as silent_ms
        from vms_cameras where account_id = ${accountId} and camera_id = ${cameraId}
        for update
      ), marked as (
        update vms_cameras v set status = 'offline', status_changed_at = now()
        from camera where v.camera_id = camera.camera_id and camera.status <> 'offline' and camera.silent_ms >= ${offlineAfterSeconds * 1000}
        returning v.camera_id
      )
      select camera.silent_ms, exists (select 1 from marked) as marked from camera`.execute(this.db);
    const row = rows[0];
    return row && { marked: row.marked, silentMs: Number(row.silent_ms) };
  }

  /**
   * The incident's latest snapshots (at most `max`, oldest first) and how many it has in all, counted as read: the
   * next snapshot signals the workflow again. Waits for an event still being stored for this incident (its
   * transaction holds the incident's row).
   */
  async verificationWindow(accountId: string, incidentId: string, max: number) {
    return this.db.transaction().execute(async (trx) => {
      const incident = await trx
        .updateTable('vms_incidents')
        .set({ snapshots_read: sql`snapshots` })
        .where('account_id', '=', accountId)
        .where('id', '=', incidentId)
        .returning(['camera_id', 'verified_frames', 'snapshots'])
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
      return {
        cameraId: incident.camera_id,
        verifiedFrames: incident.verified_frames,
        totalFrames: incident.snapshots,
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
        .executeTakeFirstOrThrow();
      await trx
        .updateTable('jobs')
        .set({ result: JSON.stringify(verification.result) })
        .where('account_id', '=', accountId)
        .where('id', '=', incidentId)
        .execute();
      const frameIds = window.map((f) => f.frameId);
      if (frameIds.length > 0) await trx.deleteFrom('detections').where('account_id', '=', accountId).where('frame_id', 'in', frameIds).execute();
      if (verification.detections.length > 0) {
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
      }
      // Last: the incident's row, which every event joining it updates, is held only from here to the commit.
      await trx
        .updateTable('vms_incidents')
        .set({ verdict: verification.verdict, verified_at: new Date(), verified_frames: verification.totalFrames, verification_error: null })
        .where('account_id', '=', accountId)
        .where('id', '=', incidentId)
        .execute();
    });
  }

  /** Records why a verification failed; the next one that succeeds clears it. */
  async recordVerificationFailure(accountId: string, incidentId: string, message: string): Promise<void> {
    const failure: VmsVerificationError = { code: FailureType.VerificationFailed, message, failed_at: new Date().toISOString() };
    await this.db
      .updateTable('vms_incidents')
      .set({ verification_error: JSON.stringify(failure) })
      .where('account_id', '=', accountId)
      .where('id', '=', incidentId)
      .execute();
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
