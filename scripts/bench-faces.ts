/**
 * Face recognition accuracy and speed on the labelled face fixtures, in one run.
 *
 *   npm run bench:faces -- --media <fixtures/media/faces> [--rounds 3] [--threads N]
 *
 * Each image (one face each, labels.json) goes through the analyser the detection worker runs (YuNet,
 * five-point alignment, HSE FaceRes: descriptor, age and gender in one network). Accuracy: every pair of faces,
 * same person or not, judged by descriptor distance: balanced accuracy at the allowlist threshold
 * (FACE_MATCH_THRESHOLD), across thresholds around it, and at the best threshold for this set; how well a
 * threshold chosen on the set carries over (chosen without one person, judged on that person's pairs, in
 * turn); rank-1 identification (leave one out, nearest face), and the share of all pairs judged right.
 * Speed: ms per face of the whole analysis (wall and process CPU time) against the bare model calls measured alongside (YuNet
 * session.run on the same input size, FaceRes on one chip).
 * The last line is one JSON summary.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.js';
import { FACE_MATCH_THRESHOLD } from '../domain/faces/allowlist-match.js';
import { bestThreshold, leaveOnePersonOutAccuracy, pairAccuracy, pairDistances, rankOneAccuracy, verificationAccuracy, type LabelledDescriptor } from '../domain/faces/verification.js';
import { openFaceModels } from '../gpu-worker/face-models.js';
import { createFaceAnalyser } from '../gpu-worker/faces.js';
import { CHIP_SIZE } from '../domain/faces/align.js';
import { decodeToRgb } from '../media/image.js';
import { summarise } from './lib/stats.js';

const { values: args } = parseArgs({ options: { media: { type: 'string' }, rounds: { type: 'string', default: '3' }, threads: { type: 'string', default: '0' } } });
if (!args.media) {
  console.error('usage: npm run bench:faces -- --media <fixtures/media/faces> [--rounds 3] [--threads N]');
  process.exit(2);
}
const mediaDir = path.resolve(args.media);
const rounds = Number(args.rounds);
const config = loadConfig();
const labels = JSON.parse(await readFile(path.join(mediaDir, 'labels.json'), 'utf8')) as { files: { file: string; identity: string }[] };

const analyser = await createFaceAnalyser({ modelsDir: config.detector.modelsDir, device: { kind: 'cpu' }, intraOpThreads: Number(args.threads) });
// The bare calls: the same network on its own thread, on a grey chip, without detection or alignment.
const bareModels = await openFaceModels({ device: { kind: 'cpu' }, intraOpThreads: Number(args.threads) });
const greyChip = new Uint8Array(CHIP_SIZE * CHIP_SIZE * 3).fill(128);

const faces: LabelledDescriptor[] = [];
const perFaceMs: number[] = [];
// Process CPU time per face as well: on a shared, loaded machine wall time mostly measures the wait for a core.
const perFaceCpuMs: number[] = [];
const bareCpuMs: number[] = [];
const cpuMsSince = (since: NodeJS.CpuUsage) => {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
};
const bareMs: number[] = [];
const stageMs = { detect: [] as number[], describe: [] as number[] };
let missed = 0;
for (const { file, identity } of labels.files) {
  const image = await decodeToRgb(await readFile(path.join(mediaDir, file)));
  for (let round = 0; round < rounds; round++) {
    let cpu = process.cpuUsage();
    const bare = await bareModels.describe(greyChip, CHIP_SIZE, 1);
    bareCpuMs.push(cpuMsSince(cpu));
    bareMs.push(bare.ms);
    cpu = process.cpuUsage();
    const started = performance.now();
    const { faces: found, timings } = await analyser.analyse(image);
    const elapsed = performance.now() - started;
    const cpuMs = cpuMsSince(cpu);
    if (found.length === 0) {
      if (round === 0) {
        missed++;
        console.log(`no face  ${file}`);
      }
      continue;
    }
    perFaceMs.push(elapsed / found.length);
    perFaceCpuMs.push(cpuMs / found.length);
    stageMs.detect.push(timings.detectMs);
    stageMs.describe.push(timings.describeMs / found.length);
    if (round === 0) {
      const best = found.reduce((a, b) => (b.score > a.score ? b : a));
      faces.push({ identity, descriptor: best.descriptor });
      console.log(`${found.length} face${found.length > 1 ? 's' : ' '} ${file}  age ${best.age} ${best.gender} score ${best.score}`);
    }
  }
}
await analyser.release();
await bareModels.release();

const pairs = pairDistances(faces);
const atThreshold = verificationAccuracy(pairs, FACE_MATCH_THRESHOLD);
const best = bestThreshold(pairs);
const rankOne = rankOneAccuracy(faces);
const sweep = Array.from({ length: 11 }, (_, i) => Math.round((FACE_MATCH_THRESHOLD - 0.1 + 0.02 * i) * 100) / 100).map((threshold) => ({ threshold, accuracy: verificationAccuracy(pairs, threshold) }));
const crossChecked = leaveOnePersonOutAccuracy(faces);
const summary = {
  images: labels.files.length,
  missed,
  pairs: { same: pairs.filter((p) => p.same).length, different: pairs.filter((p) => !p.same).length },
  verification: { threshold: FACE_MATCH_THRESHOLD, accuracy: atThreshold, allPairs: pairAccuracy(pairs, FACE_MATCH_THRESHOLD), best, sweep, leaveOnePersonOut: crossChecked },
  rankOne,
  msPerFace: { full: summarise(perFaceMs, [50, 95]), bareModel: summarise(bareMs, [50, 95]), fullCpu: summarise(perFaceCpuMs, [50, 95]), bareModelCpu: summarise(bareCpuMs, [50, 95]) },
  stagesMsP50: Object.fromEntries(Object.entries(stageMs).map(([stage, values]) => [stage, summarise(values, [50])?.p50])),
};
console.log(
  `verification at ${FACE_MATCH_THRESHOLD}: ${(atThreshold * 100).toFixed(1)} % balanced, ${(summary.verification.allPairs * 100).toFixed(1)} % of all pairs (best balanced ${(best.accuracy * 100).toFixed(1)} % at ${best.threshold.toFixed(3)}); rank-1 ${(rankOne * 100).toFixed(1)} %`,
);
console.log(`balanced accuracy by threshold: ${sweep.map(({ threshold, accuracy }) => `${threshold.toFixed(2)} ${(accuracy * 100).toFixed(1)}`).join(', ')}`);
console.log(
  `threshold chosen without one person, judged on their pairs: ${(crossChecked.accuracy * 100).toFixed(1)} % balanced (thresholds ${crossChecked.thresholds.map((t) => t.toFixed(3)).join(' ')})`,
);
console.log(`ms per face: full p50 ${summary.msPerFace.full?.p50} p95 ${summary.msPerFace.full?.p95}; bare FaceRes p50 ${summary.msPerFace.bareModel?.p50} p95 ${summary.msPerFace.bareModel?.p95}; CPU ms full p50 ${summary.msPerFace.fullCpu?.p50} p95 ${summary.msPerFace.fullCpu?.p95}, bare FaceRes p50 ${summary.msPerFace.bareModelCpu?.p50}`);
console.log(JSON.stringify(summary));
