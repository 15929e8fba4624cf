import type { Selectable } from 'kysely';
import type { VmsCamerasTable } from '../../db/schema.js';
import type { IngestOutcome } from '../../commands/ingest-vms-event.js';
import type { IncidentPosition } from '../../db/repositories/vms.js';

/** The answer to an event: its id, whether it had been received before, the incidents it opened, joined or closed. */
export function presentIngested(outcome: Exclude<IngestOutcome, { outcome: 'refused' }>) {
  return outcome.outcome === 'duplicate'
    ? { event_id: outcome.eventId, duplicate: true, incident_ids: [], closed_incident_ids: [] }
    : { event_id: outcome.eventId, duplicate: false, incident_ids: outcome.incidentIds, closed_incident_ids: outcome.closedIncidentIds };
}

export function presentCamera(camera: Selectable<VmsCamerasTable>) {
  return {
    camera_id: camera.vms_camera_id,
    technical_name: camera.technical_name,
    display_name: camera.display_name,
    last_seen_at: camera.last_seen_at.toISOString(),
    status: camera.status,
    status_changed_at: camera.status_changed_at.toISOString(),
  };
}

/** Opaque page cursors over incidents, newest first: the last one served (its opening time and id), base64url JSON. */
export function encodeIncidentCursor(position: IncidentPosition): string {
  return Buffer.from(JSON.stringify({ t: position.openedAt.getTime(), id: position.id })).toString('base64url');
}

export function decodeIncidentCursor(cursor: string): IncidentPosition | undefined {
  if (!/^[A-Za-z0-9_-]{1,300}$/.test(cursor)) return undefined;
  try {
    const { t, id } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { t?: unknown; id?: unknown };
    if (typeof t !== 'number' || !Number.isSafeInteger(t) || typeof id !== 'string' || !/^vms_incident_[0-9a-f]{24}$/.test(id)) return undefined;
    return { openedAt: new Date(t), id };
  } catch {
    return undefined;
  }
}
