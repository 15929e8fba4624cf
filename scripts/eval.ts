/**
 * Detection evaluation over a media folder laid out like the shared fixtures (manifest.json, events/,
 * stills/, labelled/<set>/annotations.json), through the code the workers run: the detection engine of
 * the detectFrames activity, then the analyseFrames and decide activities.
 *
 *   npm run eval -- --media <dir> [--model M] [--cascade M|none] [--palette-to-luminance true|false]
 *                   [--tiling true|false] [--thermal-pass true|false] [--thermal] [--sensitivity 0|1|2]
 *                   [--site-category C] [--time "YYYY-MM-DD HH:MM"]
 *
 * Model, cascade, palette conversion, tiling and the thermal pass default to the configuration (DETECTOR_*).
 * Labelled images give per-class recall and precision at IoU 0.5; events give has_person / has_vehicle /
 * crime_rate against the manifest's tags; stills (each a one-frame submission) give presence per lighting
 * condition. The thermal section (alone with --thermal) runs the thermal stills, 4-frame events made from
 * them, far-away people made from them (test/support/thermal-events.ts) and the nuisance fixtures with the
 * thermal pass off and on. The last line is one JSON summary.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createAlarmActivities } from '../activities/alarm.js';
import { detectorModels, loadConfig, type DetectorModelName } from '../config/index.js';
import { createDatabase } from '../db/database.js';
import { iou } from '../domain/boxes.js';
import { seenDetections } from '../domain/filters.js';
import { siteCategories, type Box, type FrameDetections } from '../domain/types.js';
import { configuredDetectorOptions, createDetector, type Detector } from '../gpu-worker/detector.js';
import { createDetectionEngine, type EventDetections } from '../gpu-worker/engine.js';
import { createLogger } from '../logging/logger.js';
import { FileSystemMediaStore } from '../media/store.js';
import type { FrameRef } from '../workflows/contracts/alarm-verification.js';
import { EVENT_FRAMES, shiftedEvent, smallPersonEvents } from '../test/support/thermal-events.js';
import { percentile } from './lib/stats.js';

const usage =
  'usage: npm run eval -- --media <dir> [--model M] [--cascade M|none] [--palette-to-luminance true|false] ' +
  '[--tiling true|false] [--thermal-pass true|false] [--thermal] [--sensitivity 0|1|2] [--site-category C] [--time "YYYY-MM-DD HH:MM"]';

const { values: args } = parseArgs({
  options: {
    media: { type: 'string' },
    model: { type: 'string' },
    cascade: { type: 'string' },
    'palette-to-luminance': { type: 'string' },
    tiling: { type: 'string' },
    'thermal-pass': { type: 'string' },
    thermal: { type: 'boolean', default: false },
    sensitivity: { type: 'string', default: '2' },
    'site-category': { type: 'string', default: 'other' },
    // Night at a site without business hours: a person there is an intrusion.
    time: { type: 'string', default: '2025-01-15 02:00' },
  },
});

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

function modelArg(value: string): DetectorModelName {
  const model = detectorModels.find((name) => name === value);
  return model ?? fail(`unknown model ${value}; expected one of ${detectorModels.join(', ')}`);
}

if (!args.media) fail('--media is required');
const mediaDir = path.resolve(args.media);
const config = loadConfig();
const model = args.model ? modelArg(args.model) : config.detector.model;
const cascadeModel =
  args.cascade === undefined ? config.detector.cascadeModel : args.cascade === 'none' ? null : modelArg(args.cascade);
const paletteToLuminance =
  args['palette-to-luminance'] === undefined ? config.detector.paletteToLuminance : args['palette-to-luminance'] === 'true';
const tiling = args.tiling === undefined ? config.detector.tiling : args.tiling === 'true';
const thermalPass = args['thermal-pass'] === undefined ? config.detector.thermal : args['thermal-pass'] === 'true';
const sensitivity = ([0, 1, 2] as const).find((level) => String(level) === args.sensitivity) ?? fail('--sensitivity must be 0, 1 or 2');
const siteCategory = siteCategories.find((category) => category === args['site-category']) ?? fail(`unknown site category ${args['site-category']}`);
const vendorTime = args.time;

type Expected = boolean | 'parked' | null;
interface ManifestItem {
  kind: string;
  file: string;
  person?: Expected;
  vehicle?: Expected;
  lighting?: string;
  nuisance?: string[];
}
interface LabelledObject {
  class: string;
  bbox_xyxy: Box;
  iscrowd: number;
}
interface LabelledImage {
  file: string;
  width: number;
  height: number;
  objects: LabelledObject[];
}

const VEHICLE_CLASSES = new Set(['car', 'truck', 'bus', 'motorcycle', 'bicycle']);
const SMALL_PERSON_HEIGHT = 48;
const IMAGE_FILE = /\.(jpe?g|png|webp|bmp)$/i;

// --- the pipeline under test -------------------------------------------------------------------------

const media = new FileSystemMediaStore(mediaDir);
const openDetector = (name: DetectorModelName): Promise<Detector> =>
  createDetector({ ...configuredDetectorOptions(config.detector, name), paletteToLuminance });
const detector = await openDetector(model);
const cascade = cascadeModel && cascadeModel !== model ? await openDetector(cascadeModel) : null;
const { everyOtherChange } = config.detector;
const engine = createDetectionEngine({ detector, cascade, tiling, thermal: thermalPass, everyOtherChange });
/** The thermal section's before and after: the same engine with the thermal pass off and on. */
const thermalEngines = {
  off: createDetectionEngine({ detector, cascade, tiling, thermal: false, everyOtherChange }),
  on: createDetectionEngine({ detector, cascade, tiling, thermal: true, everyOtherChange }),
};
// Without a camera id analyseFrames looks up no previous event, so these activities never query and the pool never connects.
const db = createDatabase(config.database.url, 1);
const alarm = createAlarmActivities({ db, media, logger: createLogger('warn', 'eval') });
/** Frames the thermal section makes, stored for the run only. */
const madeDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-eval-'));
const made = new FileSystemMediaStore(madeDir);
const madeAlarm = createAlarmActivities({ db, media: made, logger: createLogger('warn', 'eval') });
const activityEnvironment = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
/** Calls an activity inside an activity context, as a worker would. */
const runActivity = <A extends unknown[], R>(activity: (...args: A) => Promise<R>, ...args: A): Promise<R> =>
  activityEnvironment.run(activity, ...args) as Promise<R>;

