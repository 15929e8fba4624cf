/**
 * CPU budget per alarm, by process:
 *   MODELS_DIR=../shared/models npm run bench:budget -- [--alarms 24] [--in-flight 2] [--status-polls 2000] [--events <dir>] [--cpu-prof]
 *   npm run bench:budget -- --attach <pid of npm start's supervisor> --data-dir .data --token <token> [--url …]
 *
 * Starts the stack as `npm start` does (bin/start.ts, in a temporary DATA_DIR on free ports), or attaches to
 * one already running, and reads the CPU seconds (user + system, /proc/<pid>/stat, each process summed with its
 * children) of the API, the analysis worker, the detection worker, the Temporal dev server and PostgreSQL
 * before and after a fixed load: `--alarms` alarms of 8 fixture frames, rotating over the fixture events,
 * `--in-flight` at a time, each sent as soon as one ends (job status read from PostgreSQL, not charged to the
 * alarms). Then the status of the last alarm is polled `--status-polls` times (4 clients, back to back), and
 * `/healthz` as many times (an HTTP answer with nothing behind it: the bare baseline), for the API's and
 * PostgreSQL's CPU ms per request: under a backlog, clients polling every waiting alarm is what those two spend
 * most on. Then the bare detection engine (the detection worker's settings) runs in this process over the same
 * events' frames, and the primary detector alone, for their CPU ms per alarm. Prints the tables, throughput and
 * the machine's load, then one JSON line.
 * With `--cpu-prof` the Node roles write CPU profiles when the stack stops and the functions with most self
 * time in each thread are printed (`--attach`: start it with `npm start -- --cpu-prof`). The profiler's own
 * thread then costs as much as a third of a role's CPU: take the budget from a run without it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { inheritedEnv, loadConfig } from '../config/index.js';
import { createDatabase, type Db } from '../db/database.js';
import { embeddedPostgresUrl } from '../db/embedded.js';
import { configuredDetectorOptions, createDetector } from '../gpu-worker/detector.js';
import { configuredEngineOptions, createDetectionEngine } from '../gpu-worker/engine.js';
import { freePort } from '../temporal/dev-server.js';
import { createApiToken } from '../test/support/tokens.js';
import { alarmForm, loadEvent, type FixtureEvent } from './lib/events.js';
import { fail, loadTarget } from './lib/load-target.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const JOB_TIMEOUT_MS = 180_000;
const STATUS_POLL_MS = 50;
const START_TIMEOUT_MS = 300_000;

const { values } = parseArgs({
  options: {
    alarms: { type: 'string', default: '24' },
    'in-flight': { type: 'string', default: '2' },
    events: { type: 'string', default: path.resolve(repoRoot, '../shared/fixtures/media/events') },
    attach: { type: 'string' },
    'data-dir': { type: 'string', default: '.data' },
    url: { type: 'string', default: 'http://127.0.0.1:8080' },
    token: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    'status-polls': { type: 'string', default: '2000' },
  },
});
const alarmCount = Number(values.alarms);
const inFlight = Number(values['in-flight']);
if (!(Number.isInteger(alarmCount) && alarmCount > 0 && alarmCount <= 500)) fail('--alarms must be 1 to 500.');
if (!(Number.isInteger(inFlight) && inFlight > 0 && inFlight <= 16)) fail('--in-flight must be 1 to 16.');
const statusPolls = Number(values['status-polls']);
if (!(Number.isInteger(statusPolls) && statusPolls >= 0 && statusPolls <= 100_000)) fail('--status-polls must be 0 to 100000.');

const roles = ['api', 'analysis worker', 'detection worker', 'temporal', 'postgres'] as const;
type Role = (typeof roles)[number];

// --- CPU time from /proc ------------------------------------------------------------------------------

/** USER_HZ: the unit of /proc's CPU times, 100 on Linux. */
const clockTicks = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  /** The command name, or the thread's name. */
  name: string;
  /** utime + stime + cutime + cstime, in ms: the process's own and that of its children it has waited for. */
  cpuMs: number;
}

