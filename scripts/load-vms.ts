/**
 * Fixed-rate VMS event load on a running Vigil on this host:
 *   npm run load:vms -- --url http://127.0.0.1:8080 --token <token> [--rate 20] [--duration 30] [--cameras 10] [--drain 180] [--events <dir>]
 * Posts one intrusion event every 1/rate s for `duration` s whatever the answers (open loop), spread over
 * `cameras` cameras, each with a fixture JPEG snapshot (rotating over the events' frames); then one
 * end-of-event message per camera. Drains: polls each camera's incidents until every one is closed and verified
 * or the deadline. Prints accept latency p50/p95/p99, incidents opened, verified real and suppressed, and lost
 * events (answered 202 but in no incident), then one JSON line. Exits 1 when an event was lost or refused.
 * Beside the events, at the same rate, it times `GET /healthz` (an answer with no work behind it): the bare
 * baseline of what the machine's load alone costs a request in the same run. The load average is printed before,
 * during and after the sending.
 */
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { fail, loadTarget } from './lib/load-target.js';
import { summarise } from './lib/stats.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Load stays small and local: these bound one run in rate, count and time.
const MAX_RATE = 100;
const MAX_DURATION_S = 300;
const MAX_CAMERAS = 100;
const MAX_DRAIN_S = 600;
const REQUEST_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 1000;

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8080' },
    token: { type: 'string' },
    rate: { type: 'string', default: '20' },
    duration: { type: 'string', default: '30' },
    cameras: { type: 'string', default: '10' },
    drain: { type: 'string', default: '180' },
    events: { type: 'string', default: path.resolve(repoRoot, '../shared/fixtures/media/events') },
  },
});

const { baseUrl, token } = loadTarget(values.url, values.token);
const rate = Number(values.rate);
const durationS = Number(values.duration);
const cameraCount = Number(values.cameras);
const drainS = Number(values.drain);
if (!(rate > 0 && rate <= MAX_RATE)) fail(`--rate must be above 0 and at most ${MAX_RATE} per second.`);
if (!(durationS > 0 && durationS <= MAX_DURATION_S)) fail(`--duration must be above 0 and at most ${MAX_DURATION_S} s.`);
if (!(Number.isInteger(cameraCount) && cameraCount >= 1 && cameraCount <= MAX_CAMERAS)) fail(`--cameras must be 1 to ${MAX_CAMERAS}.`);
if (!(drainS >= 0 && drainS <= MAX_DRAIN_S)) fail(`--drain must be 0 to ${MAX_DRAIN_S} s.`);

/** Every JPEG of the fixture events, base64, in a stable order. */
async function loadSnapshots(folder: string): Promise<string[]> {
  const snapshots: string[] = [];
  for (const entry of (await readdir(folder, { withFileTypes: true })).filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const names = (await readdir(path.join(folder, entry.name))).filter((n) => /\.jpe?g$/i.test(n)).sort();
    for (const name of names) snapshots.push((await readFile(path.join(folder, entry.name, name))).toString('base64'));
  }
  if (snapshots.length === 0) fail(`No JPEG frames under ${folder}.`);
  return snapshots;
}

interface Sent {
  id: string;
  camera: string;
  acceptMs?: number;
  status?: number;
  error?: string;
}

const runTag = Date.now().toString(36);
const cameraIds = Array.from({ length: cameraCount }, (_, i) => `load-${runTag}-${i}`);
const displayNameOf = (camera: string) => `Load ${camera}`;

function event(id: string, camera: string, snapshot: string, endOfEvent: boolean) {
  return {
    id,
    timestamp: Date.now(),
    display_name: displayNameOf(camera),
    type: 'INTRUSION_DETECTION',
    config_id: 'load-zone',
    heartbeat: false,
    intrusion_detection_details: {
      source: {
        camera_id: camera,
        camera_display_name: camera,
        camera_technical_name: camera,
        width: 0,
        height: 0,
        source_topic: '',
        frame_timestamp: Date.now(),
        detections: endOfEvent ? [] : [{ type: 'PERSON_FULL_BODY', bounding_box: { x: 100, y: 100, width: 80, height: 200 }, detection_confidence: 0.8 }],
        snapshot,
      },
      end_of_event: endOfEvent,
    },
    schema_version: 5,
  };
}

/** The machine's load average (1, 5, 15 min), as `uptime` prints it. */
const loadAverage = () => os.loadavg().map((l) => l.toFixed(2)).join(', ');

