/**
 * Fixed-rate load on a running Vigil on this host:
 *   npm run load -- --url http://127.0.0.1:8080 --token <token> --rate 5 --duration 60 [--drain 180] [--poll-ms 250] [--events <dir>]
 * Submits one alarm every 1/rate s for `duration` s whatever the answers (open loop, so a slow server
 * cannot slow the arrivals down), rotating over the fixture events, each submission in a zone of its own
 * (the cooldown is per camera). Meanwhile, and then until the drain deadline, polls every accepted job that has
 * not ended, one pass over them every `--poll-ms`: each poll is a status request the stack serves besides the
 * alarms (a client that waits for the webhook instead polls nothing; one that polls each alarm every second, 1000).
 * Prints accept latency p50/p99, submit→finished p50/p95/p99 (the server's finished_at against the send
 * time: same host, same clock), throughput (from the first send to the last end, and from the first end to the
 * last) and lost jobs (accepted, not ended by the deadline), then one JSON line. Exits 1 when a job was lost or a submission was not accepted.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { fail, loadTarget } from './lib/load-target.js';
import { alarmForm, loadEvent, type FixtureEvent } from './lib/events.js';
import { summarise } from './lib/stats.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Load stays small and local: these bound one run in rate, count and time.
const MAX_RATE = 50;
const MAX_DURATION_S = 300;
const MAX_DRAIN_S = 600;
const REQUEST_TIMEOUT_MS = 30_000;
const POLL_CONCURRENCY = 4;
const MIN_POLL_MS = 10;
const MAX_POLL_MS = 10_000;

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8080' },
    token: { type: 'string' },
    rate: { type: 'string', default: '2' },
    duration: { type: 'string', default: '30' },
    drain: { type: 'string', default: '180' },
    'poll-ms': { type: 'string', default: '250' },
    events: { type: 'string', default: path.resolve(repoRoot, '../shared/fixtures/media/events') },
  },
});

const { baseUrl, token } = loadTarget(values.url, values.token);
const rate = Number(values.rate);
const durationS = Number(values.duration);
const drainS = Number(values.drain);
const pollMs = Number(values['poll-ms']);
if (!(rate > 0 && rate <= MAX_RATE)) fail(`--rate must be above 0 and at most ${MAX_RATE} per second.`);
if (!(durationS > 0 && durationS <= MAX_DURATION_S)) fail(`--duration must be above 0 and at most ${MAX_DURATION_S} s.`);
if (!(drainS >= 0 && drainS <= MAX_DRAIN_S)) fail(`--drain must be 0 to ${MAX_DRAIN_S} s.`);
if (!(pollMs >= MIN_POLL_MS && pollMs <= MAX_POLL_MS)) fail(`--poll-ms must be ${MIN_POLL_MS} to ${MAX_POLL_MS}.`);

async function loadEvents(folder: string): Promise<FixtureEvent[]> {
  const events: FixtureEvent[] = [];
  for (const entry of (await readdir(folder, { withFileTypes: true })).filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const event = await loadEvent(path.join(folder, entry.name));
    // The API takes 4, 6 or 8 frames.
    const count = [8, 6, 4].find((n) => event.frames.length >= n);
    if (count !== undefined) events.push({ ...event, frames: event.frames.slice(0, count) });
  }
  if (events.length === 0) fail(`No event folders with 4 or more frames in ${folder}.`);
  return events;
}

interface Submission {
  index: number;
  event: string;
  /** Wall-clock send time, comparable with the server's finished_at on the same host. */
  sentAtMs: number;
  acceptMs?: number;
  status?: number;
  error?: string;
  jobId?: string;
  finalStatus?: string;
  finishedAtMs?: number;
}

interface StatusBody {
  data: { status: string; finished_at: string | null } | null;
}

const events = await loadEvents(values.events);
const headers = { authorization: `Bearer ${token}` };
const runTag = Date.now().toString(36);
const total = Math.max(1, Math.round(rate * durationS));
const submissions: Submission[] = [];

