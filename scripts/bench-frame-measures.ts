/**
 * Where an alarm's quality and motion measures are taken, before against now, in one process, taking turns:
 *   MODELS_DIR=../shared/models npm run bench:frame-measures -- [--rounds 2] [--events <dir>]
 * Analysis (the analyseFrames activity at sensitivity 2, the `analyse` stage): from detections without measures
 * (it fetches and decodes the frames: as before, and still for older detection results) against detections with
 * the measures. Detection (the detectFrames activity's work, the `detect` stage): the engine alone against the
 * engine then the measures, as the activity does with other events in flight (alone, it runs them beside the engine:
 * gpu-worker/activities.ts). Per alarm of 8 fixture frames: wall ms and CPU
 * ms of this process (every thread: libvips and onnxruntime included), median and mean, with the load average;
 * then the measures alone, what the detection worker now does more.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createAlarmActivities } from '../activities/alarm.js';
import { loadConfig } from '../config/index.js';
import { createDatabase } from '../db/database.js';
import type { MeasuredFrameDetections } from '../domain/frame-measures.js';
import { configuredDetectorOptions, createDetector } from '../gpu-worker/detector.js';
import { configuredEngineOptions, createDetectionEngine, type EventFrame } from '../gpu-worker/engine.js';
import { measureEventFrames } from '../gpu-worker/frame-measures.js';
import { createLogger } from '../logging/logger.js';
import { FileSystemMediaStore } from '../media/store.js';
import { loadEvent } from './lib/events.js';
import { fail } from './lib/load-target.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    events: { type: 'string', default: path.resolve(repoRoot, '../shared/fixtures/media/events') },
  },
});
const rounds = Number(values.rounds);
if (!(Number.isInteger(rounds) && rounds > 0 && rounds <= 20)) fail('--rounds must be 1 to 20.');

const loadAverage = () => os.loadavg().map((value) => value.toFixed(2)).join(', ');
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Wall and CPU ms of each run of one variant. */
interface Runs {
  wallMs: number[];
  cpuMs: number[];
}
const newRuns = (): Runs => ({ wallMs: [], cpuMs: [] });
async function timed(runs: Runs, run: () => Promise<unknown>): Promise<void> {
  const wallStarted = performance.now();
  const cpuStarted = cpuMs();
  await run();
  runs.cpuMs.push(cpuMs() - cpuStarted);
  runs.wallMs.push(performance.now() - wallStarted);
}
const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const figures = ({ wallMs, cpuMs }: Runs) => `${median(wallMs).toFixed(1)} / ${mean(wallMs).toFixed(1)} | ${median(cpuMs).toFixed(1)} / ${mean(cpuMs).toFixed(1)}`;

const folders = (await readdir(values.events, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
const events = (await Promise.all(folders.map((name) => loadEvent(path.join(values.events, name))))).filter((event) => event.frames.length >= 8);
if (events.length === 0) fail(`No event folders with 8 frames in ${values.events}.`);

const config = loadConfig();
const mediaDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-bench-frame-measures-'));
const media = new FileSystemMediaStore(mediaDir);
// Without a camera id analyseFrames looks up no previous event: the pool never connects.
const db = createDatabase('postgres://unused@127.0.0.1:1/unused', 1);
const analysis = createAlarmActivities({ db, media, logger: createLogger('error', 'bench') });
const open = (model: typeof config.detector.model) => createDetector(configuredDetectorOptions(config.detector, model));
const detector = await open(config.detector.model);
const cascade = config.detector.cascadeModel ? await open(config.detector.cascadeModel) : null;
const engine = createDetectionEngine({ detector, cascade, ...configuredEngineOptions(config.detector) });

try {
  const stored = await Promise.all(
    events.map(async (event) => {
      const frames = await Promise.all(
        event.frames.slice(0, 8).map(async (frame, index) => {
          const key = `alarms/${event.name}/${frame.name}`;
          await media.put(key, frame.bytes);
          return { index, key };
        }),
      );
      const eventFrames: EventFrame[] = frames.map((frame) => ({ index: frame.index, load: () => media.get(frame.key) }));
      const detected = (await engine.detectEvent(eventFrames)).frames;
      const measures = await measureEventFrames(eventFrames);
      const measured: MeasuredFrameDetections[] = detected.map((frame, position) => ({ ...frame, measures: measures[position]! }));
      return { name: event.name, frames, eventFrames, detected, measured };
    }),
  );
  console.log(`load average at the start: ${loadAverage()}`);
  const runs = { analyseBefore: newRuns(), analyseNow: newRuns(), detectBefore: newRuns(), detectNow: newRuns(), measuresAlone: newRuns() };
  for (let round = 0; round < rounds; round++) {
    for (const [i, event] of stored.entries()) {
      const input = { accountId: 'bench', jobId: 'bench', siteCategory: 'retail', frames: event.frames, sensitivity: 2 as const };
      const variants = [
        () => timed(runs.analyseBefore, () => analysis.analyseFrames({ ...input, detections: event.detected })),
        () => timed(runs.analyseNow, () => analysis.analyseFrames({ ...input, detections: event.measured })),
        () => timed(runs.detectBefore, () => engine.detectEvent(event.eventFrames)),
        () =>
          timed(runs.detectNow, async () => {
            await engine.detectEvent(event.eventFrames);
            await measureEventFrames(event.eventFrames);
          }),
      ];
      // Each pair in turn, which goes first changing from event to event: the machine's other load falls on both.
      const order = (round + i) % 2 === 0 ? [0, 1, 2, 3] : [1, 0, 3, 2];
      for (const k of order) await variants[k]!();
      await timed(runs.measuresAlone, () => measureEventFrames(event.eventFrames));
    }
  }
  console.log(`\n${rounds * stored.length} alarms of 8 frames (${stored.map((e) => e.name).join(', ')}), each variant in turn`);
  console.log(`detector ${config.detector.model}${cascade ? ` + cascade ${config.detector.cascadeModel}` : ''}; load average after: ${loadAverage()}\n`);
  console.log('| per alarm | wall ms median / mean | CPU ms median / mean |');
  console.log('| --- | --- | --- |');
  console.log(`| analyse, decoding the frames (before; older detections) | ${figures(runs.analyseBefore)} |`);
  console.log(`| analyse, from the detection's measures (now) | ${figures(runs.analyseNow)} |`);
  console.log(`| detect, engine alone (before) | ${figures(runs.detectBefore)} |`);
  console.log(`| detect, engine then measures (now) | ${figures(runs.detectNow)} |`);
  console.log(`| the measures alone (the detection worker's new work) | ${figures(runs.measuresAlone)} |`);
  const summary = Object.fromEntries(
    Object.entries(runs).map(([name, { wallMs, cpuMs }]) => [name, { wallMs: Number(median(wallMs).toFixed(1)), cpuMs: Number(median(cpuMs).toFixed(1)) }]),
  );
  console.log(JSON.stringify({ alarms: rounds * stored.length, medians: summary, loadAverage: loadAverage() }));
} finally {
  await detector.release();
  await cascade?.release();
  await db.destroy();
  await rm(mediaDir, { recursive: true, force: true });
}