interface Submission {
  detection: EventDetections;
  detectMs: number;
  kept: FrameDetections[];
  hasPerson: boolean;
  hasVehicle: boolean;
  crimeRate: number;
  decision: string;
}

let submissions = 0;
/** One submission of the frames at `keys`, through `using` (the fixtures' store and the configured engine unless given). */
async function submit(
  keys: string[],
  using: { engine?: typeof engine; media?: FileSystemMediaStore; alarm?: typeof alarm } = {},
): Promise<Submission> {
  const { media: store = media, alarm: activities = alarm } = using;
  const jobId = `eval_${++submissions}`;
  const frames: FrameRef[] = keys.map((key, index) => ({ index, key }));
  const started = performance.now();
  const detection = await (using.engine ?? engine).detectEvent(frames.map((frame) => ({ index: frame.index, load: () => store.get(frame.key) })));
  const detectMs = performance.now() - started;
  const scope = { accountId: 'eval', jobId };
  const analysis = await runActivity(activities.analyseFrames, { ...scope, siteCategory, frames, detections: detection.frames, sensitivity });
  const decision = await runActivity(activities.decide, {
    ...scope,
    sensitivity,
    siteCategory,
    vendorTime,
    analysis,
    frameCount: frames.length,
    extraIndicators: [],
  });
  // As the export says it: what was seen, parked vehicles included.
  const seenCategories = new Set(seenDetections(analysis).flatMap((frame) => frame.detections.map((d) => d.category)));
  return {
    detection,
    detectMs,
    kept: analysis.kept,
    hasPerson: seenCategories.has('person'),
    hasVehicle: seenCategories.has('vehicle'),
    crimeRate: decision.crimeRate,
    decision: decision.decision,
  };
}

// --- scoring -------------------------------------------------------------------------------------------

interface Tally {
  gt: number;
  tp: number;
  fp: number;
  fn: number;
}
const emptyTally = (): Tally => ({ gt: 0, tp: 0, fp: 0, fn: 0 });
const ratio = (num: number, den: number): number | null => (den > 0 ? Math.round((num / den) * 1000) / 1000 : null);
const recallOf = (t: Tally) => ratio(t.tp, t.tp + t.fn);
const precisionOf = (t: Tally) => ratio(t.tp, t.tp + t.fp);
const summaryOf = (t: Tally) => ({ ...t, recall: recallOf(t), precision: precisionOf(t) });

