import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Box } from '../../domain/types.js';
import { minCostAssignment } from '../../domain/video/assignment.js';
import { ObjectTracker, type TrackerDetection } from '../../domain/video/tracker.js';

const person = (x: number, y: number, score = 0.8, w = 40, h = 100): TrackerDetection => ({
  category: 'person',
  box: [x, y, x + w, y + h] as Box,
  score,
});

/** Runs the tracker over frames at 2 per second. */
function track(frames: TrackerDetection[][]) {
  const tracker = new ObjectTracker();
  frames.forEach((detections, i) => tracker.update(i / 2, detections));
  return tracker.finish();
}

describe('minCostAssignment', () => {
  it('finds the least total cost, not the greedy choice', () => {
    // Greedy would take 1 (row 0 → column 0) and then pay 10; the best total is 2 + 2.
    assert.deepEqual(minCostAssignment([[1, 2], [2, 10]]), [1, 0]);
  });

  it('leaves rows without a column when there are fewer columns, and handles empty matrices', () => {
    assert.deepEqual(minCostAssignment([[5], [1], [3]]), [-1, 0, -1]);
    assert.deepEqual(minCostAssignment([[4, 1, 3]]), [1]);
    assert.deepEqual(minCostAssignment([]), []);
    assert.deepEqual(minCostAssignment([[], []]), [-1, -1]);
  });
});

describe('ObjectTracker', () => {
  it('follows one person walking, fast enough that consecutive boxes barely overlap', () => {
    const scores = [0.5, 0.6, 0.7, 0.9, 0.8, 0.6, 0.7, 0.9];
    const tracks = track(scores.map((score, i) => [person(20 + i * 30, 50, score, 40 + i)]));
    assert.equal(tracks.length, 1);
    assert.deepEqual(
      { ...tracks[0]!, sightings: tracks[0]!.sightings.length },
      { trackId: 1, category: 'person', firstS: 0, lastS: 3.5, best: { timestampS: 3.5, box: [230, 50, 277, 150], score: 0.9 }, sightings: 8 },
    );
  });

  it('keeps a track through one or two missed frames, and ends it after more', () => {
    const walk = (i: number) => [person(20 + i * 20, 50)];
    const gaps = track([walk(0), walk(1), walk(2), [], [], walk(5), walk(6)]);
    assert.deepEqual(gaps.map((t) => [t.firstS, t.lastS]), [[0, 3]]);
    const tooLong = track([walk(0), walk(1), walk(2), [], [], [], walk(6), walk(7)]);
    assert.deepEqual(tooLong.map((t) => [t.firstS, t.lastS]), [[0, 1], [3, 3.5]]);
  });

  it('keeps two people apart when their paths cross', () => {
    // One walks right, the other left, on the same line: they overlap at the middle frame.
    const frames = Array.from({ length: 9 }, (_, i) => [person(40 + i * 30, 60, 0.9), person(280 - i * 30, 70, 0.6)]);
    const tracks = track(frames);
    assert.equal(tracks.length, 2);
    for (const t of tracks) {
      const xs = t.sightings.map((s) => s.box[0]);
      const direction = Math.sign(xs[1]! - xs[0]!);
      assert.ok(xs.every((x, i) => i === 0 || Math.sign(x - xs[i - 1]!) === direction), `track ${t.trackId} turned back: ${xs.join(', ')}`);
      assert.equal(t.sightings.length, 9);
    }
  });

  it('counts two people walking side by side as two', () => {
    const frames = Array.from({ length: 6 }, (_, i) => [person(50 + i * 15, 40), person(92 + i * 15, 42)]);
    const tracks = track(frames);
    assert.equal(tracks.length, 2);
    assert.deepEqual(tracks.map((t) => t.sightings.map((s) => s.box[0])), [
      [50, 65, 80, 95, 110, 125],
      [92, 107, 122, 137, 152, 167],
    ]);
  });

  it('makes no track of a one-frame detection, and never links different categories', () => {
    const car: TrackerDetection = { category: 'vehicle', box: [100, 60, 140, 160], score: 0.7 };
    const tracks = track([[person(100, 60)], [car], [person(100, 60)], [person(100, 60)]]);
    assert.deepEqual(tracks.map((t) => [t.category, t.sightings.length]), [['person', 3]]);
  });

  it('refuses frames out of time order', () => {
    const tracker = new ObjectTracker();
    tracker.update(1, []);
    assert.throws(() => tracker.update(1, []), /frames must come in time order/);
  });
});
