/** Fixture events as the load scripts submit them to a running Vigil. */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export interface FixtureEvent {
  /** The event folder's name. */
  name: string;
  /** Its images, in file-name order. */
  frames: { name: string; bytes: Buffer }[];
}

const IMAGE_FILE = /\.(jpe?g|png|bmp|webp)$/i;

export async function loadEvent(dir: string): Promise<FixtureEvent> {
  const names = (await readdir(dir)).filter((name) => IMAGE_FILE.test(name)).sort();
  const frames = await Promise.all(names.map(async (name) => ({ name, bytes: await readFile(path.join(dir, name)) })));
  return { name: path.basename(dir), frames };
}

/** Who sends a submission; each needs a zone of its own (the cooldown is per camera) and a fresh vendor event id. */
export interface AlarmSender {
  group_id: string;
  site_id: string;
  zone_id: string;
  vendor_event_id: string;
}

/** The multipart body of POST /api/v1/alarms: the event at a retail site, at a fixed local time. */
export function alarmForm(event: FixtureEvent, { group_id, site_id, zone_id, vendor_event_id }: AlarmSender): FormData {
  const form = new FormData();
  const fields = { group_id, site_id, zone_id, site_category: 'retail', vendor_event_id, timestamp: '2026-11-20 23:15:00' };
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  for (const frame of event.frames) form.append('images', new Blob([frame.bytes]), frame.name);
  return form;
}