/** Greedy by score: each detection takes the unmatched ground truth it overlaps most (IoU ≥ 0.5); crowd boxes absorb detections without counting. */
function match(detections: { score: number; box: Box }[], truths: LabelledObject[]): { matchedTruths: Set<LabelledObject>; falsePositives: number } {
  const matchedTruths = new Set<LabelledObject>();
  let falsePositives = 0;
  for (const detection of [...detections].sort((a, b) => b.score - a.score)) {
    const candidates = truths
      .filter((truth) => truth.iscrowd === 0 && !matchedTruths.has(truth))
      .map((truth) => ({ truth, overlap: iou(detection.box, truth.bbox_xyxy) }))
      .sort((a, b) => b.overlap - a.overlap);
    const best = candidates[0];
    if (best && best.overlap >= 0.5) matchedTruths.add(best.truth);
    else if (!truths.some((truth) => truth.iscrowd !== 0 && iou(detection.box, truth.bbox_xyxy) >= 0.5)) falsePositives++;
  }
  return { matchedTruths, falsePositives };
}

const yesNo = (value: boolean) => (value ? 'yes' : 'no');
const expectedText = (value: Expected | undefined) => (value === undefined || value === null ? '?' : value === 'parked' ? 'parked' : yesNo(value));
/** Stationary vehicles do not count (domain/filters.ts), so a scene of parked vehicles should report none. */
/** A parked vehicle is there: has_vehicle reports it (only the decision leaves it out). */
const expectedPresence = (value: Expected | undefined): boolean | null =>
  value === undefined || value === null ? null : value === true || value === 'parked';

/** How detection adapted to the input: cascade, tiled pass, thermal pass, pseudo-colour frames (with their ms for events). */
function adaptations({ cascade, tiled, thermal, pseudoColourFrames }: EventDetections, withMs: boolean): string {
  const ms = (run: { ms: number }) => (withMs ? ` ${run.ms.toFixed(0)} ms` : '');
  return [
    cascade ? `cascade${ms(cascade)}${withMs ? ` on ${cascade.frames} frames` : ''}` : '',
    tiled ? `tiled${ms(tiled)}${withMs ? ` on ${tiled.tiles} tiles` : ''}` : '',
    thermal && thermal.frames > 0 ? `thermal +${thermal.persons}${ms(thermal)}` : '',
    pseudoColourFrames ? (withMs ? `${pseudoColourFrames} pseudo-colour` : 'pseudo-colour') : '',
  ]
    .filter(Boolean)
    .join(', ');
}

