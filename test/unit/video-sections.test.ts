/**
 * Sections and tracks of real clips, with the real detector (YOLOX-nano on the CPU) on frames sampled at
 * 2 per second, as the video pipeline samples them. Detection makes this file the slow one of the video
 * analysis tests (about a minute on two busy cores); the other video tests need no model.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDetector, type Detector } from '../../gpu-worker/detector.js';
import { ActivityMeter } from '../../domain/video/activity.js';
import { ContentCutDetector } from '../../domain/video/scene-cuts.js';
import { summariseVideo, type Section, type VideoSummary, type VideoSummaryInput } from '../../domain/video/summary.js';
import { fixturesDir, modelsDir } from '../support/paths.js';
import { decodeClip } from '../support/video-frames.js';

const clips = path.join(fixturesDir, 'clips');
const SAMPLE_FPS = 2;

interface Timeline {
  duration_s: number;
  person: { start_s: number; end_s: number }[];
  vehicle: { start_s: number; end_s: number }[];
  nothing_visible?: [number, number][];
}

let detector: Detector;

/** What the video pipeline computes for a clip, then its summary. */
async function analyse(clip: string, durationS: number): Promise<{ input: VideoSummaryInput; summary: VideoSummary }> {
  const file = path.join(clips, clip);
  const cuts = new ContentCutDetector();
  for (const frame of await decodeClip(file, { width: 96, pixelFormat: 'rgb24' })) cuts.push(frame);
  const meter = new ActivityMeter();
  const grey = await decodeClip(file, { width: 96, pixelFormat: 'gray', fps: SAMPLE_FPS });
  const activity = grey.map((frame) => ({ timestampS: frame.timestampS, value: meter.push(frame) }));
  const rgb = await decodeClip(file, { width: 640, pixelFormat: 'rgb24', fps: SAMPLE_FPS });
  const frames: VideoSummaryInput['frames'] = [];
  for (const [i, frame] of rgb.entries()) {
    const detections = await detector.detect({ width: frame.width, height: frame.height, data: Buffer.from(frame.data) });
    const luma = grey[i]!.data;
    frames.push({
      timestampS: frame.timestampS,
      width: frame.width,
      height: frame.height,
      meanLuma: luma.reduce((a, b) => a + b, 0) / luma.length,
      detections: detections.map(({ category, box, score }) => ({ category, box, score })),
    });
  }
  const input: VideoSummaryInput = { durationS, scenes: cuts.finish(durationS), activity, frames, criticalTags: [] };
  return { input, summary: summariseVideo(input) };
}

const timeline = async (name: string) => JSON.parse(await readFile(path.join(clips, `${name}.timeline.json`), 'utf8')) as Timeline;
const segmentsOf = (summary: VideoSummary, tag: string) =>
  summary.sections.filter((s) => s.section_tag === tag).flatMap((s) => s.time_segments.map((t) => [t.start_seconds, t.end_seconds] as const));
const overlap = (a: readonly [number, number], b: readonly [number, number]) => Math.max(0, Math.min(a[1], b[1]) - Math.max(a[0], b[0]));
const describeSections = (sections: Section[]) =>
  sections
    .map((s) => `${s.section_tag} ${s.time_segments.map((t) => `${t.start_seconds}-${t.end_seconds}`).join(',')} (thumb ${s.thumbnail_timestamp}, conf ${s.confidence}, act ${s.relative_activity}${s.is_critical ? ', critical' : ''})`)
    .join('\n');

/** Sampled times (as the timelines list them, every 0.5 s) inside [start, end]. */
const samplesIn = ([start, end]: readonly [number, number]) =>
  Array.from({ length: Math.round((end - start) * SAMPLE_FPS) + 1 }, (_, k) => start + k / SAMPLE_FPS);

/** True periods list sampled times [start_s, end_s]: at least half of those samples must lie in a section. */
function assertCovers(segments: (readonly [number, number])[], truth: { start_s: number; end_s: number }, what: string) {
  // Sections of different tags may overlap: count each covered sampled half second once.
  const halves = samplesIn([truth.start_s, truth.end_s]);
  const covered = halves.filter((t) => segments.some(([start, end]) => t >= start && t < end - 1e-6)).length / halves.length;
  console.log(`${what} ${truth.start_s}-${truth.end_s} s: ${(covered * 100).toFixed(0)} % covered`);
  assert.ok(covered >= 0.5, `${what} ${truth.start_s}-${truth.end_s} s covered ${(covered * 100).toFixed(0)} % by ${JSON.stringify(segments)}`);
}

function assertNoneDuring(segments: (readonly [number, number])[], periods: [number, number][], what: string) {
  for (const period of periods) {
    for (const t of samplesIn(period)) {
      const during = segments.find(([start, end]) => t >= start && t < end - 1e-6);
      assert.equal(during, undefined, `a ${what} section ${JSON.stringify(during)} covers ${t} s, when nothing is visible`);
    }
  }
}

