/**
 * Detection speed, per model, in one run: the bare onnxruntime session.run on a fixed input tensor
 * against the full detection path on the fixture frames (decode + resize + tensor + run + box decoding
 * + NMS, through the detection engine the worker runs, then the nuisance filters).
 *
 *   npm run bench:detect -- --media <dir> [--models a,b] [--rounds 3] [--sessions N] [--threads N]
 *
 * Two frame sets: the fixture events (320–768 px wide, 8 frames each) and the large stills (1920 px
 * and up, taken 8 at a time as events). Bare, full and sequential runs alternate event by event, so
 * load from elsewhere on the machine falls on all of them alike. Sessions and threads per session
 * default to the configuration (DETECTOR_SESSIONS, DETECTOR_THREADS). Per model and frame set:
 * - bare: session.run ms per call (p50/p95) of one in-process session on a fixed input, with whichever
 *   thread count is faster here: the detector's per-session count or every core;
 * - full: ms per frame while an event is processed (the gaps between consecutive frames, so work done
 *   during the previous frame's run costs nothing), p50/p95, and full/bare;
 * - sequential: one frame at a time, nothing overlapped; and the same through a full-size decode
 *   first (`decodeToRgb`, what the worker did before decoding straight to the model's size);
 * - frames/s with 1, 2 and 4 events in flight (as DETECTOR_CONCURRENCY runs them), against
 *   1000 / bare p50 measured alongside.
 * "Paired" figures compare each event (or throughput turn) with the bare block run just before it,
 * which keeps a burst of load elsewhere from landing on one side only.
 * Then the cascade and the tiled pass: extra ms per event in which each runs (the first model found no person);
 * and the CPU time per event of the whole engine with DETECTOR_EVERY_OTHER_CHANGE off and on, alternating.
 * The last line is one JSON summary.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { detectorModels, loadConfig, type DetectorModelName } from '../config/index.js';
import { applyFilters } from '../domain/filters.js';
import { createDetector, detectorModelSource, type Detector } from '../gpu-worker/detector.js';
import { createDetectionEngine, type DetectionEngine, type EventDetections, type EventFrame } from '../gpu-worker/engine.js';
import { openSession } from '../gpu-worker/session.js';
import { decodeToRgb, openResizable } from '../media/image.js';
import { percentile } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    media: { type: 'string' },
    models: { type: 'string', default: detectorModels.join(',') },
    rounds: { type: 'string', default: '3' },
    sessions: { type: 'string' },
    threads: { type: 'string' },
  },
});
if (!args.media) {
  console.error('usage: npm run bench:detect -- --media <dir> [--models a,b] [--rounds 3] [--sessions N] [--threads N]');
  process.exit(2);
}
const mediaDir = path.resolve(args.media);
const config = loadConfig();
const models = args.models.split(',').map((name) => {
  const model = detectorModels.find((known) => known === name);
  if (!model) throw new Error(`unknown model ${name}; expected ${detectorModels.join(', ')}`);
  return model;
});
const rounds = Number(args.rounds);
const sessions = args.sessions === undefined ? config.detector.sessions : Number(args.sessions);
const intraOpThreads = args.threads === undefined ? config.detector.intraOpThreads : Number(args.threads);
const concurrencyLevels = [1, 2, 4] as const;
const WARMUP_RUNS = 20;
const LARGE_WIDTH = 1920;
const EVENT_FRAMES = 8;
const IMAGE_FILE = /\.(jpe?g|png|webp|bmp)$/i;

interface FixtureEvent {
  name: string;
  frames: Buffer[];
}
interface FrameSet {
  name: string;
  events: FixtureEvent[];
  frames: number;
}

async function imagesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((file) => IMAGE_FILE.test(file)).sort().map((file) => path.join(dir, file));
}

async function loadFrameSets(): Promise<FrameSet[]> {
  const events: FixtureEvent[] = [];
  for (const name of (await readdir(path.join(mediaDir, 'events'))).sort()) {
    events.push({ name, frames: await Promise.all((await imagesIn(path.join(mediaDir, 'events', name))).map((file) => readFile(file))) });
  }
  const large: Buffer[] = [];
  for (const group of (await readdir(path.join(mediaDir, 'stills'))).sort()) {
    for (const file of await imagesIn(path.join(mediaDir, 'stills', group))) {
      const bytes = await readFile(file);
      if ((await openResizable(bytes)).width >= LARGE_WIDTH) large.push(bytes);
    }
  }
  const largeEvents = Array.from({ length: Math.ceil(large.length / EVENT_FRAMES) }, (_, i) => ({
    name: `large_${i}`,
    frames: large.slice(i * EVENT_FRAMES, (i + 1) * EVENT_FRAMES),
  }));
  return [
    { name: 'events', events },
    { name: `stills >= ${LARGE_WIDTH} px`, events: largeEvents },
  ].map((set) => ({ ...set, frames: set.events.reduce((sum, event) => sum + event.frames.length, 0) }));
}

/** lib/stats' percentile of unsorted values; NaN when there are none (an adaptation that never ran). */
const percentileOf = (values: readonly number[], p: number): number =>
  values.length === 0 ? Number.NaN : percentile([...values].sort((a, b) => a - b), p);
