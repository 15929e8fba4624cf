/**
 * Detection evaluation over a media folder laid out like the shared fixtures (manifest.json, events/,
 * stills/, labelled/<set>/annotations.json), through the code the workers run: the detection engine of
 * the detectFrames activity, then the analyseFrames and decide activities.
 *
 *   npm run eval -- --media <dir> [--model M] [--cascade M|none] [--palette-to-luminance true|false]
 *                   [--tiling true|false] [--sensitivity 0|1|2] [--site-category C] [--time "YYYY-MM-DD HH:MM"]
 *
 * Model, cascade, palette conversion and tiling default to the configuration (DETECTOR_*). Labelled images give
 * per-class recall and precision at IoU 0.5; events give has_person / has_vehicle / crime_rate against
 * the manifest's tags; stills (each a one-frame submission) give presence per lighting condition.
 * The last line is one JSON summary.
 */
import { readdir, readFile } from 'node:fs/promises';
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
import { createDetector, type Detector } from '../gpu-worker/detector.js';
import { createDetectionEngine, type EventDetections } from '../gpu-worker/engine.js';
import { createLogger } from '../logging/logger.js';
import { FileSystemMediaStore } from '../media/store.js';
import type { FrameRef } from '../workflows/contracts/alarm-verification.js';
import { percentile } from './lib/stats.js';

const usage =
  'usage: npm run eval -- --media <dir> [--model M] [--cascade M|none] [--palette-to-luminance true|false] ' +
  '[--tiling true|false] [--sensitivity 0|1|2] [--site-category C] [--time "YYYY-MM-DD HH:MM"]';

const { values: args } = parseArgs({
  options: {
    media: { type: 'string' },
    model: { type: 'string' },
    cascade: { type: 'string' },
    'palette-to-luminance': { type: 'string' },
    tiling: { type: 'string' },
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
  createDetector({
    modelsDir: config.detector.modelsDir,
    model: name,
    device: config.detector.device,
    intraOpThreads: config.detector.intraOpThreads,
    sessions: config.detector.sessions,
    paletteToLuminance,
  });
const detector = await openDetector(model);
const cascade = cascadeModel && cascadeModel !== model ? await openDetector(cascadeModel) : null;
const engine = createDetectionEngine({ detector, cascade, tiling });
// Without a camera id analyseFrames looks up no previous event, so these activities never query and the pool never connects.
const db = createDatabase(config.database.url, 1);
const alarm = createAlarmActivities({ db, media, logger: createLogger('warn', 'eval') });
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
async function submit(keys: string[]): Promise<Submission> {
  const jobId = `eval_${++submissions}`;
  const frames: FrameRef[] = keys.map((key, index) => ({ index, key }));
  const started = performance.now();
  const detection = await engine.detectEvent(frames.map((frame) => ({ index: frame.index, load: () => media.get(frame.key) })));
  const detectMs = performance.now() - started;
  const scope = { accountId: 'eval', jobId };
  const analysis = await runActivity(alarm.analyseFrames, { ...scope, siteCategory, frames, detections: detection.frames, sensitivity });
  const decision = await runActivity(alarm.decide, {
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

/** How detection adapted to the input: cascade, tiled pass, pseudo-colour frames (with their ms for events). */
function adaptations({ cascade, tiled, pseudoColourFrames }: EventDetections, withMs: boolean): string {
  const ms = (run: { ms: number }) => (withMs ? ` ${run.ms.toFixed(0)} ms` : '');
  return [
    cascade ? `cascade${ms(cascade)}${withMs ? ` on ${cascade.frames} frames` : ''}` : '',
    tiled ? `tiled${ms(tiled)}${withMs ? ` on ${tiled.tiles} tiles` : ''}` : '',
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

// --- run -----------------------------------------------------------------------------------------------

const manifest = JSON.parse(await readFile(path.join(mediaDir, 'manifest.json'), 'utf8')) as { items: ManifestItem[] };
console.log(`Vigil detection eval of ${mediaDir}`);
console.log(
  `model ${model}, cascade ${cascade?.info.model ?? 'none'}, palette-to-luminance ${paletteToLuminance ? 'on' : 'off'}, tiling ${tiling ? 'on' : 'off'}, ` +
    `sensitivity ${sensitivity}, ${siteCategory} site at ${vendorTime}\n`,
);

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
  }),
);

await db.destroy();
await detector.release();
await cascade?.release();
