/**
 * Submit→finished latency of a running Vigil, one alarm at a time:
 *   npm run bench:alarm -- --url http://127.0.0.1:8080 --token <token> [--count 20] [--event <dir>]
 * Each submission goes to its own zone (the per-camera cooldown would refuse the next one).
 * Prints per-run times, then p50/p95 of the client-observed time and of the server's
 * created_at → finished_at, and one JSON summary as the last line.
 */
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { alarmForm, loadEvent } from './lib/events.js';
import { summarise } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8080' },
    token: { type: 'string' },
    count: { type: 'string', default: '20' },
    event: { type: 'string', default: '../shared/fixtures/media/events/pets2009_people_walking_a' },
    'poll-ms': { type: 'string', default: '10' },
  },
});
if (!values.token) throw new Error('--token is required (npm run vigil -- token create --account bench)');
const count = Math.min(Number(values.count), 500);
const pollMs = Number(values['poll-ms']);
const event = await loadEvent(values.event);
const headers = { authorization: `Bearer ${values.token}` };
const runTag = Date.now().toString(36);

const clientMs: number[] = [];
const serverMs: number[] = [];
const acceptMs: number[] = [];
for (let i = 0; i < count; i++) {
  const form = alarmForm(event, { group_id: 'bench', site_id: runTag, zone_id: `z${i}`, vendor_event_id: `${runTag}-${i}` });

  const started = performance.now();
  const response = await fetch(`${values.url}/api/v1/alarms`, { method: 'POST', body: form, headers });
  const accepted = (await response.json()) as { data: { job_id: string } };
  if (response.status !== 202) throw new Error(`submission ${i} answered ${response.status}: ${JSON.stringify(accepted)}`);
  acceptMs.push(performance.now() - started);

  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = (await (await fetch(`${values.url}/api/v1/alarms/${accepted.data.job_id}`, { headers })).json()) as {
      data: { status: string; created_at: string; finished_at: string | null };
    };
    if (status.data.status === 'finished' || status.data.status === 'failed') {
      if (status.data.status === 'failed') throw new Error(`job ${accepted.data.job_id} failed`);
      clientMs.push(performance.now() - started);
      serverMs.push(Date.parse(status.data.finished_at!) - Date.parse(status.data.created_at));
      break;
    }
    if (Date.now() > deadline) throw new Error(`job ${accepted.data.job_id} did not end within 60 s`);
    await delay(pollMs);
  }
  console.log(`run ${String(i + 1).padStart(3)}: accept ${acceptMs.at(-1)!.toFixed(0)} ms, submit→finished ${clientMs.at(-1)!.toFixed(0)} ms (server ${serverMs.at(-1)} ms)`);
}

const summary = {
  event: event.name,
  frames: event.frames.length,
  runs: count,
  acceptMs: summarise(acceptMs, [50, 95])!,
  submitToFinishedMs: summarise(clientMs, [50, 95])!,
  serverCreatedToFinishedMs: summarise(serverMs, [50, 95])!,
};
console.log(`accept p50 ${summary.acceptMs.p50} ms · submit→finished p50 ${summary.submitToFinishedMs.p50} ms, p95 ${summary.submitToFinishedMs.p95} ms · server p50 ${summary.serverCreatedToFinishedMs.p50} ms, p95 ${summary.serverCreatedToFinishedMs.p95} ms`);
console.log(JSON.stringify(summary));
