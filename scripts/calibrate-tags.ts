/**
 * Fits the image-tag calibration (domain/image-tag-calibration.ts) on the labelled fixtures:
 *   npm run calibrate:tags [-- --fixtures ../shared/fixtures/media --models ../shared/models] [--write]
 * Each labelled picture (stills, event frames, text stills, one face picture per person, the COCO set) goes
 * through exactly what an image batch runs (gpu-worker/image-signals.ts); each tag family (person, vehicle,
 * animal) then gets a logistic regression over both models' logits and a Platt scaling of the detector alone,
 * fitted on the manifest's labels. Prints the reliability per probability bin (in sample and 5-fold
 * cross-validated) and, with --write, rewrites the constants file.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { familyEvidence, familyProbability, logit, sigmoid, tagFamilies, type TagFamily } from '../domain/image-tags.js';
import type { FamilyCalibration, Platt } from '../domain/image-tag-calibration.js';
import { createClassifier } from '../gpu-worker/classifier.js';
import { createDetector } from '../gpu-worker/detector.js';
import { imageSignals } from '../gpu-worker/image-signals.js';

const { values } = parseArgs({
  options: {
    fixtures: { type: 'string', default: '../shared/fixtures/media' },
    models: { type: 'string', default: '../shared/models' },
    write: { type: 'boolean', default: false },
  },
});
const fixtures = path.resolve(values.fixtures);

const manifestSchema = z.object({
  items: z.array(
    z.object({
      kind: z.string(),
      file: z.string(),
      person: z.union([z.boolean(), z.null()]).optional(),
      vehicle: z.union([z.boolean(), z.string(), z.null()]).optional(),
      nuisance: z.array(z.string()).default([]),
    }),
  ),
});
const cocoSchema = z.object({ images: z.array(z.object({ file: z.string(), objects: z.array(z.object({ class: z.string() })) })) });

/** A label per family: true, false, or unknown (left out of that family's fit). */
type Labels = Record<TagFamily, boolean | null>;
interface Sample {
  file: string;
  labels: Labels;
}

const cocoAnimals = new Set(['bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe']);
const cocoVehicles = new Set(['bicycle', 'car', 'motorcycle', 'bus', 'truck']);

async function samples(): Promise<Sample[]> {
  const manifest = manifestSchema.parse(JSON.parse(await readFile(path.join(fixtures, 'manifest.json'), 'utf8')));
  const out: Sample[] = [];
  const facePeople = new Set<string>();
  for (const item of manifest.items) {
    const labels: Labels = {
      person: item.person ?? null,
      vehicle: item.vehicle === undefined || item.vehicle === null ? null : item.vehicle !== false,
      animal: item.nuisance.some((n) => n.startsWith('animal')),
    };
    if (item.kind === 'still' || item.kind === 'text') out.push({ file: item.file, labels });
    if (item.kind === 'event') {
      for (const name of (await readdir(path.join(fixtures, item.file))).filter((n) => n.endsWith('.jpg')).sort()) {
        out.push({ file: path.join(item.file, name), labels });
      }
    }
    // One picture per person: dozens of near-identical portraits would outweigh everything else.
    if (item.kind === 'face' && !facePeople.has(path.dirname(item.file))) {
      facePeople.add(path.dirname(item.file));
      out.push({ file: item.file, labels });
    }
    if (item.kind === 'labelled_set') {
      const coco = cocoSchema.parse(JSON.parse(await readFile(path.join(fixtures, item.file, 'annotations.json'), 'utf8')));
      for (const image of coco.images) {
        const classes = new Set(image.objects.map((o) => o.class));
        out.push({
          file: path.join(item.file, image.file),
          labels: {
            person: classes.has('person'),
            vehicle: [...classes].some((c) => cocoVehicles.has(c)),
            animal: [...classes].some((c) => cocoAnimals.has(c)),
          },
        });
      }
    }
  }
  return out;
}

/** L2-regularised logistic regression by Newton's method; x rows without the bias column. */
function fitLogistic(x: number[][], y: number[], l2 = 0.01): number[] {
  const d = x[0]!.length + 1;
  const w = new Array<number>(d).fill(0);
  const rows = x.map((r) => [1, ...r]);
  for (let iteration = 0; iteration < 50; iteration++) {
    const gradient = new Array<number>(d).fill(0);
    const hessian = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    rows.forEach((row, i) => {
      const p = sigmoid(row.reduce((s, v, j) => s + v * w[j]!, 0));
      for (let j = 0; j < d; j++) {
        gradient[j]! += (p - y[i]!) * row[j]!;
        for (let k = 0; k < d; k++) hessian[j]![k]! += p * (1 - p) * row[j]! * row[k]!;
      }
    });
    for (let j = 1; j < d; j++) {
      gradient[j]! += l2 * w[j]!;
      hessian[j]![j]! += l2;
    }
    const step = solve(hessian, gradient);
    for (let j = 0; j < d; j++) w[j]! -= step[j]!;
    if (Math.max(...step.map(Math.abs)) < 1e-8) break;
  }
  return w;
}

