import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ActivityMeter } from '../../domain/video/activity.js';
import type { DecodedFrame } from '../../domain/video/frame.js';
import { fixturesDir } from '../support/paths.js';
import { decodeClip } from '../support/video-frames.js';

const clips = path.join(fixturesDir, 'clips');
const width = 64;
const height = 36;

interface Look {
  brightness?: number;
  square?: { x: number; y: number; size: number };
  /** Added to each pixel: sensor noise or leaves. */
  jitter?: (i: number) => number;
}

function frame(index: number, { brightness = 0, square, jitter = () => 0 }: Look = {}): DecodedFrame {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inSquare = square && x >= square.x && x < square.x + square.size && y >= square.y && y < square.y + square.size;
      const base = inSquare ? 230 : 60 + ((x * 7 + y * 13) % 40);
      data[y * width + x] = Math.min(255, Math.max(0, base + brightness + jitter(y * width + x)));
    }
  }
  return { index, timestampS: index / 2, width, height, data };
}

/** A deterministic pseudo-random sequence, so the noise is the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const measure = (frames: DecodedFrame[]) => {
  const meter = new ActivityMeter();
  return frames.map((f) => meter.push(f));
};

describe('ActivityMeter on synthetic frames', () => {
  it('is 0 for the first frame and for a still picture', () => {
    assert.deepEqual(measure([frame(0), frame(1), frame(2)]), [0, 0, 0]);
  });

  it('measures the share of the picture a moving object changed', () => {
    const values = measure([0, 1, 2, 3].map((i) => frame(i, { square: { x: 4 + i * 12, y: 10, size: 8 } })));
    // The square leaves 64 pixels and covers 64 others: 128 of 2304 pixels.
    assert.deepEqual(values.slice(1), [0.0556, 0.0556, 0.0556]);
  });

  it('ignores a change of the whole picture’s brightness (auto-exposure)', () => {
    assert.deepEqual(measure([frame(0), frame(1, { brightness: 40 }), frame(2, { brightness: -30 })]), [0, 0, 0]);
  });

  it('ignores sensor noise', () => {
    const next = random(7);
    const values = measure([0, 1, 2, 3, 4].map((i) => frame(i, { jitter: () => Math.round((next() - 0.5) * 20) })));
    assert.ok(values.every((v) => v === 0), `${values.join(', ')}`);
  });

  it('learns a region that always moves (leaves) and still sees an object elsewhere', () => {
    const next = random(11);
    // The left third flickers strongly in every frame; a square crosses the right half at the end.
    const leaves = (i: number) => ((i % width) < 20 ? Math.round((next() - 0.5) * 120) : 0);
    const frames = Array.from({ length: 24 }, (_, i) => frame(i, { jitter: leaves, square: i >= 20 ? { x: 30 + (i - 20) * 10, y: 12, size: 8 } : undefined }));
    const values = measure(frames);
    const settled = values.slice(12, 20);
    console.log(`synthetic leaves: first ${fmt(values.slice(1, 6))}, settled ${fmt(settled)}, with an object ${fmt(values.slice(21))}`);
    assert.ok(Math.max(...settled) < 0.015, `leaves alone: ${fmt(settled)}`);
    assert.ok(values[1]! > Math.max(...settled), 'unlearned leaves count at first');
    assert.ok(Math.min(...values.slice(21)) > Math.max(...settled) + 0.025, `leaves and an object: ${fmt(values.slice(21))}`);
  });

  it('refuses frames of the wrong size', () => {
    const meter = new ActivityMeter();
    assert.throws(() => meter.push({ ...frame(0), data: new Uint8Array(5) }), /grey frame needs 2304 bytes, got 5/);
  });
});

interface Timeline {
  person: { start_s: number; end_s: number }[];
  nothing_visible?: [number, number][];
}

const timeline = async (clip: string) => JSON.parse(await readFile(path.join(clips, `${clip}.timeline.json`), 'utf8')) as Timeline;
const within = (t: number, [start, end]: [number, number]) => t >= start && t <= end;
const fmt = (values: number[]) => values.map((v) => v.toFixed(4)).join(', ');

describe('ActivityMeter on real footage at 2 frames a second', () => {
  const decode = (clip: string) => decodeClip(path.join(clips, clip), { width: 96, pixelFormat: 'gray', fps: 2 });
  /** The threshold the video summary uses for its "activity" sections. */
  const activityThreshold = 0.015;

  it('stays low for foliage in the wind, and rises when a hand covers the lens', async () => {
    const frames = await decode('opencv_tree_foliage.avi');
    const values = measure(frames);
    const leaves = values.filter((_, i) => frames[i]!.timestampS < 23);
    const hand = values.filter((_, i) => frames[i]!.timestampS >= 23.5);
    console.log(`foliage only: max ${Math.max(...leaves).toFixed(4)}, mean ${mean(leaves).toFixed(4)}; hand: mean ${mean(hand).toFixed(4)}`);
    assert.ok(Math.max(...leaves) < activityThreshold, fmt(leaves));
    assert.ok(mean(hand) > 5 * activityThreshold, fmt(hand));
  });

  it('is near 0 in an empty parking lot, auto-exposure included, and high while cars pass', async () => {
    const truth = await timeline('intel_car-detection');
    const frames = await decode('intel_car-detection.mp4');
    const values = measure(frames);
    // A sample's value is its change since the previous sample: both must lie in the empty period.
    const empty = values.filter((_, i) => i > 0 && truth.nothing_visible!.some((p) => within(frames[i - 1]!.timestampS, p) && within(frames[i]!.timestampS, p)));
    const cars = values.filter((_, i) => [[5, 8], [15, 18], [25.5, 27.5]].some((p) => within(frames[i]!.timestampS, p as [number, number])));
    console.log(`empty lot: max ${Math.max(...empty).toFixed(4)}; cars passing: mean ${mean(cars).toFixed(4)}, min ${Math.min(...cars).toFixed(4)}`);
    assert.ok(Math.max(...empty) < activityThreshold, fmt(empty));
    assert.ok(Math.min(...cars) > activityThreshold, fmt(cars));
  });

  it('is clearly above the foliage level while people walk', async () => {
    const foliage = measure(await decode('opencv_tree_foliage.avi')).slice(0, 46);
    const frames = await decode('opencv_vtest_pets2009.avi');
    const values = measure(frames).slice(1);
    const above = values.filter((v) => v > activityThreshold).length / values.length;
    console.log(`people walking (pets2009): mean ${mean(values).toFixed(4)}, median ${median(values).toFixed(4)}, ${(above * 100).toFixed(0)} % of samples above ${activityThreshold}`);
    assert.ok(median(values) > 3 * Math.max(...foliage), fmt(values));
    assert.ok(above > 0.8);
    const worker = measure(await decode('intel_worker-zone-detection_preview.gif')).slice(1, -1);
    console.log(`worker walking away (gif): ${fmt(worker)}`);
    assert.ok(median(worker) > activityThreshold, fmt(worker));
  });
});

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
