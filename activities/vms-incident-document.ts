import type { Db } from '../db/database.js';
import { VmsRepository } from '../db/repositories/vms.js';
import type { VmsIncidentResult } from '../db/schema.js';
import type { VmsDetection } from '../domain/vms-events.js';

/**
 * A VMS incident as `GET /api/v1/vms/incidents/{id}` returns it, and as its webhooks carry it: the key, the
 * verdict, and per event the VMS's boxes beside Vigil's detections on that event's snapshot.
 */
export async function loadVmsIncidentDocument(db: Db, accountId: string, incidentId: string) {
  const vms = new VmsRepository(db);
  const incident = await vms.incident(accountId, incidentId);
  if (!incident) return undefined;
  const [events, detections] = await Promise.all([vms.incidentEvents(accountId, incidentId), vms.incidentDetections(accountId, incidentId)]);
  const result = incident.result as VmsIncidentResult | null;
  const byFrame = new Map<number, typeof detections>();
  for (const d of detections) byFrame.set(d.frame_index, [...(byFrame.get(d.frame_index) ?? []), d]);
  return {
    incident_id: incident.id,
    status: incident.status,
    verdict: incident.verdict,
    type: incident.type,
    config_id: incident.config_id,
    display_name: incident.display_name,
    camera: { camera_id: incident.vms_camera_id, technical_name: incident.technical_name, display_name: incident.camera_display_name },
    opened_at: incident.opened_at.toISOString(),
    last_event_at: incident.last_event_at.toISOString(),
    verified_at: incident.verified_at?.toISOString() ?? null,
    closed_at: incident.closed_at?.toISOString() ?? null,
    /** Why the last verification failed (`VERIFICATION_FAILED`), until one succeeds. */
    verification_error: incident.verification_error,
    decision: result?.decision ?? null,
    crime_rate: result?.crime_rate ?? null,
    description: result?.ai_description ?? null,
    indicators: result?.ai_decision_indicators ?? [],
    events: events.map((event) => ({
      event_id: event.event_id,
      received_at: event.received_at.toISOString(),
      frame_timestamp: event.frame_timestamp?.toISOString() ?? null,
      snapshot: event.frame_index === null ? null : { frame_index: event.frame_index, width: event.width, height: event.height },
      vms_detections: event.vms_detections as VmsDetection[],
      vigil_detections: (event.frame_index === null ? [] : (byFrame.get(event.frame_index) ?? [])).map((d) => ({
        object_type: d.label,
        confidence: d.score,
        box: [d.x1, d.y1, d.x2, d.y2],
        kept: d.kept,
        filtered_by: d.filtered_by,
      })),
    })),
  };
}

export type VmsIncidentDocument = NonNullable<Awaited<ReturnType<typeof loadVmsIncidentDocument>>>;