async function readStat(pid: number, file = `/proc/${pid}/stat`): Promise<ProcStat | null> {
  const text = await readFile(file, 'utf8').catch(() => null);
  if (!text) return null;
  // The command name may hold spaces and parentheses: the fields start after its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return { pid, ppid: Number(fields[1]), cpuMs: (ticks * 1000) / clockTicks, name: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')) };
}

/** CPU ms of a process's threads, summed by thread name (libuv's pool, V8's helpers, worker threads, onnxruntime's). */
async function cpuByThreadName(pid: number): Promise<Map<string, number>> {
  const tids = await readdir(`/proc/${pid}/task`).catch(() => []);
  const byName = new Map<string, number>();
  for (const tid of tids) {
    const stat = await readStat(Number(tid), `/proc/${pid}/task/${tid}/stat`);
    if (stat) byName.set(stat.name, (byName.get(stat.name) ?? 0) + stat.cpuMs);
  }
  return byName;
}

async function allStats(): Promise<ProcStat[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  return (await Promise.all(pids.map((pid) => readStat(pid)))).filter((stat): stat is ProcStat => stat !== null);
}

const cmdline = async (pid: number) => (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').join(' ');

/** Each role's root process: the supervisor's children by command line, PostgreSQL by its postmaster.pid. */
async function findRoles(supervisorPid: number, dataDir: string): Promise<Record<Role, number>> {
  const stats = await allStats();
  const found: Partial<Record<Role, number>> = {};
  const descendants = (pid: number): number[] => stats.filter((s) => s.ppid === pid).flatMap((s) => [s.pid, ...descendants(s.pid)]);
  for (const pid of descendants(supervisorPid)) {
    const command = await cmdline(pid);
    if (command.includes('api/main.ts')) found.api ??= pid;
    else if (command.includes('temporal/worker.ts')) found['analysis worker'] ??= pid;
    else if (command.includes('gpu-worker/main.ts')) found['detection worker'] ??= pid;
    else if (command.includes('start-dev')) found.temporal ??= pid;
  }
  const postmasterFile = path.join(dataDir, 'postgres', 'postmaster.pid');
  if (existsSync(postmasterFile)) found.postgres = Number((await readFile(postmasterFile, 'utf8')).split('\n')[0]);
  const missing = roles.filter((role) => found[role] === undefined);
  if (missing.length > 0) throw new Error(`processes not found under pid ${supervisorPid}: ${missing.join(', ')}`);
  return found as Record<Role, number>;
}

/** CPU ms of each role: its root process and every live descendant (the children it reaped are in cutime). */
async function cpuByRole(rolePids: Record<Role, number>): Promise<Record<Role, number>> {
  const stats = await allStats();
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const treeMs = (pid: number): number => (byPid.get(pid)?.cpuMs ?? 0) + stats.filter((s) => s.ppid === pid).reduce((sum, s) => sum + treeMs(s.pid), 0);
  return Object.fromEntries(roles.map((role) => [role, treeMs(rolePids[role])])) as Record<Role, number>;
}

// --- the stack ------------------------------------------------------------------------------------------

interface Stack {
  supervisorPid: number;
  dataDir: string;
  baseUrl: string;
  token: string;
  db: Db;
  /** Stops what this script started (the Node roles then write their profiles); safe to call twice. */
  stop(): Promise<void>;
  /** Removes what this script created. */
  cleanUp(): Promise<void>;
}

async function startStack(): Promise<Stack> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-budget-'));
  // Run as root, PostgreSQL runs as the `postgres` user, which must reach its data directory inside.
  await chmod(dataDir, 0o755);
  const [apiPort, pgPort, temporalPort, uiPort, workerMetrics, gpuMetrics] = (await Promise.all(Array.from({ length: 6 }, freePort))) as [number, number, number, number, number, number];
  const env = inheritedEnv({
    DATA_DIR: dataDir,
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    EMBEDDED_PG_PORT: String(pgPort),
    TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
    TEMPORAL_UI_PORT: String(uiPort),
    METRICS_HOST: '127.0.0.1',
    WORKER_METRICS_PORT: String(workerMetrics),
    GPU_WORKER_METRICS_PORT: String(gpuMetrics),
    LOG_LEVEL: 'warn',
  });
  const profileArgs = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', path.join(dataDir, 'profiles')] : [];
  const supervisor: ChildProcess = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(repoRoot, 'bin/start.ts'), ...profileArgs], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => supervisor.once('exit', () => resolve()));
  process.once('exit', () => supervisor.kill('SIGKILL'));
  const baseUrl = `http://127.0.0.1:${apiPort}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (supervisor.exitCode !== null) throw new Error(`npm start exited with code ${supervisor.exitCode}`);
    if (await fetch(`${baseUrl}/healthz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error('the stack did not answer /healthz in time');
    await delay(500);
  }
  const db = createDatabase(embeddedPostgresUrl(pgPort), 2);
  let stopped: Promise<void> | undefined;
  return {
    supervisorPid: supervisor.pid!,
    dataDir,
    baseUrl,
    token: await createApiToken(db, 'budget'),
    db,
    stop: () =>
      (stopped ??= (async () => {
        await db.destroy();
        supervisor.kill('SIGTERM');
        await exited;
      })()),
    cleanUp: () => rm(dataDir, { recursive: true, force: true }),
  };
}

