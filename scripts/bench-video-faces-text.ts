/**
 * What reading faces and text costs a video, per second of video, next to the rest of its analysis and to
 * the bare model calls, in one run on this machine:
 * - decode: the detection decode (2 frames a second, 640 px wide) and the faces/text decode with ffmpeg (1280 px
 *   wide: only the chosen frames scaled and piped, as the activity does, timed beside every sampled frame as before,
 *   each twice, alternating; the chosen frames' pixels checked equal both ways);
 * - detection: the detector over every sampled frame;
 * - faces and text: what the `analyseVideoFacesText` activity does on the frames
 *   `domain/video/faces-text-frames.ts` chooses (YuNet in person boxes, alignment, descriptors, age and
 *   gender, thumbnails; PP-OCR on keyframes, activity onsets and every 10 s), timed whole, beside the time
 *   inside the models' sessions alone (`bare`).
 * Clips: the people-and-text slideshow the integration test uses (12 s, 1280×720) and the first 30 s of
 * PETS 2009 (768×576, a crowd seen from high up: small people, few faces). Machine load is printed before
 * and after.
 *
 *   npm run bench:video-faces-text
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { measureVideoMotion } from '../activities/video.js';
import type { Box } from '../domain/types.js';
import { facesTextFrames } from '../domain/video/faces-text-frames.js';
import { createDetector } from '../gpu-worker/detector.js';
import { createFaceAnalyser } from '../gpu-worker/faces.js';
import { FACES_TEXT_DECODE_WIDTH } from '../gpu-worker/faces-text-activities.js';
import { createTextReader } from '../gpu-worker/ocr.js';
import { DETECT_DECODE_WIDTH } from '../gpu-worker/video-activities.js';
import { decodeFrames, type DecodedFrame } from '../media/video/frames.js';
import { probeVideo } from '../media/video/probe.js';
import { peopleAndTextShots, slideshowClip } from '../test/support/clips.js';
import { fixturesDir, modelsDir } from '../test/support/paths.js';

const SAMPLE_FPS = 2;
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
console.log(`load before: ${uptime()}`);

const tmp = await mkdtemp(path.join(os.tmpdir(), 'bench-faces-text-'));
const slideshow = path.join(tmp, 'people.mp4');
await slideshowClip(peopleAndTextShots(), slideshow);
const clips = [
  { name: 'people-and-text slideshow', file: slideshow, endS: Infinity },
  { name: 'PETS 2009, first 30 s', file: path.join(fixturesDir, 'clips', 'opencv_vtest_pets2009.avi'), endS: 30 },
];

const device = { kind: 'cpu' } as const;
const detector = await createDetector({ modelsDir, model: 'yolox_nano_416_coco', device, intraOpThreads: 1 });
const analyser = await createFaceAnalyser({ modelsDir, device, intraOpThreads: 1 });
const reader = await createTextReader({ device, intraOpThreads: 1 });

async function decodeAll(file: string, width: number, endS: number, only?: number[]): Promise<{ frames: DecodedFrame[]; ms: number }> {
  const started = performance.now();
  const frames: DecodedFrame[] = [];
  for await (const frame of decodeFrames(file, { fps: SAMPLE_FPS, width, pixelFormat: 'rgb24', ...(Number.isFinite(endS) ? { endS } : {}), ...(only ? { only } : {}) })) frames.push(frame);
  return { frames, ms: performance.now() - started };
}

const scale = ([x1, y1, x2, y2]: Box, sx: number, sy: number): Box => [x1 * sx, y1 * sy, x2 * sx, y2 * sy];

for (const clip of clips) {
  const probe = await probeVideo(clip.file);
  const seconds = Math.min(probe.durationS, clip.endS);
  const perSecond = (ms: number) => `${(ms / seconds).toFixed(0)} ms`;

  const small = await decodeAll(clip.file, Math.min(DETECT_DECODE_WIDTH, probe.width), clip.endS);
  let started = performance.now();
  const detected = [];
  for (const frame of small.frames) {
    const detections = await detector.detect({ width: frame.width, height: frame.height, data: Buffer.from(frame.data) });
    const sx = probe.width / frame.width;
    const sy = probe.height / frame.height;
    detected.push({ timestampS: frame.timestampS, detections: detections.map((d) => ({ ...d, box: scale(d.box, sx, sy) })) });
  }
  const detectMs = performance.now() - started;
  const motion = await measureVideoMotion(clip.file, { width: probe.width, durationS: seconds }, SAMPLE_FPS);
  const chosen = facesTextFrames(detected, motion.scenes, motion.activity);

  const largeWidth = Math.min(FACES_TEXT_DECODE_WIDTH, probe.width);
  const only = chosen.map((frame) => Math.round(frame.timestampS * SAMPLE_FPS));
  const everyMs: number[] = [];
  const onlyMs: number[] = [];
  let every: DecodedFrame[] = [];
  let large: DecodedFrame[] = [];
  for (let round = 0; round < 2; round++) {
    const all = await decodeAll(clip.file, largeWidth, clip.endS);
    const some = await decodeAll(clip.file, largeWidth, clip.endS, only);
    [every, large] = [all.frames, some.frames];
    everyMs.push(all.ms);
    onlyMs.push(some.ms);
  }
  const byTime = new Map(large.map((frame) => [Math.round(frame.timestampS * 1000), frame]));
  const everyByTime = new Map(every.map((frame) => [Math.round(frame.timestampS * 1000), frame]));
  const samePixels = large.length === chosen.length && large.every((frame) => everyByTime.get(Math.round(frame.timestampS * 1000))?.data.equals(frame.data));
  let faceMs = 0;
  let faceBareMs = 0;
  let faces = 0;
  let textMs = 0;
  let textBareMs = 0;
  let textFrames = 0;
  let lines = 0;
  for (const frame of chosen) {
    const image = byTime.get(Math.round(frame.timestampS * 1000));
    if (!image) continue;
    const sx = image.width / probe.width;
    const sy = image.height / probe.height;
    if (frame.personBoxes.length > 0) {
      started = performance.now();
      const found = await analyser.analyse(image, frame.personBoxes.map((box) => scale(box, sx, sy)));
      faceMs += performance.now() - started;
      faceBareMs += found.timings.detectMs + found.timings.describeMs;
      faces += found.faces.length;
    }
    if (frame.readText) {
      started = performance.now();
      const read = await reader.read(image);
      textMs += performance.now() - started;
      textBareMs += read.modelMs;
      textFrames += 1;
      lines += read.lines.length;
    }
  }
  const faceFrames = chosen.filter((frame) => frame.personBoxes.length > 0).length;
  console.log(`\n${clip.name}: ${seconds.toFixed(1)} s, ${probe.width}×${probe.height}, ${small.frames.length} sampled frames, ${motion.scenes.length} scenes`);
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  console.log(`  per video second: decode for detection ${perSecond(small.ms)}, detection ${perSecond(detectMs)}`);
  console.log(`  decode for faces/text, per video second (runs: ${[...everyMs, ...onlyMs].map((ms) => ms.toFixed(0)).join(', ')} ms): every sampled frame ${perSecond(mean(everyMs))}, the ${chosen.length} chosen frames only ${perSecond(mean(onlyMs))}; same pixels: ${samePixels}`);
  console.log(`  faces: ${faceFrames} frames, ${faces} faces: ${perSecond(faceMs)} per video second (bare models ${perSecond(faceBareMs)}), ${faces ? (faceMs / faces).toFixed(0) : '–'} ms per face`);
  console.log(`  text: ${textFrames} frames, ${lines} lines: ${perSecond(textMs)} per video second (bare models ${perSecond(textBareMs)}), ${textFrames ? (textMs / textFrames).toFixed(0) : '–'} ms per OCR frame (bare ${textFrames ? (textBareMs / textFrames).toFixed(0) : '–'})`);
  console.log(`  had every sampled frame been read: ${small.frames.length} OCR frames, about ${perSecond(textFrames ? (textMs / textFrames) * small.frames.length : 0)} per video second`);
}

console.log(`\nload after: ${uptime()}`);
await Promise.all([detector.release(), analyser.release(), reader.release()]);
await rm(tmp, { recursive: true, force: true });
