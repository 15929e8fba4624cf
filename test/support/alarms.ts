import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { fixturesDir } from './paths.js';
import { waitFor } from './wait.js';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: { success: boolean; error: { code: string; message: string; field?: string } | null; data: T };
}

export interface AlarmFile {
  name: string;
  bytes: Uint8Array;
  type?: string;
}

/** Every fixture event, as an alarm would send it: eight real frames each. */
export const fixtureEvents = [
  'highway_cyclist_on_shoulder',
  'parking_lot_cars',
  'parking_lot_empty_a',
  'pets2009_people_walking_a',
  'pets2009_people_walking_b',
  'tree_foliage_wind',
  'tree_hand_over_lens',
  'warehouse_worker_hardhat',
  'wsdot_i5_traffic_cam_sequence',
];

export async function eventFrames(event: string, count = 8): Promise<AlarmFile[]> {
  const folder = path.join(fixturesDir, 'events', event);
  const names = (await readdir(folder)).filter((n) => /\.(jpe?g|png)$/i.test(n)).sort().slice(0, count);
  return Promise.all(names.map(async (name) => ({ name, bytes: await readFile(path.join(folder, name)), type: 'image/jpeg' })));
}

/** An event's frames enlarged to 4096x3072, so detecting them takes long enough to be caught mid-way. */
export async function enlargedEventFrames(event: string, format: 'jpeg' | 'png' = 'jpeg'): Promise<AlarmFile[]> {
  return Promise.all(
    (await eventFrames(event)).map(async (frame) => {
      const resized = sharp(frame.bytes).resize(4096, 3072);
      return format === 'png'
        ? { name: frame.name.replace(/\.jpe?g$/, '.png'), bytes: await resized.png().toBuffer(), type: 'image/png' }
        : { name: frame.name, bytes: await resized.jpeg({ quality: 92 }).toBuffer(), type: 'image/jpeg' };
    }),
  );
}

export function alarmForm(fields: Record<string, string | undefined>, files: AlarmFile[], fileField = 'images'): FormData {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) form.append(key, value);
  for (const file of files) form.append(fileField, new Blob([file.bytes], { type: file.type ?? 'application/octet-stream' }), file.name);
  return form;
}

export function defaultFields(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    group_id: 'g001',
    site_id: 'site01',
    zone_id: `zone_${Math.random().toString(36).slice(2, 10)}`,
    site_category: 'retail',
    vendor_event_id: `evt-${Math.random().toString(36).slice(2, 12)}`,
    timestamp: '2026-11-20 23:15:00',
    ...overrides,
  };
}

export async function api<T = unknown>(baseUrl: string, pathname: string, init: RequestInit & { token?: string } = {}): Promise<ApiResponse<T>> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  const response = await fetch(baseUrl + pathname, { ...init, headers });
  const text = await response.text();
  let body: ApiResponse<T>['body'];
  try {
    body = JSON.parse(text) as ApiResponse<T>['body'];
  } catch {
    throw new Error(`${init.method ?? 'GET'} ${pathname} answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  return { status: response.status, headers: response.headers, body };
}

/** What an API family that answers without the envelope (specs 2 and 5) sends: its document, or `{error}`. */
export interface BareApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T & { error?: { code: string; message: string; field?: string } };
}

export async function bareApi<T = unknown>(baseUrl: string, pathname: string, init: RequestInit & { token?: string } = {}): Promise<BareApiResponse<T>> {
  return (await api(baseUrl, pathname, init)) as unknown as BareApiResponse<T>;
}

export function submitAlarm(baseUrl: string, token: string | undefined, form: FormData, headers: Record<string, string> = {}) {
  return api<{ job_id: string; status: string; duplicate?: boolean }>(baseUrl, '/api/v1/alarms', { method: 'POST', body: form, token, headers });
}

export interface JobStatus {
  job_id: string;
  status: string;
  stage: string;
  error: { code: string; message: string } | null;
}

export async function waitForTerminal(baseUrl: string, token: string, jobId: string, timeoutMs = 90_000): Promise<JobStatus> {
  return waitFor(
    `job ${jobId} to end`,
    async () => {
      const { body } = await api<JobStatus>(baseUrl, `/api/v1/alarms/${jobId}`, { token });
      return ['finished', 'failed', 'cancelled'].includes(body.data.status) ? body.data : undefined;
    },
    timeoutMs,
    200,
  );
}

/** Waits until the job's detection activity has started on a worker and sent its first heartbeat. */
export async function waitForDetectionUnderWay(temporal: Client, jobId: string, timeoutMs = 90_000): Promise<void> {
  const { PendingActivityState } = proto.temporal.api.enums.v1;
  await waitFor(
    'detection to be under way',
    async () => {
      const pending = (await temporal.workflow.getHandle(jobId).describe()).raw.pendingActivities ?? [];
      return pending.some(
        (a) => a.activityType?.name === 'detectFrames' && a.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED && a.heartbeatDetails,
      );
    },
    timeoutMs,
    20,
  );
}