async function attachStack(supervisorPid: number): Promise<Stack> {
  const { baseUrl, token } = loadTarget(values.url, values.token);
  const dataDir = path.resolve(values['data-dir']);
  const db = createDatabase(loadConfig().database.url, 2);
  let stopped: Promise<void> | undefined;
  return { supervisorPid, dataDir, baseUrl: baseUrl.origin, token, db, stop: () => (stopped ??= db.destroy()), cleanUp: async () => undefined };
}

// --- the load -------------------------------------------------------------------------------------------

async function loadEvents(folder: string): Promise<FixtureEvent[]> {
  const names = (await readdir(folder, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  const events = (await Promise.all(names.map((name) => loadEvent(path.join(folder, name))))).filter((event) => event.frames.length >= 8);
  if (events.length === 0) fail(`No event folders with 8 frames in ${folder}.`);
  return events.map((event) => ({ ...event, frames: event.frames.slice(0, 8) }));
}

const runTag = Date.now().toString(36);

/** One alarm, from its submission until PostgreSQL says it ended. */
async function runAlarm(stack: Stack, event: FixtureEvent, i: number): Promise<string> {
  const form = alarmForm(event, { group_id: 'budget', site_id: runTag, zone_id: `z${i}`, vendor_event_id: `${runTag}-${i}` });
  const response = await fetch(`${stack.baseUrl}/api/v1/alarms`, { method: 'POST', body: form, headers: { authorization: `Bearer ${stack.token}` } });
  const body = (await response.json()) as { data?: { job_id: string } };
  if (response.status !== 202 || !body.data) throw new Error(`alarm ${i} answered ${response.status}: ${JSON.stringify(body)}`);
  const deadline = Date.now() + JOB_TIMEOUT_MS;
  for (;;) {
    const job = await stack.db.selectFrom('jobs').select('status').where('id', '=', body.data.job_id).executeTakeFirst();
    if (job?.status === 'finished') return body.data.job_id;
    if (job && job.status !== 'queued' && job.status !== 'running') throw new Error(`alarm ${i} (${body.data.job_id}) ended ${job.status}`);
    if (Date.now() > deadline) throw new Error(`alarm ${i} did not end within ${JOB_TIMEOUT_MS / 1000} s`);
    await delay(STATUS_POLL_MS);
  }
}

/** `count` alarms over `events` in turn, `lanes` at a time, back to back; the id of the last one to finish. */
async function runLoad(stack: Stack, events: readonly FixtureEvent[], count: number, lanes: number, offset: number): Promise<string> {
  let next = 0;
  let lastJobId = '';
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < count) {
        const i = next++;
        lastJobId = await runAlarm(stack, events[i % events.length]!, offset + i);
      }
    }),
  );
  return lastJobId;
}

