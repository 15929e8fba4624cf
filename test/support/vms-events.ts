import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fixturesDir } from './paths.js';

/**
 * VMS event messages in the Ultinous AI Suite schema (version 5), shaped as the vendor's own examples are:
 * every detail key present (null but the type's), numbers sometimes quoted, "" or null snapshots, zero-height
 * boxes. `id` and camera are the caller's, so tests do not collide.
 */

const detailKeys = {
  CROWD_DETECTION: 'crowd_detection_details',
  INTRUSION_DETECTION: 'intrusion_detection_details',
  MULTI_OBJECT_DETECTION: 'multi_object_detection_details',
  ZONE_CROSSING: 'zone_crossing_details',
  LOITERING_DETECTION: 'loitering_details',
  STOPPED_DETECTION: 'stopped_details',
  WRONG_DIRECTION_DETECTION: 'wrong_direction_details',
  PPE_DETECTION: 'ppe_detection_details',
} as const;
export type ExampleType = keyof typeof detailKeys;

export interface ExampleDetection {
  type: string;
  bounding_box: { x: number | string; y: number | string; width: number | string; height: number | string };
  detection_confidence: number | string;
}

export const personBox: ExampleDetection = { type: 'PERSON_FULL_BODY', bounding_box: { x: 398, y: 35, width: 101, height: 140 }, detection_confidence: 0.65235364 };

export interface ExampleOptions {
  id: string;
  type?: ExampleType;
  cameraId?: string;
  technicalName?: string;
  configId?: string;
  displayName?: string;
  detections?: ExampleDetection[];
  snapshot?: string | null;
  endOfEvent?: boolean;
  heartbeat?: boolean;
  /** Timestamps as strings, as the loitering example sends them. */
  quotedNumbers?: boolean;
}

function cameraRecord(options: ExampleOptions, timestamp: number) {
  const stamp = options.quotedNumbers ? String(timestamp) : timestamp;
  return {
    camera_id: options.cameraId ?? 'cam76',
    camera_display_name: 'Example Camera',
    camera_technical_name: options.technicalName ?? `${options.cameraId ?? 'cam76'}-tech-name`,
    width: 1920,
    height: 1080,
    source_topic: '',
    frame_timestamp: stamp,
    detections: options.detections ?? [personBox],
    snapshot: options.snapshot === undefined ? '' : options.snapshot,
  };
}

/** One event message; crowd events carry their camera in `sources`, the others in `source`. */
export function exampleEvent(options: ExampleOptions): Record<string, unknown> {
  const type = options.type ?? 'INTRUSION_DETECTION';
  const timestamp = 1648549923245;
  const event: Record<string, unknown> = {
    id: options.id,
    timestamp: options.quotedNumbers ? String(timestamp) : timestamp,
    display_name: options.displayName ?? `${type} example`,
    type,
    config_id: options.configId ?? 'alert85',
    heartbeat: options.heartbeat ?? false,
  };
  for (const key of Object.values(detailKeys)) event[key] = null;
  const record = cameraRecord(options, timestamp);
  event[detailKeys[type]] =
    type === 'CROWD_DETECTION'
      ? { num_of_people: (options.detections ?? [personBox]).length, sources: [record] }
      : { source: record, end_of_event: options.endOfEvent ?? false };
  event.schema_version = 5;
  return event;
}

export async function fixtureJpeg(event: string, frame = 0): Promise<Buffer> {
  return readFile(path.join(fixturesDir, 'events', event, `frame_${String(frame).padStart(2, '0')}.jpg`));
}

export async function fixtureSnapshot(event: string, frame = 0): Promise<string> {
  return (await fixtureJpeg(event, frame)).toString('base64');
}
