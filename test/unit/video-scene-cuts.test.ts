import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { DecodedFrame } from '../../domain/video/frame.js';
import { ContentCutDetector } from '../../domain/video/scene-cuts.js';
import { fixturesDir } from '../support/paths.js';
import { decodeClip } from '../support/video-frames.js';

const clips = path.join(fixturesDir, 'clips');
const width = 32;
const height = 18;

/** A textured RGB frame tinted by `rgb`, at `fps` frames a second. */
function frame(index: number, rgb: [number, number, number], fps = 10): DecodedFrame {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const texture = (i * 7) % 23;
    for (let c = 0; c < 3; c++) data[i * 3 + c] = Math.min(255, rgb[c]! + texture);
  }
  return { index, timestampS: index / fps, width, height, data };
}

function detect(frames: DecodedFrame[], durationS: number, opts?: ConstructorParameters<typeof ContentCutDetector>[0]) {
  const detector = new ContentCutDetector(opts);
  for (const f of frames) detector.push(f);
  return { scenes: detector.finish(durationS), detector };
}

const red: [number, number, number] = [200, 30, 30];
const blue: [number, number, number] = [30, 40, 200];
const green: [number, number, number] = [40, 180, 60];

describe('ContentCutDetector on synthetic frames', () => {
  it('finds a hard cut at the first frame of the new shot', () => {
    const frames = Array.from({ length: 30 }, (_, i) => frame(i, i < 12 ? red : blue));
    assert.deepEqual(detect(frames, 3).scenes, [
      { start_seconds: 0, end_seconds: 1.2 },
      { start_seconds: 1.2, end_seconds: 3 },
    ]);
  });

  it('gives one shot for a video without a cut, and for one without frames', () => {
    assert.deepEqual(detect(Array.from({ length: 10 }, (_, i) => frame(i, green)), 1).scenes, [{ start_seconds: 0, end_seconds: 1 }]);
    assert.deepEqual(detect([], 2.5).scenes, [{ start_seconds: 0, end_seconds: 2.5 }]);
  });

  it('ignores a cut that would make a shot shorter than the minimum (a flash)', () => {
    // red, then 3 frames of blue (0.3 s), then red again: only the first change is a cut.
    const frames = Array.from({ length: 30 }, (_, i) => frame(i, i >= 10 && i < 13 ? blue : red));
    assert.deepEqual(
      detect(frames, 3).scenes.map((s) => s.start_seconds),
      [0, 1],
    );
    assert.deepEqual(
      detect(frames, 3, { minSceneS: 0.2 }).scenes.map((s) => s.start_seconds),
      [0, 1, 1.3],
    );
  });

  it('keeps gradual changes below the threshold', () => {
    const frames = Array.from({ length: 40 }, (_, i) => frame(i, [200 - i * 4, 30 + i * 2, 30 + i * 4]));
    assert.equal(detect(frames, 4).scenes.length, 1);
  });

  it('refuses frames of the wrong size', () => {
    const detector = new ContentCutDetector();
    assert.throws(() => detector.push({ ...frame(0, red), data: new Uint8Array(10) }), /needs 1728 bytes, got 10/);
    detector.push(frame(0, red));
    const bigger: DecodedFrame = { index: 1, timestampS: 0.1, width: 16, height: 9, data: new Uint8Array(16 * 9 * 3) };
    assert.throws(() => detector.push(bigger), /frame 1 is 16×9, the previous 32×18/);
  });
});

describe('ContentCutDetector on real footage', () => {
  it('finds every cut of the multi-shot clip within 0.5 s and invents none', async () => {
    const truth = JSON.parse(await readFile(path.join(clips, 'multishot_cuts.json'), 'utf8')) as {
      cuts_s: number[];
      video: { duration_s: number };
    };
    const { scenes, detector } = detect(
      await decodeClip(path.join(clips, 'multishot_cuts.mp4'), { width: 96, pixelFormat: 'rgb24' }),
      truth.video.duration_s,
    );
    const cuts = scenes.slice(1).map((scene) => scene.start_seconds);
    assert.equal(cuts.length, truth.cuts_s.length, `cuts found at ${cuts.join(', ')}`);
    truth.cuts_s.forEach((cut, i) => {
      const error = Math.abs(cuts[i]! - cut);
      console.log(`cut ${cut} s found at ${cuts[i]} s (error ${error.toFixed(3)} s)`);
      assert.ok(error <= 0.5, `cut ${cut} s found at ${cuts[i]} s`);
    });
    const inShot = detector.scores.filter((s) => !truth.cuts_s.some((cut) => Math.abs(cut - s.timestampS) < 0.05));
    console.log(`highest score inside a shot: ${Math.max(...inShot.map((s) => s.score)).toFixed(1)} (threshold 27)`);
  });

  for (const clip of [
    'opencv_vtest_pets2009.avi',
    'opencv_tree_foliage.avi',
    'intel_car-detection.mp4',
    'intel_worker-zone-detection_preview.gif',
  ]) {
    it(`invents no cut in the single-shot clip ${clip}`, async () => {
      const frames = await decodeClip(path.join(clips, clip), { width: 96, pixelFormat: 'rgb24' });
      const durationS = frames.at(-1)!.timestampS + 0.1;
      const { scenes, detector } = detect(frames, durationS);
      console.log(`${clip}: ${frames.length} frames, highest score ${Math.max(...detector.scores.map((s) => s.score)).toFixed(1)}`);
      assert.deepEqual(scenes, [{ start_seconds: 0, end_seconds: Math.round(durationS * 1000) / 1000 }]);
    });
  }
});
