/**
 * The thermal pass (gpu-worker/thermal.ts), through the detection engine the worker runs, with the pass
 * off and on in the same run, event by event (so load from elsewhere falls on both alike):
 * - far-away people: the people of the thermal laboratory still at 0.15, 0.12 and 0.1 of the frame's
 *   height, walking across the two other thermal stills, in the palette and grey (test/support/thermal-events.ts),
 *   4 frames each: events in which a person at the filters' minimum score is found, off and on;
 * - cost: ms per frame of bare detection (the model alone), of detection as configured without the pass
 *   (cascade and 2 x 2 tiles run on an event without a person), and of the pass per thermal frame, on every
 *   event where the pass ran (the far-away people, and the thermal stills as 4-frame events).
 *
 *   npm run bench:thermal -- [--rounds 2]
 *
 * Detector model, cascade, tiling, sessions and threads come from the configuration (DETECTOR_*).
 * The machine's load (uptime) is printed before and after. The last line is one JSON summary.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.js';
import { defaultFilterSettings } from '../domain/filters.js';
import type { Box, FrameDetections } from '../domain/types.js';
import { configuredDetectorOptions, createDetector } from '../gpu-worker/detector.js';
import { createDetectionEngine, type EventFrame } from '../gpu-worker/engine.js';
import { readThermalStill, shiftedEvent, smallPersonEvents, thermalStills } from '../test/support/thermal-events.js';
import { percentile } from './lib/stats.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '2' } } });
const rounds = Number(args.rounds);
const config = loadConfig();
const load = () => os.loadavg().map((value) => value.toFixed(2)).join(' ');

const openDetector = (model: typeof config.detector.model) => createDetector(configuredDetectorOptions(config.detector, model));
const detector = await openDetector(config.detector.model);
const cascade = config.detector.cascadeModel ? await openDetector(config.detector.cascadeModel) : null;
const engines = {
  bare: createDetectionEngine({ detector, cascade: null }),
  off: createDetectionEngine({ detector, cascade, tiling: config.detector.tiling, thermal: false }),
  on: createDetectionEngine({ detector, cascade, tiling: config.detector.tiling, thermal: true }),
};

const asFrames = (frames: readonly Uint8Array[]): EventFrame[] => frames.map((bytes, index) => ({ index, load: async () => bytes }));
/** A person at the filters' minimum score whose box centre lies in the walking person's box, in any frame (not a duck beside it). */
const foundWhereItIs = (frames: readonly FrameDetections[], truth: readonly Box[]) =>
  frames.some((frame, i) =>
    frame.detections.some(({ category, score, box }) => {
      const [x1, y1, x2, y2] = truth[i]!;
      const [cx, cy] = [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2];
      return category === 'person' && score >= defaultFilterSettings.minScore.person && cx >= x1 && cx <= x2 && cy >= y1 && cy <= y2;
    }),
  );

const farPeople = await smallPersonEvents();
const stillEvents = await Promise.all(
  Object.entries(thermalStills).map(async ([name, file]) => ({ name: `${name} still x4`, frames: await shiftedEvent(await readThermalStill(file)) })),
);

console.log(`Thermal pass bench: ${rounds} round(s), model ${detector.info.model}, cascade ${cascade?.info.model ?? 'none'}, tiling ${config.detector.tiling ? 'on' : 'off'}`);
console.log(`load before (uptime 1/5/15 min): ${load()}, ${os.availableParallelism()} cores`);

const found = new Map<string, { off: boolean; on: boolean }>();
const bareMsPerFrame: number[] = [];
const offMsPerFrame: number[] = [];
const thermalMsPerFrame: number[] = [];
for (let round = 0; round < rounds; round++) {
  const events: { name: string; frames: Buffer[]; boxes?: Box[] }[] = [...farPeople, ...stillEvents];
  for (const event of events) {
    const bareStarted = performance.now();
    await engines.bare.detectEvent(asFrames(event.frames));
    const bareMs = performance.now() - bareStarted;
    const started = performance.now();
    const off = await engines.off.detectEvent(asFrames(event.frames));
    const offMs = performance.now() - started;
    const on = await engines.on.detectEvent(asFrames(event.frames));
    if (round === 0 && event.boxes) found.set(event.name, { off: foundWhereItIs(off.frames, event.boxes), on: foundWhereItIs(on.frames, event.boxes) });
    if (on.thermal && on.thermal.frames > 0) {
      bareMsPerFrame.push(bareMs / event.frames.length);
      offMsPerFrame.push(offMs / event.frames.length);
      thermalMsPerFrame.push(on.thermal.ms / on.thermal.frames);
    }
  }
}

const median = (values: number[]) => (values.length > 0 ? Math.round(percentile([...values].sort((a, b) => a - b), 50)) : null);
console.log('\nFar-away people (4 frames each): a person found with the thermal pass off / on');
for (const [name, { off, on }] of found) console.log(`  ${name.padEnd(18)} ${off ? 'found' : 'missed'} / ${on ? 'found' : 'missed'}`);
const count = (side: 'off' | 'on') => [...found.values()].filter((result) => result[side]).length;
console.log(`  found ${count('off')}/${found.size} off, ${count('on')}/${found.size} on`);
console.log(
  `\nCost per frame, median over ${thermalMsPerFrame.length} events where the pass ran: bare detection ${median(bareMsPerFrame)} ms, ` +
    `detection without the pass (model, cascade, 2 x 2 tiles) ${median(offMsPerFrame)} ms, ` +
    `thermal pass ${median(thermalMsPerFrame)} ms per thermal frame`,
);
console.log(`load after: ${load()}`);
console.log(
  JSON.stringify({
    rounds,
    model: detector.info.model,
    farPeople: { events: found.size, foundOff: count('off'), foundOn: count('on') },
    msPerFrame: { bareDetection: median(bareMsPerFrame), withoutThermalPass: median(offMsPerFrame), thermalPass: median(thermalMsPerFrame) },
    load: load(),
  }),
);
await detector.release();
await cascade?.release();