const round2 = (value: number) => Math.round(value * 100) / 100;
const stats = (values: readonly number[]) => ({ p50: round2(percentileOf(values, 50)), p95: round2(percentileOf(values, 95)), n: values.length });

const eventFrames = (event: FixtureEvent): EventFrame[] => event.frames.map((bytes, index) => ({ index, load: async () => bytes }));

/** One event through the engine and the filters; returns the gaps between consecutive frames. */
async function timeEvent(engine: DetectionEngine, event: FixtureEvent): Promise<number[]> {
  const marks = [performance.now()];
  const detected = await engine.detectEvent(eventFrames(event), (frameIndex) => {
    if (frameIndex > 0) marks.push(performance.now());
  });
  applyFilters(detected.frames, 2);
  marks.push(performance.now());
  return marks.slice(1).map((mark, i) => mark - marks[i]!);
}

/** Wall time for every event of the set once, `concurrency` events in flight (as the worker's activity slots run them). */
async function timeAllEvents(engine: DetectionEngine, set: FrameSet, concurrency: number): Promise<number> {
  const queue = [...set.events];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let event = queue.shift(); event; event = queue.shift()) applyFilters((await engine.detectEvent(eventFrames(event))).frames, 2);
    }),
  );
  return performance.now() - started;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

async function benchSet(detector: Detector, bareRun: () => Promise<number>, set: FrameSet) {
  const engine = createDetectionEngine({ detector, cascade: null });
  for (const event of set.events) await timeEvent(engine, event);

  const bare: number[] = [];
  const full: number[] = [];
  const sequential: number[] = [];
  const viaFullDecode: number[] = [];
  /** Per event: its full p50 over the p50 of the bare block run just before it. */
  const pairedRatios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const event of set.events) {
      const bareBlock: number[] = [];
      for (let i = 0; i < event.frames.length; i++) bareBlock.push(await bareRun());
      const gaps = await timeEvent(engine, event);
      bare.push(...bareBlock);
      full.push(...gaps);
      pairedRatios.push(percentileOf(gaps, 50) / percentileOf(bareBlock, 50));
      for (const bytes of event.frames) {
        sequential.push(await timed(async () => detector.infer(await detector.prepare(await openResizable(bytes)))));
        viaFullDecode.push(await timed(async () => detector.detect(await decodeToRgb(bytes))));
      }
    }
  }

  // The levels take turns, each turn after a bare block, so the bound shares their conditions.
  const busyMs = new Map<number, number>(concurrencyLevels.map((level) => [level, 0]));
  const boundShares = new Map<number, number[]>(concurrencyLevels.map((level) => [level, []]));
  const bareAlongside: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const concurrency of concurrencyLevels) {
      const bareBlock: number[] = [];
      for (let i = 0; i < set.frames; i++) bareBlock.push(await bareRun());
      bareAlongside.push(...bareBlock);
      const ms = await timeAllEvents(engine, set, concurrency);
      busyMs.set(concurrency, busyMs.get(concurrency)! + ms);
      boundShares.get(concurrency)!.push((set.frames * 1000) / ms / (1000 / percentileOf(bareBlock, 50)));
    }
  }
  const framesPerSecond = Object.fromEntries(concurrencyLevels.map((level) => [`c${level}`, round2((rounds * set.frames * 1000) / busyMs.get(level)!)]));
  const fpsBound = 1000 / percentileOf(bareAlongside, 50);
  return {
    frameSet: set.name,
    frames: set.frames,
    bareMs: stats(bare),
    fullMs: stats(full),
    fullOverBareP50: round2(percentileOf(full, 50) / percentileOf(bare, 50)),
    /** Median over events of (event's full p50 / adjacent bare block's p50): steadier on a busy machine. */
    pairedFullOverBare: round2(percentileOf(pairedRatios, 50)),
    sequentialMs: stats(sequential),
    viaFullDecodeMs: stats(viaFullDecode),
    framesPerSecond,
    /** 1000 / p50 of the bare runs interleaved with the throughput runs. */
    fpsBound: round2(fpsBound),
    bestFpsOverBound: round2(Math.max(...Object.values(framesPerSecond)) / fpsBound),
    /** Per level, the median over rounds of (frames/s / 1000 over the adjacent bare block's p50). */
    pairedFpsOverBound: Object.fromEntries(concurrencyLevels.map((level) => [`c${level}`, round2(percentileOf(boundShares.get(level)!, 50))])),
  };
}

