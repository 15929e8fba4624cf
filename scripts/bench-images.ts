/**
 * Image-batch tagging speed in one run: ms per image of the whole tagging path an image batch runs on the
 * detection worker (decode to each model's size, the COCO detector over every class, the ImageNet classifier,
 * the light measure: gpu-worker/image-signals.ts, then the tags: domain/image-tags.ts), next to the bare
 * onnxruntime `session.run` of the same two models on fixed inputs, measured alongside.
 *
 *   npm run bench:images -- [--media ../shared/fixtures/media] [--models ../shared/models] [--rounds 3]
 *
 * The pictures: every fixture still (traffic CCTV 800–1920 px, camera traps up to 2048 px, photos) and the
 * first frame of every fixture event (320–768 px). Bare and full runs alternate picture by picture, so load from
 * elsewhere on the machine falls on both alike. Sessions and threads are the detection worker's configuration
 * (DETECTOR_MODEL, DETECTOR_SESSIONS, DETECTOR_THREADS). The last line is one JSON summary.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadConfig } from '../config/index.js';
import { imageTags } from '../domain/image-tags.js';
import { CLASSIFIER_MODEL, createClassifier } from '../gpu-worker/classifier.js';
import { createDetector, detectorModelSource } from '../gpu-worker/detector.js';
import { imageSignals } from '../gpu-worker/image-signals.js';
import { modelFilePath } from '../gpu-worker/model-files.js';
import { INPUT_SIZE } from '../gpu-worker/models/adapter.js';
import { openSession } from '../gpu-worker/session.js';
import { percentile } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    media: { type: 'string', default: '../shared/fixtures/media' },
    models: { type: 'string' },
    rounds: { type: 'string', default: '3' },
  },
});
const config = loadConfig();
const mediaDir = path.resolve(args.media);
const modelsDir = args.models ? path.resolve(args.models) : config.detector.modelsDir;
const rounds = Number(args.rounds);
const { model, device, intraOpThreads, sessions } = config.detector;

async function pictures(): Promise<{ name: string; bytes: Buffer }[]> {
  const found: { name: string; bytes: Buffer }[] = [];
  for (const folder of await readdir(path.join(mediaDir, 'stills'))) {
    for (const name of (await readdir(path.join(mediaDir, 'stills', folder))).sort()) {
      found.push({ name: `stills/${folder}/${name}`, bytes: await readFile(path.join(mediaDir, 'stills', folder, name)) });
    }
  }
  for (const event of (await readdir(path.join(mediaDir, 'events'))).sort()) {
    found.push({ name: `events/${event}/frame_00.jpg`, bytes: await readFile(path.join(mediaDir, 'events', event, 'frame_00.jpg')) });
  }
  return found;
}

const detector = await createDetector({ modelsDir, model, device, intraOpThreads, sessions });
const classifier = await createClassifier({ modelsDir, device, intraOpThreads });
// The bare baseline: one in-process session of each model, run on a fixed input, nothing else.
const bareDetector = (await openSession(await detectorModelSource(modelsDir, model), device, intraOpThreads, undefined)).session;
const bareClassifier = (await openSession(modelFilePath(modelsDir, CLASSIFIER_MODEL), device, intraOpThreads, undefined)).session;
const detectorInput = { [bareDetector.inputNames[0]!]: new ort.Tensor('float32', new Float32Array(3 * INPUT_SIZE * INPUT_SIZE).fill(0.5), [1, 3, INPUT_SIZE, INPUT_SIZE]) };
const classifierInput = { input: new ort.Tensor('float32', new Float32Array(3 * 224 * 224).fill(0.1), [1, 3, 224, 224]) };

const bareMs: number[] = [];
const fullMs: number[] = [];
const all = await pictures();
// One untimed pass: sessions warm, libvips caches filled.
for (const { bytes } of all.slice(0, 3)) imageTags(await imageSignals(detector, classifier, bytes), 0.3);

for (let round = 0; round < rounds; round++) {
  for (const { bytes } of all) {
    let started = performance.now();
    await bareDetector.run(detectorInput);
    await bareClassifier.run(classifierInput);
    bareMs.push(performance.now() - started);

    started = performance.now();
    imageTags(await imageSignals(detector, classifier, bytes), 0.3);
    fullMs.push(performance.now() - started);
  }
}

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return { p50: Math.round(percentile(sorted, 50) * 10) / 10, p95: Math.round(percentile(sorted, 95) * 10) / 10, mean: Math.round(mean * 10) / 10 };
};
const bare = stats(bareMs);
const full = stats(fullMs);
console.log(`${all.length} pictures x ${rounds} rounds; ${model} + ${CLASSIFIER_MODEL} on ${detector.info.device}, ${sessions} detector session(s), ${intraOpThreads} thread(s) each`);
console.log(`bare session.run (detector + classifier): p50 ${bare.p50} ms, p95 ${bare.p95} ms, mean ${bare.mean} ms per image`);
console.log(`tags (decode + both models + light + tags): p50 ${full.p50} ms, p95 ${full.p95} ms, mean ${full.mean} ms per image (${(full.p50 / bare.p50).toFixed(1)}x bare at p50)`);
console.log(JSON.stringify({ pictures: all.length, rounds, model, classifier: CLASSIFIER_MODEL, device: detector.info.device, sessions, intraOpThreads, bare, full }));

await detector.release();
await classifier.release();
await bareDetector.release();
await bareClassifier.release();