/** The bare baseline: one `GET /healthz`, its latency in ms (undefined when it failed). */
async function timeHealthz(): Promise<number | undefined> {
  const started = performance.now();
  try {
    const response = await fetch(new URL('/healthz', baseUrl), { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    await response.arrayBuffer();
    return response.ok ? performance.now() - started : undefined;
  } catch {
    return undefined;
  }
}

const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

async function post(sent: Sent, body: unknown): Promise<void> {
  const started = performance.now();
  try {
    const response = await fetch(new URL('/api/v1/vms/events', baseUrl), { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const answer = (await response.json()) as { error: { code: string } | null };
    sent.acceptMs = performance.now() - started;
    sent.status = response.status;
    if (response.status !== 202) sent.error = answer.error?.code ?? `HTTP ${response.status}`;
  } catch (error) {
    sent.error = error instanceof Error ? error.message : String(error);
  }
}

interface IncidentDoc {
  incident_id: string;
  status: string;
  verdict: string;
  events: { event_id: string }[];
}

async function incidentsOf(camera: string): Promise<IncidentDoc[]> {
  const found: IncidentDoc[] = [];
  let cursor: string | null = null;
  do {
    const url = new URL('/api/v1/vms/incidents', baseUrl);
    url.searchParams.set('camera_id', camera);
    url.searchParams.set('limit', '100');
    if (cursor) url.searchParams.set('cursor', cursor);
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const { data } = (await response.json()) as { data: { items: IncidentDoc[]; next_cursor: string | null } };
    found.push(...data.items);
    cursor = data.next_cursor;
  } while (cursor);
  return found;
}

const snapshots = await loadSnapshots(values.events);
const total = Math.max(1, Math.round(rate * durationS));
console.log(`load:vms: ${total} events at ${rate}/s for ${durationS} s over ${cameraCount} cameras, ${snapshots.length} fixture snapshots, against ${baseUrl.origin}`);
const loadBefore = loadAverage();
console.log(`load average before: ${loadBefore}`);
const sent: Sent[] = [];
const inFlight: Promise<void>[] = [];
const healthz: Promise<number | undefined>[] = [];
let loadDuring = '';
const startedAt = Date.now();
for (let index = 0; index < total; index++) {
  const due = startedAt + (index * 1000) / rate;
  if (due > Date.now()) await delay(due - Date.now());
  const camera = cameraIds[index % cameraCount]!;
  const entry: Sent = { id: `${runTag}-${index}@load`, camera };
  sent.push(entry);
  inFlight.push(post(entry, event(entry.id, camera, snapshots[index % snapshots.length]!, false)));
  // Half a period later: the baseline's requests fall between the events, at the same rate.
  healthz.push(delay(500 / rate).then(timeHealthz));
  if (index === Math.floor(total / 2)) loadDuring = loadAverage();
}
await Promise.all(inFlight);
const healthzMs = (await Promise.all(healthz)).filter((ms) => ms !== undefined);
const loadAfter = loadAverage();
// Each camera's incident ends, as the VMS ends it.
const ends = cameraIds.map((camera) => ({ id: `${runTag}-end-${camera}@load`, camera }) as Sent);
await Promise.all(ends.map((end) => post(end, event(end.id, end.camera, '', true))));
const lastSentAt = Date.now();

const accepted = sent.filter((s) => s.status === 202);
const deadline = lastSentAt + drainS * 1000;
const settled = (found: IncidentDoc[]) => found.length > 0 && found.every((i) => i.status === 'closed' && i.verdict !== 'pending');
let incidents = (await Promise.all(cameraIds.map(incidentsOf))).flat();
while (!settled(incidents) && Date.now() < deadline) {
  await delay(POLL_INTERVAL_MS);
  incidents = (await Promise.all(cameraIds.map(incidentsOf))).flat();
}
const drainedAfterS = (Date.now() - lastSentAt) / 1000;
const inIncidents = new Set(incidents.flatMap((i) => i.events.map((e) => e.event_id)));
const lost = accepted.filter((s) => !inIncidents.has(s.id));
const refused = [...sent, ...ends].filter((s) => s.status !== 202);

const summary = {
  url: baseUrl.origin,
  rate,
  durationS,
  cameras: cameraCount,
  submitted: sent.length,
  accepted: accepted.length,
  refused: refused.length,
  refusedReasons: [...new Set(refused.map((s) => s.error))],
  lost: lost.length,
  acceptMs: summarise(accepted.map((s) => s.acceptMs!), [50, 95, 99]),
  healthzMs: summarise(healthzMs, [50, 95, 99]),
  healthzFailed: healthz.length - healthzMs.length,
  loadAverage: { before: loadBefore, during: loadDuring, after: loadAfter },
  incidents: incidents.length,
  closed: incidents.filter((i) => i.status === 'closed').length,
  verifiedReal: incidents.filter((i) => i.verdict === 'real').length,
  verifiedSuppressed: incidents.filter((i) => i.verdict === 'suppressed').length,
  unverified: incidents.filter((i) => i.verdict === 'pending' || i.verdict === 'unverified').length,
  drainedAfterS: Number(drainedAfterS.toFixed(1)),
};
const { acceptMs, healthzMs: bare } = summary;
console.log(
  `accepted ${summary.accepted}/${summary.submitted} (refused ${summary.refused}), lost ${summary.lost}\n` +
    `accept latency p50 ${acceptMs?.p50} ms, p95 ${acceptMs?.p95} ms, p99 ${acceptMs?.p99} ms\n` +
    `bare baseline GET /healthz at the same rate: p50 ${bare?.p50} ms, p95 ${bare?.p95} ms, p99 ${bare?.p99} ms (${summary.healthzFailed} failed)\n` +
    `load average (1, 5, 15 min) before ${loadBefore}, during ${loadDuring}, after the sending ${loadAfter}\n` +
    `incidents ${summary.incidents} (closed ${summary.closed}): real ${summary.verifiedReal}, suppressed ${summary.verifiedSuppressed}, unverified ${summary.unverified}; settled ${summary.drainedAfterS} s after the last send`,
);
if (lost.length > 0) console.log(`lost: ${lost.slice(0, 20).map((s) => s.id).join(', ')}`);
console.log(JSON.stringify(summary));
process.exit(lost.length > 0 || refused.length > 0 ? 1 : 0);
