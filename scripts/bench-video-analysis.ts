/**
 * Speed of the pure video analysis, per frame, on the fixture clips, next to a bare baseline in the
 * same run:
 * - baseline: one plain pass summing every byte of the same frame buffers;
 * - cuts: `ContentCutDetector.push` on RGB frames 96 px wide at the native rate;
 * - activity: `ActivityMeter.push` on grey frames 96 px wide at 2 per second;
 * - tracker and summary: `ObjectTracker.update` and the whole `summariseVideo`, per sampled frame, on
 *   the detections YOLOX-nano made on the PETS 2009 clip at 2 frames per second (detected once, untimed).
 * Rounds alternate module by module so load elsewhere falls on all alike; figures are medians over rounds.
 *
 *   npm run bench:video-analysis -- [--rounds 5]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ActivityMeter } from '../domain/video/activity.js';
import type { DecodedFrame } from '../domain/video/frame.js';
import { ContentCutDetector } from '../domain/video/scene-cuts.js';
import { summariseVideo, type VideoSummaryInput } from '../domain/video/summary.js';
import { ObjectTracker } from '../domain/video/tracker.js';
import { createDetector } from '../gpu-worker/detector.js';
import { fixturesDir, modelsDir } from '../test/support/paths.js';
import { decodeClip } from '../test/support/video-frames.js';
import { percentile } from './lib/stats.js';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const rounds = Number(args.rounds);
const clips = ['multishot_cuts.mp4', 'opencv_vtest_pets2009.avi', 'opencv_tree_foliage.avi', 'intel_car-detection.mp4'].map((clip) =>
  path.join(fixturesDir, 'clips', clip),
);

const rgb: DecodedFrame[][] = [];
const grey: DecodedFrame[][] = [];
for (const clip of clips) {
  rgb.push(await decodeClip(clip, { width: 96, pixelFormat: 'rgb24' }));
  grey.push(await decodeClip(clip, { width: 96, pixelFormat: 'gray', fps: 2 }));
}

const pets = path.join(fixturesDir, 'clips', 'opencv_vtest_pets2009.avi');
const detector = await createDetector({ modelsDir, model: 'yolox_nano_416_coco', device: { kind: 'cpu' }, intraOpThreads: 0 });
const petsGrey = grey[1]!;
const frames: VideoSummaryInput['frames'] = [];
for (const [i, frame] of (await decodeClip(pets, { width: 640, pixelFormat: 'rgb24', fps: 2 })).entries()) {
  const detections = await detector.detect({ width: frame.width, height: frame.height, data: Buffer.from(frame.data) });
  frames.push({ timestampS: frame.timestampS, width: frame.width, height: frame.height, meanLuma: mean(petsGrey[i]!.data), detections });
}
await detector.release();
const activity = petsGrey.map((frame) => ({ timestampS: frame.timestampS, value: 0.02 }));
const summaryInput: VideoSummaryInput = { durationS: 79.5, scenes: [{ start_seconds: 0, end_seconds: 79.5 }], activity, frames, criticalTags: [] };

let sink = 0;
/** ms per frame of one pass of `work` over every clip's frames. */
function timed(sets: DecodedFrame[][], work: (frames: DecodedFrame[]) => void): number {
  const started = performance.now();
  for (const set of sets) work(set);
  return (performance.now() - started) / sets.reduce((n, set) => n + set.length, 0);
}
const plainPass = (frames: DecodedFrame[]) => {
  for (const frame of frames) {
    let sum = 0;
    for (let i = 0; i < frame.data.length; i++) sum += frame.data[i]!;
    sink += sum;
  }
};

const figures: Record<string, number[]> = {
  'baseline, RGB frames (plain pass)': [],
  'cuts (ContentCutDetector)': [],
  'baseline, grey frames (plain pass)': [],
  'activity (ActivityMeter)': [],
  'tracker (ObjectTracker), per sampled frame': [],
  'summary (summariseVideo, tracker included), per sampled frame': [],
};
for (let round = 0; round < rounds; round++) {
  figures['baseline, RGB frames (plain pass)']!.push(timed(rgb, plainPass));
  figures['cuts (ContentCutDetector)']!.push(
    timed(rgb, (set) => {
      const detector = new ContentCutDetector();
      for (const frame of set) detector.push(frame);
    }),
  );
  figures['baseline, grey frames (plain pass)']!.push(timed(grey, plainPass));
  figures['activity (ActivityMeter)']!.push(
    timed(grey, (set) => {
      const meter = new ActivityMeter();
      for (const frame of set) sink += meter.push(frame);
    }),
  );
  let started = performance.now();
  const tracker = new ObjectTracker();
  for (const frame of frames) tracker.update(frame.timestampS, frame.detections);
  sink += tracker.finish().length;
  figures['tracker (ObjectTracker), per sampled frame']!.push((performance.now() - started) / frames.length);
  started = performance.now();
  sink += summariseVideo(summaryInput).sections.length;
  figures['summary (summariseVideo, tracker included), per sampled frame']!.push((performance.now() - started) / frames.length);
}

const rgbCount = rgb.reduce((n, set) => n + set.length, 0);
const greyCount = grey.reduce((n, set) => n + set.length, 0);
console.log(`${rgbCount} RGB frames of ${rgb.map((set) => `${set[0]!.width}×${set[0]!.height}`).join(', ')}; ${greyCount} grey frames; ${frames.length} sampled frames with ${frames.reduce((n, f) => n + f.detections.length, 0)} detections; ${rounds} rounds`);
for (const [name, values] of Object.entries(figures)) {
  const sorted = [...values].sort((a, b) => a - b);
  console.log(`${name}: ${percentile(sorted, 50).toFixed(3)} ms/frame (min ${sorted[0]!.toFixed(3)})`);
}
// The checksum keeps every timed result in use.
const medians = Object.fromEntries(Object.entries(figures).map(([name, values]) => [name, percentile([...values].sort((a, b) => a - b), 50)]));
console.log(JSON.stringify({ msPerFrame: medians, checksum: sink }));

function mean(data: Uint8Array): number {
  let sum = 0;
  for (const value of data) sum += value;
  return sum / data.length;
}
