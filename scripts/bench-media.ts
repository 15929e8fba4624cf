/**
 * Speed of a video job's analysis, per fixture clip, in milliseconds per second of video, next to a bare
 * ffmpeg decode of the same frames in the same run. In process: no Temporal, no HTTP, no database, no media
 * store; the analysis calls the functions the video activities call.
 * - bare: `decodeFrames` over the frames the pipeline decodes (every frame at the native rate, 128 px wide,
 *   for motion; the frames sampled at VIDEO_SAMPLE_FPS, at most 640 px wide, chunk by chunk of VIDEO_CHUNK_S,
 *   for detection), each frame dropped as it arrives;
 * - Vigil: `probeVideo`, `measureVideoMotion` (shot cuts and activity), `detectVideoFrames` chunk by chunk
 *   through the detection engine the detect worker runs, `summariseVideo` and one thumbnail per section.
 * Bare and Vigil alternate clip by clip, in swapped order each round, so load elsewhere falls on both alike;
 * figures are medians over rounds. The detector's settings are the configuration's (DETECTOR_*, MODELS_DIR).
 *
 *   npm run bench:media -- [--rounds 3] [--clips name,name]
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { measureVideoMotion, MOTION_FRAME_WIDTH, THUMBNAIL_MAX_WIDTH } from '../activities/video.js';
import { loadConfig } from '../config/index.js';
import { summariseVideo } from '../domain/video/summary.js';
import { createDetector } from '../gpu-worker/detector.js';
import { createDetectionEngine, type DetectionEngine } from '../gpu-worker/engine.js';
import { DETECT_DECODE_WIDTH, detectVideoFrames } from '../gpu-worker/video-activities.js';
import { decodeFrames, extractJpeg } from '../media/video/frames.js';
import { probeVideo, type VideoProbe } from '../media/video/probe.js';
import { videoChunks } from '../workflows/contracts/video-analysis.js';
import { percentile } from './lib/stats.js';

const { values: args } = parseArgs({
  options: {
    media: { type: 'string', default: '../shared/fixtures/media' },
    rounds: { type: 'string', default: '3' },
    clips: { type: 'string' },
  },
});
const config = loadConfig();
const mediaDir = path.resolve(args.media);
const rounds = Number(args.rounds);
const { sampleFps, chunkSeconds, criticalTags } = config.video;

const manifest = JSON.parse(await readFile(path.join(mediaDir, 'manifest.json'), 'utf8')) as { items: { kind: string; file: string }[] };
const wanted = args.clips?.split(',');
const clips = manifest.items
  .filter((item) => item.kind === 'clip' && (!wanted || wanted.some((name) => item.file.includes(name))))
  .map((item) => path.join(mediaDir, item.file));
if (clips.length === 0) throw new Error(`no clip in ${mediaDir}/manifest.json matches ${args.clips}`);

const { model, device, intraOpThreads, sessions, paletteToLuminance } = config.detector;
const detector = await createDetector({ modelsDir: config.detector.modelsDir, model, device, intraOpThreads, sessions, paletteToLuminance });
// Video frames go to the primary model alone (`detectDecoded`): no cascade, no tiles.
const engine = createDetectionEngine({ detector, cascade: null });

let sink = 0;

/** The same frames the pipeline decodes, each dropped as it arrives. */
async function bareDecode(file: string, probe: VideoProbe): Promise<void> {
  for await (const frame of decodeFrames(file, { width: Math.min(MOTION_FRAME_WIDTH, probe.width), pixelFormat: 'rgb24' })) sink += frame.index;
  for (const chunk of videoChunks(probe.durationS, chunkSeconds)) {
    const range = { fps: sampleFps, startS: chunk.startS, endS: chunk.endS };
    for await (const frame of decodeFrames(file, { ...range, width: Math.min(DETECT_DECODE_WIDTH, probe.width), pixelFormat: 'rgb24' })) sink += frame.index;
  }
}

