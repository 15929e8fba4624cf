import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Detection } from '../../domain/types.js';
import { fromTile, mergeTiled, tileRegions, tilingScale } from '../../gpu-worker/tiles.js';

const person = (box: Detection['box'], score = 0.8): Detection => ({ category: 'person', label: 'person', score, box });

describe('tiled pass', () => {
  test('four tiles of 60 % cover the frame, neighbours overlapping by a fifth of it', () => {
    const tiles = tileRegions(1000, 500);
    assert.deepEqual(tiles, [
      { left: 0, top: 0, width: 600, height: 300 },
      { left: 400, top: 0, width: 600, height: 300 },
      { left: 0, top: 200, width: 600, height: 300 },
      { left: 400, top: 200, width: 600, height: 300 },
    ]);
  });

  test('frames are shrunk only as far as a tile still fills the model input', () => {
    assert.equal(tilingScale(320, 240, 416), 1);
    assert.ok(Math.abs(tilingScale(1920, 1080, 416) * 1920 * 0.6 - 416) < 1e-9);
  });

  test("a tile's boxes come back in frame pixels; boxes cut by an inner tile edge are dropped, frame edges are fine", () => {
    // The bottom-right tile of a 1000 x 500 image cut from a copy half the frame's size.
    const region = { left: 400, top: 200, width: 600, height: 300 };
    const inside = person([10, 20, 30, 60]);
    const cutByLeftEdge = person([1, 20, 30, 60]);
    const cutByTopEdge = person([10, 0, 30, 60]);
    const atFrameEdges = person([570, 250, 600, 300]);
    const mapped = fromTile([inside, cutByLeftEdge, cutByTopEdge, atFrameEdges], region, { x: 2, y: 2 }, 1000, 500);
    assert.deepEqual(mapped.map((d) => d.box), [
      [820, 440, 860, 520],
      [1940, 900, 2000, 1000],
    ]);
  });

  test('a tile detection of an object the whole frame already has is one detection, the higher score kept', () => {
    const merged = mergeTiled([person([100, 100, 140, 200], 0.6)], [person([102, 98, 141, 203], 0.9), person([500, 100, 520, 140], 0.5)]);
    assert.deepEqual(merged.map((d) => [d.score, d.box[0]]), [[0.9, 102], [0.5, 500]]);
  });
});