const STATUS_POLL_CLIENTS = 4;

/** CPU ms of the API and PostgreSQL per request: `count` GETs of `pathname`, `STATUS_POLL_CLIENTS` clients back to back. */
async function cpuPerRequest(stack: Stack, rolePids: Record<Role, number>, pathname: string, count: number): Promise<{ api: number; postgres: number }> {
  const before = await cpuByRole(rolePids);
  let sent = 0;
  await Promise.all(
    Array.from({ length: STATUS_POLL_CLIENTS }, async () => {
      while (sent < count) {
        sent++;
        const response = await fetch(stack.baseUrl + pathname, { headers: { authorization: `Bearer ${stack.token}` } });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`GET ${pathname} answered ${response.status}`);
      }
    }),
  );
  const after = await cpuByRole(rolePids);
  return { api: (after.api - before.api) / count, postgres: (after.postgres - before.postgres) / count };
}

// --- the bare detector ----------------------------------------------------------------------------------

/** CPU ms of this process per event, for the detection engine and for the primary detector alone, over the load's events. */
async function bareDetection(events: readonly FixtureEvent[], count: number): Promise<{ engineMs: number; primaryMs: number }> {
  const config = loadConfig();
  const open = (model: typeof config.detector.model) =>
    createDetector(configuredDetectorOptions(config.detector, model));
  const detector = await open(config.detector.model);
  const cascade = config.detector.cascadeModel ? await open(config.detector.cascadeModel) : null;
  const engines = {
    engineMs: createDetectionEngine({ detector, cascade, ...configuredEngineOptions(config.detector) }),
    primaryMs: createDetectionEngine({ detector, cascade: null, tiling: false }),
  };
  const framesOf = (event: FixtureEvent) => event.frames.map((frame, index) => ({ index, load: async () => frame.bytes }));
  const cpuMs = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const result = { engineMs: 0, primaryMs: 0 };
  try {
    for (const event of events) await engines.engineMs.detectEvent(framesOf(event)); // warm-up: first runs of each session
    for (const key of ['engineMs', 'primaryMs'] as const) {
      const started = cpuMs();
      for (let i = 0; i < count; i++) await engines[key].detectEvent(framesOf(events[i % events.length]!));
      result[key] = (cpuMs() - started) / count;
    }
  } finally {
    await detector.release();
    await cascade?.release();
  }
  return result;
}

// --- CPU profiles ---------------------------------------------------------------------------------------

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** The functions with most self time in a V8 CPU profile, with their share of the profile's samples. */
function topFunctions(profile: CpuProfile, count: number): string[] {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const selfMs = new Map<string, number>();
  let totalMs = 0;
  profile.samples.forEach((id, i) => {
    const frame = byNode.get(id)!;
    if (frame.functionName === '(idle)') return;
    const where = frame.url ? `${frame.url.replace(/^.*\/(node_modules|work\/[^/]+\/[^/]+)\//, '')}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName || '(anonymous)'} ${where}`.trim();
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    totalMs += ms;
    selfMs.set(key, (selfMs.get(key) ?? 0) + ms);
  });
  return [...selfMs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, ms]) => `${((100 * ms) / totalMs).toFixed(1).padStart(5)} %  ${key}`);
}