/** Gaussian elimination with partial pivoting. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[pivot]![c]!)) pivot = r;
    [m[c], m[pivot]] = [m[pivot]!, m[c]!];
    const lead = m[c]![c]! || 1e-12;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / lead;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row, i) => row[n]! / (row[i]! || 1e-12));
}

const bins = [0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0001];

function reliability(predicted: number[], actual: number[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i < bins.length - 1; i++) {
    const inBin = predicted.map((p, j) => [p, actual[j]!] as const).filter(([p]) => p >= bins[i]! && p < bins[i + 1]!);
    if (inBin.length === 0) continue;
    const meanPredicted = inBin.reduce((s, [p]) => s + p, 0) / inBin.length;
    const observed = inBin.reduce((s, [, y]) => s + y, 0) / inBin.length;
    lines.push(`[${bins[i]!.toFixed(1)}, ${Math.min(1, bins[i + 1]!).toFixed(1)}) n=${inBin.length} predicted ${meanPredicted.toFixed(2)} observed ${observed.toFixed(2)}`);
  }
  return lines;
}

const logLoss = (predicted: number[], actual: number[]) =>
  -predicted.reduce((s, p, i) => s + (actual[i] ? Math.log(Math.max(p, 1e-6)) : Math.log(Math.max(1 - p, 1e-6))), 0) / predicted.length;

const round = (v: number) => Math.round(v * 10_000) / 10_000;

const detector = await createDetector({ modelsDir: path.resolve(values.models), model: 'yolox_nano_416_coco', device: { kind: 'cpu' }, intraOpThreads: 0 });
const classifier = await createClassifier({ modelsDir: path.resolve(values.models), device: { kind: 'cpu' }, intraOpThreads: 0 });
const all = await samples();
const evidence: ReturnType<typeof familyEvidence>[] = [];
for (const sample of all) {
  evidence.push(familyEvidence(await imageSignals(detector, classifier, await readFile(path.join(fixtures, sample.file)))));
}
await detector.release();
await classifier.release();
console.log(`${all.length} labelled pictures`);

const fitted = {} as Record<TagFamily, FamilyCalibration>;
const report: string[] = [];
for (const family of tagFamilies) {
  const rows = all.map((s, i) => ({ y: s.labels[family], e: evidence[i]![family] })).filter((r): r is { y: boolean; e: { detector: number; classifier: number } } => r.y !== null);
  const y = rows.map((r) => (r.y ? 1 : 0));
  const detectorX = rows.map((r) => [logit(r.e.detector)]);
  // ImageNet has no person class: the person tag is the detector's alone.
  const jointX = family === 'person' ? detectorX : rows.map((r) => [logit(r.e.detector), logit(r.e.classifier)]);
  const platt = (w: number[]): Platt => ({ a: round(w[1]!), b: round(w[0]!) });
  const joint = fitLogistic(jointX, y);
  const calibration: FamilyCalibration = {
    joint: [round(joint[0]!), round(joint[1]!), family === 'person' ? 0 : round(joint[2]!)],
    detector: platt(fitLogistic(detectorX, y)),
  };
  fitted[family] = calibration;

  const inSample = rows.map((r) => familyProbability(calibration, r.e));
  // 5-fold cross-validation: each picture predicted by a fit that did not see it.
  const crossValidated = new Array<number>(rows.length);
  for (let fold = 0; fold < 5; fold++) {
    const train = rows.map((_, i) => i).filter((i) => i % 5 !== fold);
    const w = fitLogistic(train.map((i) => jointX[i]!), train.map((i) => y[i]!));
    for (let i = fold; i < rows.length; i += 5) crossValidated[i] = sigmoid(w.reduce((s, v, j) => s + v * (j === 0 ? 1 : jointX[i]![j - 1]!), 0));
  }
  const raw = rows.map((r) => (family === 'person' ? r.e.detector : Math.max(r.e.detector, r.e.classifier)));
  report.push(
    `${family}: n=${rows.length} (positive ${y.filter(Boolean).length}); log loss raw ${logLoss(raw, y).toFixed(3)}, calibrated ${logLoss(inSample, y).toFixed(3)}, 5-fold ${logLoss(crossValidated, y).toFixed(3)}`,
    '  raw score (best of the two models):',
    ...reliability(raw, y).map((l) => `    ${l}`),
    '  calibrated (in sample):',
    ...reliability(inSample, y).map((l) => `    ${l}`),
    '  calibrated (5-fold cross-validated):',
    ...reliability(crossValidated, y).map((l) => `    ${l}`),
  );
}
console.log(report.join('\n'));
console.log(JSON.stringify(fitted));

if (values.write) {
  const target = new URL('../domain/image-tag-calibration.ts', import.meta.url);
  const source = await readFile(target, 'utf8');
  const previousHeader = source.indexOf('/**\n * Fitted by');
  const start = previousHeader >= 0 ? previousHeader : source.indexOf('export const tagCalibration');
  const body = tagFamilies
    .map((f) => {
      const c = fitted[f];
      return `  ${f}: { joint: [${c.joint.join(', ')}], detector: { a: ${c.detector.a}, b: ${c.detector.b} } },`;
    })
    .join('\n');
  const header = `/**\n * Fitted by scripts/calibrate-tags.ts on ${all.length} labelled fixture pictures (yolox_nano_416_coco + mobilenetv2_12_int8_imagenet):\n${report.map((l) => ` * ${l}`).join('\n')}\n */\n`;
  await writeFile(target, `${source.slice(0, start)}${header}export const tagCalibration: Record<'person' | 'vehicle' | 'animal', FamilyCalibration> = {\n${body}\n};\n`);
  console.log(`wrote ${target.pathname}`);
}
