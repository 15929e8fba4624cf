/**
 * Clip classification on the fixtures, measured end to end on a stack of its own (PostgreSQL, the Temporal dev
 * server, the analysis worker, the detection worker, the API: test/support/stack.ts):
 *   MODELS_DIR=../shared/models npm run bench:classify [-- --runs 20]
 * 1. Every fixture event (8 frames) and a 4 s excerpt of every fixture clip at 3 fps, sync: its 13 scores and risk,
 *    next to what a monitoring centre expects (people: danger or intrusion; empty scenes and nuisances: safe).
 * 2. `timing.total` and the client's round trip, p50/p95 over `--runs` sync classifications of a 4 s clip at 3 fps
 *    and of an 8-frame event, next to the bare detection engine (in this process, the worker's settings) on the
 *    same frames, already decoded, in the same run; the machine's load average before and after each series.
 * Prints the tables as Markdown for BENCHMARKS.md, then one JSON summary line.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { configuredDetectorOptions, createDetector } from '../gpu-worker/detector.js';
import { configuredEngineOptions, createDetectionEngine, type DetectionEngine } from '../gpu-worker/engine.js';
import { samplingPlan } from '../domain/classification/sampling.js';
import { classificationClasses } from '../domain/classification/scores.js';
import { decodeToRgb, type RgbImage } from '../media/image.js';
import { decodeFrames } from '../media/video/frames.js';
import { probeVideo } from '../media/video/probe.js';
import type { AlarmFile } from '../test/support/alarms.js';
import { classifyForm, clipExcerpt, postClassify } from '../test/support/classify.js';
import { fixturesDir } from '../test/support/paths.js';
import { startStack } from '../test/support/stack.js';
import { summarise } from './lib/stats.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const runs = Math.max(1, Math.min(200, Number(values.runs)));

/** Traffic is judged by neither: a moving vehicle at an armed site is a danger by the alarm rules, a motorway camera's normal. */
type Expectation = 'danger or intrusion' | 'safe' | 'not judged';
interface Sample {
  name: string;
  expect: Expectation;
  files: { field: string; file: AlarmFile }[];
}

/** What each fixture event shows (manifest.json), as a monitoring centre would want it answered. */
const eventExpectations: Record<string, Expectation> = {
  highway_cyclist_on_shoulder: 'danger or intrusion',
  parking_lot_cars: 'not judged',
  parking_lot_empty_a: 'safe',
  pets2009_people_walking_a: 'danger or intrusion',
  pets2009_people_walking_b: 'danger or intrusion',
  tree_foliage_wind: 'safe',
  tree_hand_over_lens: 'safe',
  warehouse_worker_hardhat: 'danger or intrusion',
  wsdot_i5_traffic_cam_sequence: 'not judged',
};

/** 4 s of each clip from where it shows what it is about (the clips' timelines). */
const clipExcerpts: { file: string; startS: number; expect: Expectation; shows: string }[] = [
  { file: 'opencv_vtest_pets2009.avi', startS: 10, expect: 'danger or intrusion', shows: 'people walking' },
  { file: 'opencv_tree_foliage.avi', startS: 5, expect: 'safe', shows: 'foliage in wind' },
  { file: 'opencv_tree_foliage.avi', startS: 24, expect: 'safe', shows: 'hand over the lens' },
  { file: 'intel_car-detection.mp4', startS: 4.5, expect: 'not judged', shows: 'a car drives through' },
  { file: 'intel_car-detection.mp4', startS: 10, expect: 'safe', shows: 'empty parking lot' },
  { file: 'bgslibrary_video02_highway_pedestrian_alarm.avi', startS: 0, expect: 'not judged', shows: 'motorway traffic, text overlay' },
  { file: 'intel_worker-zone-detection_preview.gif', startS: 0, expect: 'danger or intrusion', shows: 'worker walking' },
];

async function eventFiles(event: string): Promise<AlarmFile[]> {
  const dir = path.join(fixturesDir, 'events', event);
  const names = (await readdir(dir)).filter((name) => name.endsWith('.jpg')).sort();
  return Promise.all(names.map(async (name) => ({ name, bytes: await readFile(path.join(dir, name)), type: 'image/jpeg' })));
}

