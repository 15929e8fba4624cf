/**
 * Submit→finished latency of a running Vigil, one alarm at a time:
 *   npm run bench:alarm -- --url http://127.0.0.1:8080 --token <token> [--count 20] [--event <dir>]
 * Each submission goes to its own zone (the per-camera cooldown would refuse the next one).
 * Prints per-run times, then p50/p95 of the client-observed time and of the server's
 * created_at → finished_at, and one JSON summary as the last line.
 *
 * The media stores side by side, in one run:
 *   npm run bench:alarm -- --compare-stores [--count 20] [--event <dir>]
 * starts two stacks of separate processes (the API, the analysis and the detection worker; each with its own
 * Temporal dev server and PostgreSQL), one on the filesystem store and one on an S3 bucket (versitygw on this
 * host), alternates submissions between them, and prints both summaries and the extra time per alarm on S3.
 */
import { parseArgs } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { startProcessStack, type ProcessStack } from '../test/support/process-stack.js';
import { alarmForm, loadEvent, type FixtureEvent } from './lib/events.js';
import { summarise } from './lib/stats.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8080' },
    token: { type: 'string' },
    count: { type: 'string', default: '20' },
    event: { type: 'string', default: '../shared/fixtures/media/events/pets2009_people_walking_a' },
    'poll-ms': { type: 'string', default: '10' },
    'compare-stores': { type: 'boolean', default: false },
  },
});
const count = Math.min(Number(values.count), 500);
const pollMs = Number(values['poll-ms']);
const event = await loadEvent(values.event);
const runTag = Date.now().toString(36);

interface Target {
  name: string;
  url: string;
  token: string;
  acceptMs: number[];
  clientMs: number[];
  serverMs: number[];
}

const targetOf = (name: string, url: string, token: string): Target => ({ name, url, token, acceptMs: [], clientMs: [], serverMs: [] });

/** One submission, polled until it ends; its times go to the target's lists. */
async function runOnce(target: Target, fixture: FixtureEvent, i: number): Promise<void> {
  const headers = { authorization: `Bearer ${target.token}` };
  const form = alarmForm(fixture, { group_id: 'bench', site_id: runTag, zone_id: `z${i}`, vendor_event_id: `${runTag}-${i}` });

  const started = performance.now();
  const response = await fetch(`${target.url}/api/v1/alarms`, { method: 'POST', body: form, headers });
  const accepted = (await response.json()) as { data: { job_id: string } };
  if (response.status !== 202) throw new Error(`submission ${i} answered ${response.status}: ${JSON.stringify(accepted)}`);
  target.acceptMs.push(performance.now() - started);

  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = (await (await fetch(`${target.url}/api/v1/alarms/${accepted.data.job_id}`, { headers })).json()) as {
      data: { status: string; created_at: string; finished_at: string | null };
    };
    if (status.data.status === 'finished' || status.data.status === 'failed') {
      if (status.data.status === 'failed') throw new Error(`job ${accepted.data.job_id} failed`);
      target.clientMs.push(performance.now() - started);
      target.serverMs.push(Date.parse(status.data.finished_at!) - Date.parse(status.data.created_at));
      break;
    }
    if (Date.now() > deadline) throw new Error(`job ${accepted.data.job_id} did not end within 60 s`);
    await delay(pollMs);
  }
  console.log(
    `${target.name} run ${String(i + 1).padStart(3)}: accept ${target.acceptMs.at(-1)!.toFixed(0)} ms, ` +
      `submit→finished ${target.clientMs.at(-1)!.toFixed(0)} ms (server ${target.serverMs.at(-1)} ms)`,
  );
}

function summaryOf(target: Target) {
  return {
    event: event.name,
    frames: event.frames.length,
    runs: target.clientMs.length,
    acceptMs: summarise(target.acceptMs, [50, 95])!,
    submitToFinishedMs: summarise(target.clientMs, [50, 95])!,
    serverCreatedToFinishedMs: summarise(target.serverMs, [50, 95])!,
  };
}

function printSummary(label: string, summary: ReturnType<typeof summaryOf>): void {
  console.log(
    `${label}accept p50 ${summary.acceptMs.p50} ms · submit→finished p50 ${summary.submitToFinishedMs.p50} ms, p95 ${summary.submitToFinishedMs.p95} ms · ` +
      `server p50 ${summary.serverCreatedToFinishedMs.p50} ms, p95 ${summary.serverCreatedToFinishedMs.p95} ms`,
  );
}

if (!values['compare-stores']) {
  if (!values.token) throw new Error('--token is required (npm run vigil -- token create --account bench), or --compare-stores');
  const target = targetOf('', values.url, values.token);
  for (let i = 0; i < count; i++) await runOnce(target, event, i);
  const summary = summaryOf(target);
  printSummary('', summary);
  console.log(JSON.stringify(summary));
} else {
  const stacks: ProcessStack[] = [];
  try {
    // Side by side: both see the same load on this host, whatever else runs meanwhile.
    for (const store of ['filesystem', 's3'] as const) stacks.push(await startProcessStack({ mediaStore: store, separateHosts: store === 's3' }));
    const targets = await Promise.all(stacks.map(async (stack, index) => targetOf(index === 0 ? 'filesystem' : 's3', stack.baseUrl, await stack.createToken('bench'))));
    // One alarm on each first, unmeasured: the first job of a stack also warms its workers.
    for (const target of targets) await runOnce(targetOf(`${target.name} (warm-up)`, target.url, target.token), event, count);
    for (let i = 0; i < count; i++) for (const target of i % 2 === 0 ? targets : [...targets].reverse()) await runOnce(target, event, i);
    const [filesystem, s3] = targets.map(summaryOf) as [ReturnType<typeof summaryOf>, ReturnType<typeof summaryOf>];
    printSummary('filesystem: ', filesystem);
    printSummary('s3:         ', s3);
    const extra = {
      acceptP50Ms: s3.acceptMs.p50 - filesystem.acceptMs.p50,
      submitToFinishedP50Ms: s3.submitToFinishedMs.p50 - filesystem.submitToFinishedMs.p50,
      serverCreatedToFinishedP50Ms: s3.serverCreatedToFinishedMs.p50 - filesystem.serverCreatedToFinishedMs.p50,
    };
    console.log(`S3 store, extra per alarm (p50): accept ${extra.acceptP50Ms} ms · submit→finished ${extra.submitToFinishedP50Ms} ms · server ${extra.serverCreatedToFinishedP50Ms} ms`);
    console.log(JSON.stringify({ filesystem, s3, s3ExtraMs: extra }));
  } finally {
    for (const stack of stacks) await stack.stop();
  }
}