/** The faster of one in-process session with the detector's per-session threads and one with every core. */
async function bareBaseline(model: DetectorModelName, inputName: string, input: ort.Tensor) {
  const source = await detectorModelSource(config.detector.modelsDir, model);
  const candidates = [];
  for (const threads of new Set([intraOpThreads, os.availableParallelism()])) {
    const { session } = await openSession(source, config.detector.device, threads, undefined);
    const run = () => timed(() => session.run({ [inputName]: input }));
    for (let i = 0; i < WARMUP_RUNS; i++) await run();
    const sample: number[] = [];
    for (let i = 0; i < 3 * WARMUP_RUNS; i++) sample.push(await run());
    candidates.push({ threads, session, run, p50: percentileOf(sample, 50) });
  }
  candidates.sort((a, b) => a.p50 - b.p50);
  for (const slower of candidates.slice(1)) await slower.session.release();
  return candidates[0]!;
}

async function benchModel(model: DetectorModelName, sets: FrameSet[]) {
  const detector = await createDetector({ modelsDir: config.detector.modelsDir, model, device: config.detector.device, intraOpThreads, sessions });
  const firstFrame = await openResizable(sets[0]!.events[0]!.frames[0]!);
  const prepared = await detector.prepare(firstFrame);
  const fixedInput = new ort.Tensor('float32', Float32Array.from(prepared.tensor), prepared.dims);
  const bare = await bareBaseline(model, detector.inputName, fixedInput);

  const results = [];
  for (const set of sets) results.push(await benchSet(detector, bare.run, set));
  await bare.session.release();
  return {
    detector,
    result: { model, device: detector.info.device, sessions, intraOpThreads, bareThreads: bare.threads, sets: results },
  };
}

const sets = await loadFrameSets();
console.log(
  `detection benchmark: ${sets.map((set) => `${set.name} (${set.events.length} events, ${set.frames} frames)`).join(', ')}; ` +
    `${rounds} rounds; device ${config.detector.device.kind}`,
);
const results = [];
const detectors = new Map<DetectorModelName, Detector>();
for (const model of models) {
  const { detector, result } = await benchModel(model, sets);
  detectors.set(model, detector);
  results.push(result);
  console.log(
    `\n${model} (${result.device}, ${sessions} session(s) x ${intraOpThreads || 'default'} thread(s); bare baseline: one session, ${result.bareThreads || 'default'} thread(s))`,
  );
  for (const r of result.sets) {
    console.log(`  ${r.frameSet}`);
    console.log(`    bare session.run          p50 ${r.bareMs.p50} ms  p95 ${r.bareMs.p95} ms  (${r.bareMs.n} runs)`);
    console.log(
      `    full path per frame       p50 ${r.fullMs.p50} ms  p95 ${r.fullMs.p95} ms  full/bare p50 ${r.fullOverBareP50} (paired per event ${r.pairedFullOverBare})`,
    );
    console.log(`    sequential per frame      p50 ${r.sequentialMs.p50} ms  p95 ${r.sequentialMs.p95} ms  (nothing overlapped)`);
    console.log(`    via full-size decode      p50 ${r.viaFullDecodeMs.p50} ms  p95 ${r.viaFullDecodeMs.p95} ms  (decodeToRgb, then resize)`);
    console.log(
      `    frames/s                  ${concurrencyLevels.map((c) => `c${c} ${r.framesPerSecond[`c${c}`]}`).join('  ')}  ` +
        `(best ${r.bestFpsOverBound} x ${r.fpsBound}, the 1000/bare p50 alongside; paired ` +
        `${concurrencyLevels.map((c) => `c${c} ${r.pairedFpsOverBound[`c${c}`]}`).join(' ')})`,
    );
  }
}

