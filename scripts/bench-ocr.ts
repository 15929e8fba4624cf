/**
 * Text reading accuracy and speed on the labelled text fixtures, in one run.
 *
 *   npm run bench:ocr -- --media <fixtures/media/text> [--rounds 3] [--threads N]
 *
 * Accuracy: every line a person reads in each image (ground_truth.json) against the lines the reader
 * returns: the share read exactly (or as one of the line's accepted readings) and the character error
 * rate (edits to the closest read line over the expected characters).
 * Speed, per frame: the whole read (detection input, detection, boxes, crops, recognition of every
 * line, decoding) against a bare in-process `session.run` of the detection model on an input of the same
 * size, plus one of the recognition model on one 320 px line; bare and full alternate image by image,
 * so load elsewhere falls on both. The last line is one JSON summary.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { scoreLines, summariseScores, type ExpectedLine, type LineScore } from '../domain/text/accuracy.js';
import { createTextReader, detectionSize, ocrModelFiles } from '../gpu-worker/ocr.js';
import { decodeToRgb } from '../media/image.js';
import { summarise } from './lib/stats.js';

const { values: args } = parseArgs({ options: { media: { type: 'string' }, rounds: { type: 'string', default: '3' }, threads: { type: 'string', default: '0' } } });
if (!args.media) {
  console.error('usage: npm run bench:ocr -- --media <fixtures/media/text> [--rounds 3] [--threads N]');
  process.exit(2);
}
const mediaDir = path.resolve(args.media);
const rounds = Number(args.rounds);
const intraOpThreads = Number(args.threads);
const truth = JSON.parse(await readFile(path.join(mediaDir, 'ground_truth.json'), 'utf8')) as { images: { file: string; lines: ExpectedLine[] }[] };

const reader = await createTextReader({ device: { kind: 'cpu' }, intraOpThreads });
const sessionOptions = intraOpThreads > 0 ? { intraOpNumThreads: intraOpThreads } : {};
const bareDetection = await ort.InferenceSession.create(ocrModelFiles.detection, sessionOptions);
const bareRecognition = await ort.InferenceSession.create(ocrModelFiles.recognition, sessionOptions);

const fullMs: number[] = [];
const bareMs: number[] = [];
const scores: LineScore[] = [];
for (const image of truth.images) {
  const rgb = await decodeToRgb(await readFile(path.join(mediaDir, image.file)));
  const size = detectionSize(rgb.width, rgb.height);
  // The reader adds a 32 px margin on every side of the detection input.
  const detectionInput = new ort.Tensor('float32', new Float32Array(3 * (size.width + 64) * (size.height + 64)), [1, 3, size.height + 64, size.width + 64]);
  const lineInput = new ort.Tensor('float32', new Float32Array(3 * 48 * 320), [1, 3, 48, 320]);
  let lines: string[] = [];
  for (let round = 0; round < rounds; round++) {
    let started = performance.now();
    await bareDetection.run({ [bareDetection.inputNames[0]!]: detectionInput });
    await bareRecognition.run({ [bareRecognition.inputNames[0]!]: lineInput });
    bareMs.push(performance.now() - started);
    started = performance.now();
    const reading = await reader.read(rgb);
    fullMs.push(performance.now() - started);
    lines = reading.lines.map((line) => line.text);
  }
  const imageScores = scoreLines(image.lines, lines);
  scores.push(...imageScores);
  for (const score of imageScores) {
    console.log(`${score.exact ? 'exact' : `${score.edits} edits`.padEnd(5)}  ${image.file}  expected ${JSON.stringify(score.expected)}  read ${JSON.stringify(score.closest)}`);
  }
}
await reader.release();
const accuracy = summariseScores(scores);
const full = summarise(fullMs, [50, 95]);
const bare = summarise(bareMs, [50, 95]);
console.log(`lines read exactly: ${accuracy.exact}/${accuracy.lines} (${(accuracy.exactShare * 100).toFixed(1)} %), character error rate ${(accuracy.characterErrorRate * 100).toFixed(1)} %`);
console.log(`ms per frame: full read p50 ${full?.p50} p95 ${full?.p95}; bare session.run (detection + one line) p50 ${bare?.p50} p95 ${bare?.p95}`);
console.log(JSON.stringify({ accuracy, msPerFrame: { full, bare }, rounds, images: truth.images.length }));