async function submit(submission: Submission, event: FixtureEvent): Promise<void> {
  const form = alarmForm(event, { group_id: 'load', site_id: `load_${runTag}`, zone_id: `z${submission.index}`, vendor_event_id: `${runTag}-${submission.index}` });
  const started = performance.now();
  try {
    const response = await fetch(new URL('/api/v1/alarms', baseUrl), { method: 'POST', body: form, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const body = (await response.json()) as { data: { job_id: string } | null; error: { code: string } | null };
    submission.acceptMs = performance.now() - started;
    submission.status = response.status;
    if (response.status === 202 && body.data) submission.jobId = body.data.job_id;
    else submission.error = body.error?.code ?? `HTTP ${response.status}`;
  } catch (error) {
    submission.error = error instanceof Error ? error.message : String(error);
  }
}

async function pollOnce(pending: Submission[]): Promise<void> {
  let next = 0;
  const poller = async () => {
    for (let i = next++; i < pending.length; i = next++) {
      const submission = pending[i]!;
      try {
        const response = await fetch(new URL(`/api/v1/alarms/${submission.jobId}`, baseUrl), { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        const { data } = (await response.json()) as StatusBody;
        if (data && ['finished', 'failed', 'cancelled'].includes(data.status)) {
          submission.finalStatus = data.status;
          submission.finishedAtMs = data.finished_at ? Date.parse(data.finished_at) : Date.now();
        }
      } catch {
        // Polled again on the next pass.
      }
    }
  };
  await Promise.all(Array.from({ length: POLL_CONCURRENCY }, poller));
}

console.log(`load: ${total} alarms at ${rate}/s for ${durationS} s over ${events.length} fixture events, each in its own zone, against ${baseUrl.origin}; every pending job polled each ${pollMs} ms`);
const startedAt = Date.now();
const inFlight: Promise<void>[] = [];
let submitting = true;
let drainDeadline = Infinity;
const polling = (async () => {
  const pendingJobs = () => submissions.filter((s) => s.jobId !== undefined && s.finalStatus === undefined);
  for (;;) {
    const submittedAll = !submitting;
    const pending = pendingJobs();
    if (submittedAll && pending.length === 0) return;
    if (submittedAll && Date.now() > drainDeadline) return;
    await pollOnce(pending);
    await delay(pollMs);
  }
})();

for (let index = 0; index < total; index++) {
  const due = startedAt + (index * 1000) / rate;
  if (due > Date.now()) await delay(due - Date.now());
  const event = events[index % events.length]!;
  const submission: Submission = { index, event: event.name, sentAtMs: Date.now() };
  submissions.push(submission);
  inFlight.push(submit(submission, event));
}
const lastSentAt = Date.now();
await Promise.all(inFlight);
drainDeadline = lastSentAt + drainS * 1000;
submitting = false;
await polling;

const accepted = submissions.filter((s) => s.jobId !== undefined);
const refused = submissions.filter((s) => s.jobId === undefined);
const ended = accepted.filter((s) => s.finalStatus !== undefined);
const finished = ended.filter((s) => s.finalStatus === 'finished');
const lost = accepted.filter((s) => s.finalStatus === undefined);
const endTimes = ended.map((s) => s.finishedAtMs!);
const lastFinishedAt = Math.max(...endTimes);
const spanS = ended.length > 0 ? (lastFinishedAt - startedAt) / 1000 : NaN;
const endingSpanS = (lastFinishedAt - Math.min(...endTimes)) / 1000;

const summary = {
  url: baseUrl.origin,
  rate,
  durationS,
  pollMs,
  events: events.length,
  submitted: submissions.length,
  accepted: accepted.length,
  refused: refused.length,
  refusedReasons: [...new Set(refused.map((s) => s.error))],
  finished: finished.length,
  failed: ended.length - finished.length,
  lost: lost.length,
  acceptMs: summarise(accepted.map((s) => s.acceptMs!), [50, 99]),
  submitToFinishedMs: summarise(ended.map((s) => s.finishedAtMs! - s.sentAtMs), [50, 95, 99]),
  /** Jobs ended per second, from the first send to the last end. */
  throughputPerS: Number((ended.length / spanS).toFixed(2)),
  /**
   * Jobs ended per second from the first end to the last: the rate the stack sustains, which is the offered rate
   * when it keeps up (`throughputPerS` also counts the first job's wait and the last one's, so it stays below).
   */
  completionRatePerS: endingSpanS > 0 ? Number(((ended.length - 1) / endingSpanS).toFixed(2)) : null,
  drainedAfterS: ended.length > 0 ? Number(((lastFinishedAt - lastSentAt) / 1000).toFixed(1)) : null,
};
const { acceptMs, submitToFinishedMs } = summary;
console.log(
  `accepted ${summary.accepted}/${summary.submitted} (refused ${summary.refused}), finished ${summary.finished}, failed ${summary.failed}, lost ${summary.lost}\n` +
    `accept latency p50 ${acceptMs?.p50} ms, p99 ${acceptMs?.p99} ms\n` +
    `submit→finished p50 ${submitToFinishedMs?.p50} ms, p95 ${submitToFinishedMs?.p95} ms, p99 ${submitToFinishedMs?.p99} ms\n` +
    `throughput ${summary.throughputPerS} jobs/s (offered ${rate}/s), ${summary.completionRatePerS}/s from the first end to the last; the last job ended ${summary.drainedAfterS} s after the last send`,
);
if (lost.length > 0) console.log(`lost: ${lost.map((s) => s.jobId).join(', ')}`);
console.log(JSON.stringify(summary));
process.exit(lost.length > 0 || refused.length > 0 ? 1 : 0);