/** What an adaptation adds per event in which it runs, against the primary model alone on the same event. */
async function adaptationCost(primary: Detector, adapted: DetectionEngine, ran: (result: EventDetections) => boolean) {
  const plain = createDetectionEngine({ detector: primary, cascade: null });
  const extra: number[] = [];
  const triggered = new Set<string>();
  for (let round = 0; round < rounds; round++) {
    for (const event of sets[0]!.events) {
      const alone = await timed(() => plain.detectEvent(eventFrames(event)));
      let didRun = false;
      const withIt = await timed(async () => {
        didRun = ran(await adapted.detectEvent(eventFrames(event)));
      });
      if (!didRun) continue;
      triggered.add(event.name);
      extra.push(withIt - alone);
    }
  }
  return { triggeredEvents: [...triggered], extraMsPerEvent: stats(extra) };
}

type AdaptationCost = Awaited<ReturnType<typeof adaptationCost>>;
const describeCost = (name: string, cost: AdaptationCost) =>
  `\n${name}: runs on ${cost.triggeredEvents.length} of ${sets[0]!.events.length} events (${cost.triggeredEvents.join(', ')}); ` +
  `extra ms per such event p50 ${cost.extraMsPerEvent.p50}, p95 ${cost.extraMsPerEvent.p95}`;

/**
 * The whole engine with the cascade and the tiles looking at every changed frame (off) and at every other one first
 * (on): CPU time of this process (every thread: the sessions run on worker threads), off and on alternating.
 */
async function everyOtherChangeCpu(primary: Detector, cascade: Detector | null) {
  const engines = {
    off: createDetectionEngine({ detector: primary, cascade, tiling: true, thermal: true, everyOtherChange: false }),
    on: createDetectionEngine({ detector: primary, cascade, tiling: true, thermal: true, everyOtherChange: true }),
  };
  const perEventLists = () => sets[0]!.events.map(() => [] as number[]);
  const spent = { off: perEventLists(), on: perEventLists() };
  for (let round = 0; round < rounds; round++) {
    for (const [e, event] of sets[0]!.events.entries()) {
      for (const side of (round + e) % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        const started = process.cpuUsage();
        await engines[side].detectEvent(eventFrames(event));
        const { user, system } = process.cpuUsage(started);
        spent[side][e]!.push((user + system) / 1000);
      }
    }
  }
  const perEvent = sets[0]!.events.map((event, e) => ({
    event: event.name,
    off: Math.round(percentileOf(spent.off[e]!, 50)),
    on: Math.round(percentileOf(spent.on[e]!, 50)),
  }));
  const mean = (side: 'off' | 'on') => Math.round(perEvent.reduce((sum, row) => sum + row[side], 0) / perEvent.length);
  return { perEvent, mean: { off: mean('off'), on: mean('on') } };
}

// The price of the cascade and of the tiled pass, each on the fixture events in which it runs.
let everyOtherChange: Awaited<ReturnType<typeof everyOtherChangeCpu>> | null = null;
let cascadeCost: (AdaptationCost & { primary: string; cascade: string }) | null = null;
let tilingCost: (AdaptationCost & { model: string }) | null = null;
const [primaryModel, cascadeModel] = models;
if (primaryModel) {
  const primary = detectors.get(primaryModel)!;
  if (cascadeModel) {
    const withCascade = createDetectionEngine({ detector: primary, cascade: detectors.get(cascadeModel)! });
    cascadeCost = { primary: primaryModel, cascade: cascadeModel, ...(await adaptationCost(primary, withCascade, (r) => r.cascade !== null)) };
    console.log(describeCost(`cascade ${primaryModel} -> ${cascadeModel}`, cascadeCost));
  }
  const withTiles = createDetectionEngine({ detector: primary, cascade: null, tiling: true });
  tilingCost = { model: primaryModel, ...(await adaptationCost(primary, withTiles, (r) => r.tiled !== null)) };
  console.log(describeCost(`tiled pass of ${primaryModel} (2 x 2 tiles per frame)`, tilingCost));
  everyOtherChange = await everyOtherChangeCpu(primary, cascadeModel ? detectors.get(cascadeModel)! : null);
  console.log(
    `\nevery other changed frame first (DETECTOR_EVERY_OTHER_CHANGE), CPU ms per event of the whole engine (cascade, tiles, thermal pass), ` +
      `median of ${rounds} alternating: ${everyOtherChange.perEvent.map(({ event, off, on }) => `${event} ${off} -> ${on}`).join(', ')}; ` +
      `mean of the events ${everyOtherChange.mean.off} -> ${everyOtherChange.mean.on}`,
  );
}
for (const detector of detectors.values()) await detector.release();

console.log(JSON.stringify({ rounds, models: results, cascade: cascadeCost, tiling: tilingCost, everyOtherChange }));