function table(rows: (string | number)[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => String(row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => String(cell).padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}
const fixed = (value: number | null, digits = 2) => (value === null ? '-' : value.toFixed(digits));

// --- the thermal section ---------------------------------------------------------------------------------

interface ThermalRow {
  item: string;
  frames: number;
  person: boolean;
  off: Submission;
  on: Submission;
  /** For a made far-away person: where it is in each frame. */
  truth?: Box[];
}

/** Persons kept in the first frame, and has_person, crime_rate: what the row compares off and on. */
const verdictOf = (result: Submission) => `${result.kept[0]!.detections.filter((d) => d.category === 'person').length}p ${yesNo(result.hasPerson)} ${result.crimeRate}`;
/** A person is found where it is when a kept person's box centre lies in its box, in any frame (not a duck beside it). */
const foundWhereItIs = (result: Submission, truth: readonly Box[]) =>
  result.kept.some((frame, i) =>
    frame.detections.some(({ category, box }) => {
      const [x1, y1, x2, y2] = truth[i]!;
      const [cx, cy] = [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2];
      return category === 'person' && cx >= x1 && cx <= x2 && cy >= y1 && cy <= y2;
    }),
  );

/**
 * The thermal stills, 4-frame events made from each, far-away people made from them and the nuisance
 * fixtures (animals, foliage, empty scenes, night IR: events, stills, and stills as 4-frame events), each
 * submitted with the thermal pass off and on.
 */
async function thermalSection() {
  let madeEvents = 0;
  const store = async (frames: Buffer[]) => {
    const folder = `made_${++madeEvents}`;
    await Promise.all(frames.map((bytes, i) => made.put(`${folder}/frame_${i}.jpg`, bytes)));
    return frames.map((_, i) => `${folder}/frame_${i}.jpg`);
  };
  const both = async (item: string, person: boolean, keys: string[], madeFrames: boolean, truth?: Box[]): Promise<ThermalRow> => {
    const using = madeFrames ? { media: made, alarm: madeAlarm } : {};
    const off = await submit(keys, { ...using, engine: thermalEngines.off });
    const on = await submit(keys, { ...using, engine: thermalEngines.on });
    return { item, frames: keys.length, person, off, on, truth };
  };
  const nuisance = (item: ManifestItem) => item.person === false && (item.nuisance?.length ?? 0) > 0;

  const thermalStills = manifest.items.filter((item) => item.kind === 'still' && item.lighting === 'thermal');
  const stills: ThermalRow[] = [];
  for (const item of thermalStills) {
    const name = path.basename(item.file);
    stills.push(await both(name, item.person === true, [item.file], false));
    stills.push(await both(`${name} x${EVENT_FRAMES}`, item.person === true, await store(await shiftedEvent(await media.get(item.file))), true));
  }
  const farPeople: ThermalRow[] = [];
  for (const event of await smallPersonEvents()) farPeople.push(await both(event.name, true, await store(event.frames), true, event.boxes));
  const nuisances: ThermalRow[] = [];
  for (const item of manifest.items.filter((entry) => entry.kind === 'event' && nuisance(entry))) {
    const frames = (await readdir(path.join(mediaDir, item.file))).filter((name) => IMAGE_FILE.test(name)).sort();
    nuisances.push(await both(path.basename(item.file), false, frames.map((name) => path.posix.join(item.file, name)), false));
  }
  for (const item of manifest.items.filter((entry) => entry.kind === 'still' && nuisance(entry))) {
    const name = path.basename(item.file);
    nuisances.push(await both(name, false, [item.file], false));
    nuisances.push(await both(`${name} x${EVENT_FRAMES}`, false, await store(await shiftedEvent(await media.get(item.file))), true));
  }

  const rowsOf = (rows: ThermalRow[]) =>
    rows.map(({ item, frames, person, off, on, truth }) => [
      item,
      frames,
      yesNo(person),
      verdictOf(off) + (truth ? ` ${foundWhereItIs(off, truth) ? 'found' : 'missed'}` : ''),
      verdictOf(on) + (truth ? ` ${foundWhereItIs(on, truth) ? 'found' : 'missed'}` : ''),
      on.detection.thermal ? `${on.detection.thermal.frames} thermal, +${on.detection.thermal.persons} persons, dropped ${on.detection.thermal.dropped.readout} readout / ${on.detection.thermal.dropped.unconfirmed} unconfirmed` : '',
    ]);
  const header = ['item', 'frames', 'person', 'off', 'on', 'thermal pass'];
  console.log('\nThermal pass off / on: persons kept in the first frame, has_person, crime_rate (made far-away person: found where it is)');
  console.log(table([header, ...rowsOf([...stills, ...farPeople, ...nuisances])]));

  const found = (rows: ThermalRow[], side: 'off' | 'on') =>
    rows.filter((row) => row.person && (row.truth ? foundWhereItIs(row[side], row.truth) : row[side].hasPerson)).length;
  // A false alarm: a person reported where there is none; crime_rate > 0 is counted beside it (a vehicle at night raises it too).
  const falseAlarms = (rows: ThermalRow[], side: 'off' | 'on') => rows.filter((row) => row[side].hasPerson).length;
  const raised = (rows: ThermalRow[], side: 'off' | 'on') => rows.filter((row) => row[side].crimeRate > 0).length;
  // Cost on thermal frames without a person: bare detection (off) per frame, and what the pass adds per thermal frame (on).
  const passed = [...stills, ...farPeople, ...nuisances].filter((row) => row.on.detection.thermal && row.on.detection.thermal.frames > 0);
  const perFrame = (values: number[], frames: number) => (frames > 0 ? Math.round(values.reduce((a, b) => a + b, 0) / frames) : null);
  const thermalFrames = passed.reduce((sum, row) => sum + row.on.detection.thermal!.frames, 0);
  const summary = {
    stills: Object.fromEntries(stills.map((row) => [row.item, { person: row.person, off: verdictOf(row.off), on: verdictOf(row.on) }])),
    stillsWithPeople: { of: stills.filter((row) => row.person).length, foundOff: found(stills, 'off'), foundOn: found(stills, 'on') },
    stillsWithoutPeopleFalseAlarms: { off: falseAlarms(stills.filter((row) => !row.person), 'off'), on: falseAlarms(stills.filter((row) => !row.person), 'on') },
    farPeople: { of: farPeople.length, foundOff: found(farPeople, 'off'), foundOn: found(farPeople, 'on') },
    nuisances: {
      items: nuisances.length,
      falseAlarmsOff: falseAlarms(nuisances, 'off'),
      falseAlarmsOn: falseAlarms(nuisances, 'on'),
      crimeRateAboveZeroOff: raised(nuisances, 'off'),
      crimeRateAboveZeroOn: raised(nuisances, 'on'),
    },
    msPerFrame: {
      bareDetection: perFrame(passed.map((row) => row.off.detectMs), passed.reduce((sum, row) => sum + row.frames, 0)),
      thermalPass: perFrame(passed.map((row) => row.on.detection.thermal!.ms), thermalFrames),
      thermalFrames,
    },
  };
  console.log(
    `\nThermal pass: stills with people found ${summary.stillsWithPeople.foundOff} -> ${summary.stillsWithPeople.foundOn} of ${summary.stillsWithPeople.of}; ` +
      `far-away people ${summary.farPeople.foundOff} -> ${summary.farPeople.foundOn} of ${summary.farPeople.of}; ` +
      `nuisance person false alarms ${summary.nuisances.falseAlarmsOff} -> ${summary.nuisances.falseAlarmsOn} of ${summary.nuisances.items} ` +
      `(crime_rate > 0: ${summary.nuisances.crimeRateAboveZeroOff} -> ${summary.nuisances.crimeRateAboveZeroOn}); ` +
      `${summary.msPerFrame.thermalPass ?? '-'} ms per thermal frame for the pass, ${summary.msPerFrame.bareDetection ?? '-'} ms per frame bare detection`,
  );
  return summary;
}

async function close() {
  await db.destroy();
  await detector.release();
  await cascade?.release();
  await rm(madeDir, { recursive: true, force: true });
}

// --- run -----------------------------------------------------------------------------------------------

const manifest = JSON.parse(await readFile(path.join(mediaDir, 'manifest.json'), 'utf8')) as { items: ManifestItem[] };
console.log(`Vigil detection eval of ${mediaDir}`);
console.log(
  `model ${model}, cascade ${cascade?.info.model ?? 'none'}, palette-to-luminance ${paletteToLuminance ? 'on' : 'off'}, tiling ${tiling ? 'on' : 'off'}, ` +
    `thermal pass ${thermalPass ? 'on' : 'off'}, every other change ${everyOtherChange ? 'on' : 'off'}, sensitivity ${sensitivity}, ${siteCategory} site at ${vendorTime}\n`,
);
if (args.thermal) {
  console.log(JSON.stringify({ media: mediaDir, model, cascadeModel: cascade?.info.model ?? null, tiling, sensitivity, thermal: await thermalSection() }));
  await close();
  process.exit(0);
}

// Labelled images: each one a one-frame submission, scored before and after the nuisance filters.
const labelledSets = (await readdir(path.join(mediaDir, 'labelled'), { withFileTypes: true }).catch(() => []))
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();
const labelled = {
  detector: { person: emptyTally(), vehicle: emptyTally() },
  kept: { person: emptyTally(), vehicle: emptyTally() },
  keptPersonTall: emptyTally(),
  keptPersonSmall: emptyTally(),
};
let labelledImages = 0;
for (const set of labelledSets) {
  const annotations = JSON.parse(await readFile(path.join(mediaDir, 'labelled', set, 'annotations.json'), 'utf8')) as { images: LabelledImage[] };
  for (const image of annotations.images) {
    labelledImages++;
    const result = await submit([path.posix.join('labelled', set, image.file)]);
    const stages = { detector: result.detection.frames[0]!.detections, kept: result.kept[0]!.detections };
    for (const category of ['person', 'vehicle'] as const) {
      const truths = image.objects.filter((object) => (category === 'person' ? object.class === 'person' : VEHICLE_CLASSES.has(object.class)));
      for (const stage of ['detector', 'kept'] as const) {
        const { matchedTruths, falsePositives } = match(stages[stage].filter((d) => d.category === category), truths);
        const tally = labelled[stage][category];
        const counted = truths.filter((truth) => truth.iscrowd === 0);
        tally.gt += counted.length;
        tally.tp += matchedTruths.size;
        tally.fn += counted.length - matchedTruths.size;
        tally.fp += falsePositives;
        if (stage === 'kept' && category === 'person') {
          for (const truth of counted) {
            const tally = truth.bbox_xyxy[3] - truth.bbox_xyxy[1] > SMALL_PERSON_HEIGHT ? labelled.keptPersonTall : labelled.keptPersonSmall;
            tally.gt++;
            if (matchedTruths.has(truth)) tally.tp++;
            else tally.fn++;
          }
        }
      }
    }
  }
}
console.log(`Labelled images (${labelledImages} in ${labelledSets.join(', ') || 'no set'}), IoU >= 0.5`);
console.log(
  table([
    ['class', 'stage', 'gt', 'tp', 'fp', 'fn', 'recall', 'precision'],
    ...(['person', 'vehicle'] as const).flatMap((category) =>
      (['detector', 'kept'] as const).map((stage) => {
        const t = labelled[stage][category];
        return [category, stage === 'kept' ? 'after filters' : 'detector', t.gt, t.tp, t.fp, t.fn, fixed(recallOf(t)), fixed(precisionOf(t))];
      }),
    ),
    ['person > 48 px', 'after filters', labelled.keptPersonTall.gt, labelled.keptPersonTall.tp, '', labelled.keptPersonTall.fn, fixed(recallOf(labelled.keptPersonTall)), ''],
    ['person <= 48 px', 'after filters', labelled.keptPersonSmall.gt, labelled.keptPersonSmall.tp, '', labelled.keptPersonSmall.fn, fixed(recallOf(labelled.keptPersonSmall)), ''],
  ]),
);

// Events: the frames of each as one submission.
const presence = { person: { agree: 0, known: 0 }, vehicle: { agree: 0, known: 0 } };
const eventRows: (string | number)[][] = [];
const detectMs: number[] = [];
/** Cascade and tiled-pass ms per event where they ran; stills are counted apart (one frame each). */
const cascadeEventMs: number[] = [];
const tiledEventMs: number[] = [];
let cascadeStills = 0;
let tiledStills = 0;
let pseudoColourFrames = 0;
const crimeRates: Record<string, number> = {};
for (const item of manifest.items.filter((entry) => entry.kind === 'event')) {
  const frames = (await readdir(path.join(mediaDir, item.file))).filter((name) => IMAGE_FILE.test(name)).sort();
  const result = await submit(frames.map((name) => path.posix.join(item.file, name)));
  detectMs.push(result.detectMs);
  if (result.detection.cascade) cascadeEventMs.push(result.detection.cascade.ms);
  if (result.detection.tiled) tiledEventMs.push(result.detection.tiled.ms);
  pseudoColourFrames += result.detection.pseudoColourFrames;
  crimeRates[path.basename(item.file)] = result.crimeRate;
  const verdicts = (['person', 'vehicle'] as const).map((category) => {
    const expected = expectedPresence(item[category]);
    const found = category === 'person' ? result.hasPerson : result.hasVehicle;
    if (expected === null) return '?';
    presence[category].known++;
    if (expected === found) presence[category].agree++;
    return expected === found ? 'ok' : 'MISS';
  });
  eventRows.push([
    path.basename(item.file),
    frames.length,
    `${expectedText(item.person)}/${expectedText(item.vehicle)}`,
    yesNo(result.hasPerson),
    yesNo(result.hasVehicle),
    verdicts.join('/'),
    result.crimeRate,
    result.decision,
    result.detectMs.toFixed(0),
    adaptations(result.detection, true),
  ]);
}
console.log(`\nEvents (${eventRows.length})`);
console.log(
  table([['event', 'frames', 'expected p/v', 'has_person', 'has_vehicle', 'p/v', 'crime_rate', 'decision', 'detect ms', 'notes'], ...eventRows]),
);

// Stills: one-frame submissions, grouped by lighting so the hard conditions show separately.
const byLighting = new Map<string, { items: number; person: Tally; vehicle: Tally }>();
const stillRows: (string | number)[][] = [];
for (const item of manifest.items.filter((entry) => entry.kind === 'still')) {
  const result = await submit([item.file]);
  pseudoColourFrames += result.detection.pseudoColourFrames;
  if (result.detection.cascade) cascadeStills++;
  if (result.detection.tiled) tiledStills++;
  const lighting = item.lighting ?? 'unknown';
  const group = byLighting.get(lighting) ?? { items: 0, person: emptyTally(), vehicle: emptyTally() };
  byLighting.set(lighting, group);
  group.items++;
  for (const category of ['person', 'vehicle'] as const) {
    const expected = expectedPresence(item[category]);
    const found = category === 'person' ? result.hasPerson : result.hasVehicle;
    if (expected === null) continue;
    // Image-level: a positive still is one ground truth; a detection on a negative still is a false alarm.
    if (expected) {
      group[category].gt++;
      if (found) group[category].tp++;
      else group[category].fn++;
    } else if (found) group[category].fp++;
  }
  stillRows.push([
    item.file.replace(/^stills\//, ''),
    lighting,
    `${expectedText(item.person)}/${expectedText(item.vehicle)}`,
    yesNo(result.hasPerson),
    yesNo(result.hasVehicle),
    result.kept[0]!.detections.map((d) => `${d.label} ${d.score.toFixed(2)}`).join(' '),
    adaptations(result.detection, false),
  ]);
}
console.log(`\nStills (${stillRows.length}), each a one-frame submission`);
console.log(table([['still', 'lighting', 'expected p/v', 'person', 'vehicle', 'kept detections', 'notes'], ...stillRows]));
console.log('\nStills by lighting (image level: recall over stills showing it, false alarms on stills without it)');
console.log(
  table([
    ['lighting', 'stills', 'person found', 'person false alarms', 'vehicle found', 'vehicle false alarms'],
    ...[...byLighting].map(([lighting, g]) => [
      lighting,
      g.items,
      `${g.person.tp}/${g.person.gt}`,
      g.person.fp,
      `${g.vehicle.tp}/${g.vehicle.gt}`,
      g.vehicle.fp,
    ]),
  ]),
);

const thermal = await thermalSection();

const detectMsMedian = detectMs.length > 0 ? percentile([...detectMs].sort((a, b) => a - b), 50) : null;
const mean = (values: number[]) => (values.length > 0 ? Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 10) / 10 : null);
console.log(
  `\nDetection per event: median ${fixed(detectMsMedian, 0)} ms; ` +
    `cascade ran on ${cascadeEventMs.length} of ${eventRows.length} events (${fixed(mean(cascadeEventMs), 0)} ms each on average) and ${cascadeStills} stills; ` +
    `the tiled pass on ${tiledEventMs.length} events (${fixed(mean(tiledEventMs), 0)} ms each on average) and ${tiledStills} stills`,
);

console.log(
  JSON.stringify({
    media: mediaDir,
    model,
    cascadeModel: cascade?.info.model ?? null,
    paletteToLuminance,
    tiling,
    sensitivity,
    labelled: {
      images: labelledImages,
      person: summaryOf(labelled.kept.person),
      vehicle: summaryOf(labelled.kept.vehicle),
      personTallerThan48px: summaryOf(labelled.keptPersonTall),
      personUpTo48px: summaryOf(labelled.keptPersonSmall),
      detector: { person: summaryOf(labelled.detector.person), vehicle: summaryOf(labelled.detector.vehicle) },
    },
    events: {
      count: eventRows.length,
      personAgreement: ratio(presence.person.agree, presence.person.known),
      vehicleAgreement: ratio(presence.vehicle.agree, presence.vehicle.known),
      crimeRates,
      detectMsMedian: Math.round(detectMsMedian ?? 0),
    },
    stills: Object.fromEntries(
      [...byLighting].map(([lighting, g]) => [
        lighting,
        { stills: g.items, person: { found: g.person.tp, of: g.person.gt, falseAlarms: g.person.fp }, vehicle: { found: g.vehicle.tp, of: g.vehicle.gt, falseAlarms: g.vehicle.fp } },
      ]),
    ),
    pseudoColourFrames,
    cascade: { events: cascadeEventMs.length, msPerEvent: mean(cascadeEventMs), stills: cascadeStills },
    tiled: { events: tiledEventMs.length, msPerEvent: mean(tiledEventMs), stills: tiledStills },
    thermalPass,
    thermal,
  }),
);

await close();