async function printProfiles(dir: string, rolePids: Record<Role, number>): Promise<void> {
  const files = existsSync(dir) ? (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile')) : [];
  for (const role of roles) {
    // CPU.<date>.<time>.<pid>.<thread>.<sequence>.cpuprofile: the main thread is 0, worker threads follow.
    for (const file of files.filter((name) => name.split('.')[3] === String(rolePids[role]))) {
      const profile = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as CpuProfile;
      console.log(`\n${role}: most self time (${file}, whole life of the thread, share of its busy samples)`);
      for (const line of topFunctions(profile, 12)) console.log(`  ${line}`);
    }
  }
}

// --- the run --------------------------------------------------------------------------------------------

const loadAverage = () => os.loadavg().map((value) => value.toFixed(2)).join(', ');
const events = await loadEvents(values.events);
const stack = values.attach ? await attachStack(Number(values.attach)) : await startStack();
try {
  console.log(`load average at the start: ${loadAverage()}`);
  // Unmeasured: the first job of each event wakes every role (workflow bundle, sessions, pools).
  await runLoad(stack, events, events.length, inFlight, 0);
  const rolePids = await findRoles(stack.supervisorPid, stack.dataDir);
  const before = await cpuByRole(rolePids);
  const threadsBefore = await Promise.all(roles.map((role) => cpuByThreadName(rolePids[role])));
  const started = performance.now();
  const lastJobId = await runLoad(stack, events, alarmCount, inFlight, events.length);
  const seconds = (performance.now() - started) / 1000;
  const after = await cpuByRole(rolePids);
  const threadsAfter = await Promise.all(roles.map((role) => cpuByThreadName(rolePids[role])));
  const loadDuring = loadAverage();
  const polls =
    statusPolls > 0
      ? { status: await cpuPerRequest(stack, rolePids, `/api/v1/alarms/${lastJobId}`, statusPolls), healthz: await cpuPerRequest(stack, rolePids, '/healthz', statusPolls) }
      : null;
  const bare = await bareDetection(events, alarmCount);

  const perAlarm = Object.fromEntries(roles.map((role) => [role, Math.round((after[role] - before[role]) / alarmCount)])) as Record<Role, number>;
  const totalMs = roles.reduce((sum, role) => sum + perAlarm[role], 0);
  const throughput = alarmCount / seconds;
  console.log(`\n${alarmCount} alarms of 8 frames (${events.map((e) => e.name).join(', ')} in turn), ${inFlight} in flight, back to back`);
  console.log(`throughput ${throughput.toFixed(2)} alarms/s (${seconds.toFixed(1)} s); load average after the load ${loadDuring}, after the bare runs ${loadAverage()}\n`);
  console.log('| process | CPU ms per alarm |');
  console.log('| --- | --- |');
  for (const role of roles) console.log(`| ${role} | ${perAlarm[role]} |`);
  console.log(`| **total** | **${totalMs}** |`);
  console.log(`| bare detection engine (this process, the worker's settings), same events | ${Math.round(bare.engineMs)} |`);
  console.log(`| bare primary detector alone, same events | ${Math.round(bare.primaryMs)} |`);
  if (polls) {
    const figures = ({ api, postgres }: { api: number; postgres: number }) => `${api.toFixed(3)} | ${postgres.toFixed(3)}`;
    console.log(`\n${statusPolls} requests of each, ${STATUS_POLL_CLIENTS} clients back to back:\n`);
    console.log('| request | API CPU ms | PostgreSQL CPU ms |');
    console.log('| --- | --- | --- |');
    console.log(`| status of a finished alarm (GET /api/v1/alarms/{job_id}) | ${figures(polls.status)} |`);
    console.log(`| bare: GET /healthz | ${figures(polls.healthz)} |`);
  }
  console.log('\nBy thread name (CPU ms per alarm, the process itself without its children; threads that ended are not counted):');
  roles.forEach((role, r) => {
    const threads = [...threadsAfter[r]!.entries()]
      .map(([name, ms]) => [name, Math.round((ms - (threadsBefore[r]!.get(name) ?? 0)) / alarmCount)] as const)
      .filter(([, ms]) => ms > 0)
      .sort((a, b) => b[1] - a[1]);
    console.log(`  ${role}: ${threads.map(([name, ms]) => `${name} ${ms}`).join(', ')}`);
  });
  if (values['cpu-prof'] && !values.attach) {
    await stack.stop();
    await printProfiles(path.join(stack.dataDir, 'profiles'), rolePids);
  }
  console.log(JSON.stringify({ alarms: alarmCount, inFlight, seconds: Number(seconds.toFixed(1)), throughput: Number(throughput.toFixed(3)), cpuMsPerAlarm: perAlarm, totalMs, bare, cpuMsPerRequest: polls, loadAverage: loadDuring }));
} finally {
  await stack.stop();
  await stack.cleanUp();
}
