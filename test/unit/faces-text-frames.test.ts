import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Box } from '../../domain/types.js';
import { defaultFacesTextFrameOptions, facesTextFrames, type CandidateFrame } from '../../domain/video/faces-text-frames.js';

const STEP = 0.5;

/** `length` frames at 2 per second; `people(i)` gives the heights of the people frame i shows. */
function frames(length: number, people: (i: number) => number[] = () => []): CandidateFrame[] {
  return Array.from({ length }, (_, i) => ({
    timestampS: i * STEP,
    detections: [
      ...people(i).map((height, k) => ({ category: 'person' as const, box: [k * 100, 10, k * 100 + height / 2, 10 + height] as Box })),
      { category: 'vehicle' as const, box: [500, 100, 620, 300] as Box },
    ],
  }));
}

const times = (chosen: { timestampS: number }[]) => chosen.map((frame) => frame.timestampS);

describe('frames faces and text are looked for in', () => {
  it('reads text on each scene keyframe and every 10 s of a long scene, not on every frame', () => {
    const chosen = facesTextFrames(frames(60), [{ start_seconds: 0, end_seconds: 12 }, { start_seconds: 12, end_seconds: 30 }], []);
    assert.deepEqual(times(chosen.filter((f) => f.readText)), [0, 10, 12, 22]);
    assert.ok(chosen.every((frame) => frame.personBoxes.length === 0), 'no person, no faces');
  });

  it('reads text where activity starts, but not twice within 2 s', () => {
    const activity = Array.from({ length: 40 }, (_, i) => ({ timestampS: i * STEP, value: [2, 6, 7, 14, 15].includes(i) ? 0.3 : 0 }));
    const chosen = facesTextFrames(frames(40), [{ start_seconds: 0, end_seconds: 20 }], activity);
    // Onsets at 1 s (too close to the keyframe), 3 s and 7 s; 3.5 s continues activity; the interval counts from 7 s.
    assert.deepEqual(times(chosen.filter((f) => f.readText)), [0, 3, 7, 17]);
  });

  it('looks for faces in tall enough person boxes, the largest first, at most once a second', () => {
    const chosen = facesTextFrames(
      frames(8, (i) => (i === 0 ? [40] : [100, 300, 90])),
      [{ start_seconds: 0, end_seconds: 4 }],
      [],
      { ...defaultFacesTextFrameOptions, maxPeoplePerFrame: 2 },
    );
    const withFaces = chosen.filter((f) => f.personBoxes.length > 0);
    // Frame 0's person is too small; from 0.5 s on one frame a second.
    assert.deepEqual(times(withFaces), [0.5, 1.5, 2.5, 3.5]);
    assert.deepEqual(withFaces[0]!.personBoxes.map((box) => box[3] - box[1]), [300, 100]);
    assert.equal(chosen[0]!.timestampS, 0);
    assert.deepEqual(chosen[0]!.personBoxes, []);
    assert.ok(chosen[0]!.readText);
  });

  it('chooses in a chunk from the frames up to its end alone what it chooses from the whole video (each chunk reads only those)', () => {
    // Scenes starting mid-chunk and between two samples, onsets, and people coming and going across 10 s chunks.
    const scenes = [{ start_seconds: 0, end_seconds: 7.3 }, { start_seconds: 7.3, end_seconds: 21.2 }, { start_seconds: 21.2, end_seconds: 40 }];
    const activity = Array.from({ length: 80 }, (_, i) => ({ timestampS: i * STEP, value: i % 13 < 3 ? 0.3 : 0 }));
    const all = frames(80, (i) => (i % 7 < 4 ? [120] : []));
    const whole = facesTextFrames(all, scenes, activity);
    for (const endS of [10, 20, 30, 40]) {
      const upToChunkEnd = facesTextFrames(all.filter((frame) => frame.timestampS < endS), scenes, activity);
      assert.deepEqual(upToChunkEnd, whole.filter((frame) => frame.timestampS < endS), `through ${endS} s`);
    }
    assert.ok(whole.some((frame) => frame.readText && frame.timestampS > 20) && whole.some((frame) => frame.personBoxes.length > 0 && frame.timestampS > 30));
  });
});