describe('video sections and tracks on real clips with the detector', () => {
  before(async () => {
    detector = await createDetector({ modelsDir, model: 'yolox_nano_416_coco', device: { kind: 'cpu' }, intraOpThreads: 0 });
  });
  after(async () => detector.release());

  // Seen from straight above, cars are hard for a COCO detector: YOLOX-nano finds one of the four with
  // enough confidence. Each car's period must hold a vehicles or an activity section; vehicles sections are
  // measured and must never cover the empty lot.
  it('intel car clip: each car seen (vehicles or activity), nothing while the lot is empty, no people', async () => {
    const truth = await timeline('intel_car-detection');
    const { summary } = await analyse('intel_car-detection.mp4', truth.duration_s);
    console.log(describeSections(summary.sections));
    console.log(`vehicle tracks: ${summary.tracks.filter((t) => t.category === 'vehicle').map((t) => `${t.firstS}-${t.lastS}`).join(', ')}`);
    const vehicles = segmentsOf(summary, 'vehicles');
    for (const car of truth.vehicle) {
      assertCovers([...vehicles, ...segmentsOf(summary, 'activity')], car, 'vehicle (vehicles or activity sections)');
      const byVehicles = samplesIn([car.start_s, car.end_s]).filter((t) => vehicles.some(([start, end]) => t >= start && t < end - 1e-6));
      console.log(`  by vehicles sections alone: ${byVehicles.length} of ${samplesIn([car.start_s, car.end_s]).length} samples`);
    }
    assertNoneDuring(vehicles, truth.nothing_visible!, 'vehicles');
    assertNoneDuring(segmentsOf(summary, 'activity'), truth.nothing_visible!.map(([a, b]) => [a + 0.5, b] as [number, number]), 'activity');
    assert.deepEqual(segmentsOf(summary, 'people'), []);
    assert.ok(segmentsOf(summary, 'empty').length >= 3);
  });

  it('pets2009: people all along, and a plausible count of distinct people', async () => {
    const truth = await timeline('opencv_vtest_pets2009');
    const { summary } = await analyse('opencv_vtest_pets2009.avi', truth.duration_s);
    console.log(describeSections(summary.sections));
    const people = summary.tracks.filter((t) => t.category === 'person');
    const long = people.filter((t) => t.lastS - t.firstS >= 3);
    console.log(`person tracks: ${people.length} (${long.length} of 3 s or more); vehicle tracks: ${summary.tracks.filter((t) => t.category === 'vehicle').length}`);
    for (const period of truth.person) assertCovers(segmentsOf(summary, 'people'), period, 'people');
    assert.ok(people.length >= 10 && people.length <= 45, `${people.length} person tracks`);
    assert.deepEqual(segmentsOf(summary, 'empty'), []);
  });

  it('foliage: no people or vehicles, activity only once the hand covers the lens', async () => {
    const truth = await timeline('opencv_tree_foliage');
    const { summary } = await analyse('opencv_tree_foliage.avi', truth.duration_s);
    console.log(describeSections(summary.sections));
    assert.deepEqual(segmentsOf(summary, 'people'), []);
    assert.deepEqual(segmentsOf(summary, 'vehicles'), []);
    assert.ok(segmentsOf(summary, 'activity').every(([start]) => start >= 23), JSON.stringify(segmentsOf(summary, 'activity')));
  });

  it('multi-shot clip: sections follow the shots and never cross a cut', async () => {
    const truth = JSON.parse(await readFile(path.join(clips, 'multishot_cuts.json'), 'utf8')) as {
      cuts_s: number[];
      segments: { start_s: number; end_s: number; person: boolean; vehicle: boolean | string }[];
    };
    const { summary } = await analyse('multishot_cuts.mp4', 16);
    console.log(describeSections(summary.sections));
    for (const section of summary.sections) {
      for (const { start_seconds, end_seconds } of section.time_segments) {
        assert.ok(truth.cuts_s.every((cut) => cut <= start_seconds || cut >= end_seconds), `${section.section_tag} ${start_seconds}-${end_seconds} crosses a cut`);
      }
    }
    for (const shot of truth.segments) {
      const span = [shot.start_s, shot.end_s] as const;
      const people = segmentsOf(summary, 'people').some((s) => overlap(s, span) > 0);
      assert.equal(people, shot.person, `people in the shot ${shot.start_s}-${shot.end_s}`);
      if (shot.vehicle === false) assert.ok(!segmentsOf(summary, 'vehicles').some((s) => overlap(s, span) > 0), `vehicles in ${shot.start_s}-${shot.end_s}`);
    }
  });
});