// A cold first classification on a busy machine may take longer than the default wait.
const stack = await startStack({ env: { CLASSIFY_SYNC_WAIT_S: '120' } });
try {
  const token = await stack.createToken('bench');
  const samples: Sample[] = [];
  for (const [event, expect] of Object.entries(eventExpectations)) {
    samples.push({ name: `event ${event}`, expect, files: (await eventFiles(event)).map((file) => ({ field: 'images', file })) });
  }
  for (const clip of clipExcerpts) {
    const file = await clipExcerpt(path.join(fixturesDir, 'clips', clip.file), clip.startS, 4, 3);
    samples.push({ name: `clip ${clip.file} @${clip.startS}s (${clip.shows})`, expect: clip.expect, files: [{ field: 'video', file }] });
  }

  const classify = async (sample: Sample) => {
    const started = performance.now();
    const { status, body } = await postClassify(stack.baseUrl, token, classifyForm({ tenant: 'bench' }, sample.files), '?sync=true');
    const roundTripMs = performance.now() - started;
    if (status !== 200) throw new Error(`${sample.name}: ${status} ${JSON.stringify(body)}`);
    return { body: body as { id: string; risk: string; labels: string[]; scores: Record<string, number>; timing: { total: number } }, roundTripMs };
  };

  // Warm-up: the first classification pays for loading code and sessions.
  await classify(samples[0]!);

  const header = `| sample | expected | risk | ok | ${classificationClasses.join(' | ')} |`;
  const rule = `|${' --- |'.repeat(4 + classificationClasses.length)}`;
  const rows: string[] = [];
  let agreeing = 0;
  let judged = 0;
  for (const sample of samples) {
    const { body } = await classify(sample);
    const ok = sample.expect === 'not judged' ? null : sample.expect === 'safe' ? body.risk === 'safe' : body.risk !== 'safe';
    if (ok !== null) judged++;
    if (ok) agreeing++;
    rows.push(`| ${sample.name} | ${sample.expect} | ${body.risk} | ${ok === null ? '–' : ok ? 'yes' : 'NO'} | ${classificationClasses.map((name) => body.scores[name]!.toFixed(2)).join(' | ')} |`);
    console.error(`${sample.name}: ${body.risk} ${body.labels.join(',')}`);
  }
  console.log(`\nScores and risk (${agreeing} of ${judged} judged as expected):\n\n${header}\n${rule}\n${rows.join('\n')}\n`);

  // The bare detection engine, as the detection worker runs it, on the very frames the pipeline detected.
  const config = stack.config;
  const openDetector = (model: typeof config.detector.model) =>
    createDetector(configuredDetectorOptions(config.detector, model));
  const detector = await openDetector(config.detector.model);
  const cascade = config.detector.cascadeModel ? await openDetector(config.detector.cascadeModel) : null;
  const engine: DetectionEngine = createDetectionEngine({ detector, cascade, ...configuredEngineOptions(config.detector) });
  const bareDetection = async (images: readonly RgbImage[]) => {
    const started = performance.now();
    await engine.detectArriving(
      (async function* () {
        for (const [index, image] of images.entries()) yield { index, image };
      })(),
    );
    return performance.now() - started;
  };
  /** The sample's frames as the pipeline decodes them: the clip sampled as `samplingPlan` says, the images as sent. */
  const decodedFrames = async (sample: Sample): Promise<RgbImage[]> => {
    const file = sample.files.find(({ field }) => field === 'video')?.file;
    if (!file) return Promise.all(sample.files.map(({ file: image }) => decodeToRgb(image.bytes)));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-bench-'));
    try {
      const clipFile = path.join(dir, file.name);
      await writeFile(clipFile, file.bytes);
      const probe = await probeVideo(clipFile);
      const plan = samplingPlan(probe, config.classification.sampling);
      const images: RgbImage[] = [];
      for await (const frame of decodeFrames(clipFile, { ...plan, pixelFormat: 'rgb24' })) {
        if (images.length >= config.classification.sampling.maxFrames) break;
        images.push({ width: frame.width, height: frame.height, data: frame.data });
      }
      return images;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  /** `uptime`'s one-minute load average: 2 cores are shared with other work, and every figure depends on it. */
  const load = () => Math.round(os.loadavg()[0]! * 10) / 10;

  const timingSamples = [samples.find((s) => s.name.startsWith('clip opencv_vtest_pets2009'))!, samples.find((s) => s.name === 'event pets2009_people_walking_a')!];
  const summaries = [];
  for (const sample of timingSamples) {
    const totals: number[] = [];
    const roundTrips: number[] = [];
    const bare: number[] = [];
    const loadBefore = load();
    for (let i = 0; i < runs; i++) {
      const { body, roundTripMs } = await classify(sample);
      totals.push(body.timing.total);
      roundTrips.push(roundTripMs);
    }
    const frames = await decodedFrames(sample);
    for (let i = 0; i < runs; i++) bare.push(await bareDetection(frames));
    summaries.push({
      sample: sample.name,
      frames: frames.length,
      runs,
      load: { before: loadBefore, after: load() },
      timingTotalMs: summarise(totals, [50, 95])!,
      roundTripMs: summarise(roundTrips, [50, 95])!,
      bareDetectionMs: summarise(bare, [50, 95])!,
    });
  }
  await detector.release();
  await cascade?.release();

  console.log('| sync, sequential | frames | timing.total p50 / p95 (ms) | client round trip p50 / p95 (ms) | bare detection engine p50 / p95 (ms) | load average before / after |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const s of summaries) {
    console.log(
      `| ${s.sample} | ${s.frames} | ${s.timingTotalMs.p50} / ${s.timingTotalMs.p95} | ${s.roundTripMs.p50} / ${s.roundTripMs.p95} | ${s.bareDetectionMs.p50} / ${s.bareDetectionMs.p95} | ${s.load.before} / ${s.load.after} |`,
    );
  }
  console.log(JSON.stringify({ agreeing, judged, timings: summaries }));
} finally {
  await stack.stop();
}