/** A video job's analysis, step by step as its workflow runs them. */
async function analyse(file: string, detection: DetectionEngine): Promise<{ frames: number; detections: number; sections: number }> {
  const probe = await probeVideo(file);
  const motion = await measureVideoMotion(file, probe, sampleFps);
  const frames = [];
  for (const chunk of videoChunks(probe.durationS, chunkSeconds)) frames.push(...(await detectVideoFrames(detection, file, probe, { ...chunk, sampleFps })));
  const summary = summariseVideo({ durationS: probe.durationS, scenes: motion.scenes, activity: motion.activity, frames, criticalTags });
  const lastFrameS = Math.max(0, probe.durationS - 1 / probe.fps);
  for (const section of summary.sections) sink += (await extractJpeg(file, Math.min(section.thumbnail_timestamp, lastFrameS), THUMBNAIL_MAX_WIDTH)).length;
  return { frames: frames.length, detections: frames.reduce((n, frame) => n + frame.detections.length, 0), sections: summary.sections.length };
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

const probes = await Promise.all(clips.map((clip) => probeVideo(clip)));
// Untimed warm-up: the model's first runs, the file cache.
await analyse(clips[0]!, engine);

const bare = clips.map(() => [] as number[]);
const vigil = clips.map(() => [] as number[]);
const counts: Awaited<ReturnType<typeof analyse>>[] = [];
for (let round = 0; round < rounds; round++) {
  for (const [i, clip] of clips.entries()) {
    const runBare = async () => bare[i]!.push(await timed(() => bareDecode(clip, probes[i]!)));
    const runVigil = async () => vigil[i]!.push(await timed(async () => (counts[i] = await analyse(clip, engine))));
    if (round % 2 === 0) {
      await runBare();
      await runVigil();
    } else {
      await runVigil();
      await runBare();
    }
  }
}
await detector.release();

const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);
const rows = clips.map((clip, i) => {
  const durationS = probes[i]!.durationS;
  const bareMs = median(bare[i]!);
  const vigilMs = median(vigil[i]!);
  return {
    clip: path.basename(clip),
    size: `${probes[i]!.width}×${probes[i]!.height} @ ${probes[i]!.fps.toFixed(1)} fps`,
    durationS,
    bareMs,
    vigilMs,
    barePerS: bareMs / durationS,
    vigilPerS: vigilMs / durationS,
    ratio: vigilMs / bareMs,
    realTime: (durationS * 1000) / vigilMs,
    ...counts[i]!,
  };
});
const total = { durationS: rows.reduce((n, r) => n + r.durationS, 0), bareMs: rows.reduce((n, r) => n + r.bareMs, 0), vigilMs: rows.reduce((n, r) => n + r.vigilMs, 0) };

console.log(`model ${model} (${sessions} sessions, ${intraOpThreads} threads each), sample ${sampleFps} fps, chunks of ${chunkSeconds} s; ${rounds} rounds, medians`);
console.log('| clip | video | duration s | sampled frames | detections | sections | ms bare | ms Vigil | bare ms/s of video | Vigil ms/s of video | Vigil / bare | x real time |');
console.log('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
for (const r of rows) {
  console.log(
    `| ${r.clip} | ${r.size} | ${r.durationS.toFixed(1)} | ${r.frames} | ${r.detections} | ${r.sections} | ${r.bareMs.toFixed(0)} | ${r.vigilMs.toFixed(0)} | ${r.barePerS.toFixed(1)} | ${r.vigilPerS.toFixed(1)} | ${r.ratio.toFixed(1)} | ${r.realTime.toFixed(1)} |`,
  );
}
console.log(
  `| all clips | | ${total.durationS.toFixed(1)} | | | | ${total.bareMs.toFixed(0)} | ${total.vigilMs.toFixed(0)} | ${(total.bareMs / total.durationS).toFixed(1)} | ${(total.vigilMs / total.durationS).toFixed(1)} | ${(total.vigilMs / total.bareMs).toFixed(1)} | ${((total.durationS * 1000) / total.vigilMs).toFixed(1)} |`,
);
// The checksum keeps every decoded frame and thumbnail in use.
console.log(JSON.stringify({ rows: rows.map(({ clip, durationS, bareMs, vigilMs }) => ({ clip, durationS, bareMs: Math.round(bareMs), vigilMs: Math.round(vigilMs) })), checksum: sink }));
