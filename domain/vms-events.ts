import type { Decision, Sensitivity, SiteCategory } from './types.js';

/**
 * VMS events in the Ultinous AI Suite schema (version 5) and what Vigil makes of them. Pure: the API,
 * the ingest command, the activities and the workflows read the same lists.
 */

/** Event types, in the schema's enum order (its numeric values are the indexes). */
export const vmsEventTypes = [
  'UNKNOWN',
  'CROWD_DETECTION',
  'INTRUSION_DETECTION',
  'MULTI_OBJECT_DETECTION',
  'ZONE_CROSSING',
  'LOITERING_DETECTION',
  'STOPPED_DETECTION',
  'WRONG_DIRECTION_DETECTION',
  'PPE_DETECTION',
] as const;
export type VmsEventType = (typeof vmsEventTypes)[number];

/** The detail block each type carries: one of these keys, never another. UNKNOWN carries none. */
export const detailKeyOfType: Readonly<Record<Exclude<VmsEventType, 'UNKNOWN'>, string>> = {
  CROWD_DETECTION: 'crowd_detection_details',
  INTRUSION_DETECTION: 'intrusion_detection_details',
  MULTI_OBJECT_DETECTION: 'multi_object_detection_details',
  ZONE_CROSSING: 'zone_crossing_details',
  LOITERING_DETECTION: 'loitering_details',
  STOPPED_DETECTION: 'stopped_details',
  WRONG_DIRECTION_DETECTION: 'wrong_direction_details',
  PPE_DETECTION: 'ppe_detection_details',
};
export const detailKeys = Object.values(detailKeyOfType);

/** Object types of the schema's detections, in enum order. */
export const vmsObjectTypes = [
  'PERSON_HEAD',
  'PERSON_FULL_BODY',
  'CAR',
  'BUS',
  'BOAT',
  'TRUCK',
  'MOTORCYCLE',
  'BICYCLE',
  'TRAIN',
  'AIRPLANE',
] as const;
export type VmsObjectType = (typeof vmsObjectTypes)[number];

/** Vigil's object types (COCO names) as the schema names them, for forwarding; the others have no schema name. */
const vmsObjectTypeOfLabel: Readonly<Record<string, VmsObjectType>> = {
  person: 'PERSON_FULL_BODY',
  car: 'CAR',
  bus: 'BUS',
  boat: 'BOAT',
  truck: 'TRUCK',
  motorcycle: 'MOTORCYCLE',
  bicycle: 'BICYCLE',
  train: 'TRAIN',
  airplane: 'AIRPLANE',
};

export function vmsObjectTypeOf(label: string): VmsObjectType | undefined {
  return Object.hasOwn(vmsObjectTypeOfLabel, label) ? vmsObjectTypeOfLabel[label] : undefined;
}

export interface VmsBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface VmsDetection {
  type: VmsObjectType;
  bounding_box: VmsBox;
  detection_confidence: number;
}

/**
 * What Vigil tells the integrator of an incident: `pending` until a snapshot was verified, `real` or
 * `suppressed` after, `unverified` for one closed without any snapshot.
 */
export const vmsVerdicts = ['pending', 'real', 'suppressed', 'unverified'] as const;
export type VmsVerdict = (typeof vmsVerdicts)[number];

/**
 * The verdict of verified snapshots from the alarm rules' decision. The VMS raises events only in zones it
 * watches, so the rules run without business hours: a target they keep (Maybe: present; Yes: e.g. a weapon)
 * makes the incident real; nothing left after the nuisance filters, or only parked vehicles (No), suppresses it.
 */
export function verdictOf(decision: Decision): 'real' | 'suppressed' {
  return decision === 'No' ? 'suppressed' : 'real';
}

/** Snapshots an incident is verified on: its latest ones, at most this many (as an alarm's frames). */
export const maxIncidentSnapshots = 8;

/** Webhook event types beside the job envelope's: a verdict while an incident is open, a confirmed incident forwarded, camera health. */
export const vmsWebhookEventTypes = ['vms_incident.verified', 'vms_incident.forwarded', 'camera.offline', 'camera.online'] as const;
export type VmsWebhookEventType = (typeof vmsWebhookEventTypes)[number];

/**
 * How a VMS incident's snapshots go through the alarm rules: every filter (sensitivity 2), a site category
 * without business hours and no local time, as the VMS raises events only where and when its zones are armed.
 */
export const vmsIncidentDecisionSettings = { sensitivity: 2, siteCategory: 'other' } as const satisfies { sensitivity: Sensitivity; siteCategory: SiteCategory };

/** The name of the account's webhook target that confirmed incidents are forwarded to (a VMS or PSIM). */
export const vmsForwardTargetName = 'vms_forward';

export interface ForwardedIncident {
  /** The forwarded message's own id (the schema's ids are unique per message). */
  eventId: string;
  timestampMs: number;
  displayName: string;
  type: Exclude<VmsEventType, 'UNKNOWN'>;
  configId: string;
  camera: { cameraId: string; displayName: string; technicalName: string; width: number | null; height: number | null; frameTimestampMs: number | null };
  /** Vigil's detections on the snapshot, boxes as x1, y1, x2, y2. */
  detections: { label: string; score: number; box: [number, number, number, number] }[];
  snapshotBase64: string;
}

/**
 * A confirmed incident as an event of the VMS's own schema (version 5), for a VMS or PSIM that reads it: Vigil's
 * detections (those the schema can name) and the snapshot they were found on, under the type's detail block.
 */
export function forwardedEventOf(incident: ForwardedIncident): Record<string, unknown> {
  const detections: VmsDetection[] = incident.detections.flatMap((d) => {
    const type = vmsObjectTypeOf(d.label);
    if (!type) return [];
    const [x1, y1, x2, y2] = d.box.map((v) => Math.round(v)) as [number, number, number, number];
    return [{ type, bounding_box: { x: x1, y: y1, width: Math.max(0, x2 - x1), height: Math.max(0, y2 - y1) }, detection_confidence: Number(d.score.toFixed(4)) }];
  });
  const source = {
    camera_id: incident.camera.cameraId,
    camera_display_name: incident.camera.displayName,
    camera_technical_name: incident.camera.technicalName,
    width: incident.camera.width ?? 0,
    height: incident.camera.height ?? 0,
    source_topic: '',
    frame_timestamp: incident.camera.frameTimestampMs ?? incident.timestampMs,
    detections,
    snapshot: incident.snapshotBase64,
  };
  const event: Record<string, unknown> = {
    id: incident.eventId,
    timestamp: incident.timestampMs,
    display_name: incident.displayName,
    type: incident.type,
    config_id: incident.configId,
    heartbeat: false,
  };
  for (const key of detailKeys) event[key] = null;
  event[detailKeyOfType[incident.type]] =
    incident.type === 'CROWD_DETECTION'
      ? { num_of_people: detections.filter((d) => d.type === 'PERSON_FULL_BODY').length, sources: [source] }
      : { source, end_of_event: false };
  event.schema_version = 5;
  return event;
}
