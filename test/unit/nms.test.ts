import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { iou } from '../../domain/boxes.js';
import type { Box } from '../../domain/types.js';
import { decodePicodet } from '../../gpu-worker/models/picodet.js';
import { decodeYolox } from '../../gpu-worker/models/yolox.js';
import { nms, toDetections, type Candidate } from '../../gpu-worker/postprocess.js';

const COCO = { person: 0, bicycle: 1, car: 2, motorcycle: 3, airplane: 4, bus: 5, truck: 7, dog: 16, bat: 34, knife: 43 };

function candidate(classId: number, score: number, box: Box): Candidate {
  return { classId, score, box };
}

describe('iou', () => {
  it('is 1 for identical boxes, 0 for disjoint or touching ones', () => {
    assert.equal(iou([0, 0, 10, 10], [0, 0, 10, 10]), 1);
    assert.equal(iou([0, 0, 10, 10], [20, 20, 30, 30]), 0);
    assert.equal(iou([0, 0, 10, 10], [10, 0, 20, 10]), 0);
  });

  it('is intersection over union for partial overlaps', () => {
    // 5x10 overlap, union 150.
    assert.equal(iou([0, 0, 10, 10], [5, 0, 15, 10]), 50 / 150);
  });
});

describe('nms', () => {
  const byLabel = (item: { label: string }) => item.label;

  it('keeps the highest-scoring box of an overlapping cluster and separate boxes', () => {
    const kept = nms(
      [
        { label: 'a', score: 0.6, box: [1, 1, 11, 11] as Box },
        { label: 'a', score: 0.9, box: [0, 0, 10, 10] as Box },
        { label: 'a', score: 0.5, box: [50, 50, 60, 60] as Box },
      ],
      0.45,
      byLabel,
    );
    assert.deepEqual(
      kept.map((k) => k.score),
      [0.9, 0.5],
    );
  });

  it('keeps overlaps at or below the IoU threshold', () => {
    // IoU exactly 1/3.
    const kept = nms(
      [
        { label: 'a', score: 0.9, box: [0, 0, 10, 10] as Box },
        { label: 'a', score: 0.8, box: [5, 0, 15, 10] as Box },
      ],
      1 / 3,
      byLabel,
    );
    assert.equal(kept.length, 2);
  });

  it('never suppresses across groups', () => {
    const kept = nms(
      [
        { label: 'a', score: 0.9, box: [0, 0, 10, 10] as Box },
        { label: 'b', score: 0.8, box: [0, 0, 10, 10] as Box },
      ],
      0.45,
      byLabel,
    );
    assert.equal(kept.length, 2);
  });
});

describe('toDetections', () => {
  it('maps COCO classes to categories and drops every other class', () => {
    const detections = toDetections(
      [
        candidate(COCO.person, 0.9, [0, 0, 10, 20]),
        candidate(COCO.bicycle, 0.8, [100, 0, 110, 10]),
        candidate(COCO.motorcycle, 0.8, [200, 0, 210, 10]),
        candidate(COCO.bus, 0.8, [300, 0, 310, 10]),
        candidate(COCO.knife, 0.8, [400, 0, 410, 10]),
        candidate(COCO.bat, 0.7, [500, 0, 510, 10]),
        candidate(COCO.airplane, 0.95, [600, 0, 610, 10]),
        candidate(COCO.dog, 0.95, [700, 0, 710, 10]),
      ],
      0.25,
      1000,
      1000,
    );
    assert.deepEqual(
      detections.map((d) => [d.category, d.label]),
      [
        ['person', 'person'],
        ['vehicle', 'bicycle'],
        ['vehicle', 'motorcycle'],
        ['vehicle', 'bus'],
        ['weapon', 'knife'],
        ['weapon', 'baseball bat'],
      ],
    );
  });

  it('applies the base threshold to people and vehicles and 0.5 to weapons', () => {
    const detections = toDetections(
      [
        candidate(COCO.person, 0.3, [0, 0, 10, 10]),
        candidate(COCO.person, 0.29, [100, 0, 110, 10]),
        candidate(COCO.car, 0.3, [200, 0, 210, 10]),
        candidate(COCO.knife, 0.49, [300, 0, 310, 10]),
        candidate(COCO.bat, 0.45, [400, 0, 410, 10]),
        candidate(COCO.knife, 0.5, [500, 0, 510, 10]),
      ],
      0.3,
      1000,
      1000,
    );
    assert.deepEqual(
      detections.map((d) => [d.label, d.score]),
      [
        ['knife', 0.5],
        ['person', 0.3],
        ['car', 0.3],
      ],
    );
  });

  it('keeps one box per vehicle across vehicle classes, the highest-scoring one', () => {
    const detections = toDetections(
      [
        candidate(COCO.truck, 0.55, [101, 99, 201, 181]),
        candidate(COCO.car, 0.8, [100, 100, 200, 180]),
        candidate(COCO.bus, 0.4, [102, 101, 199, 182]),
        candidate(COCO.car, 0.7, [400, 100, 500, 180]),
      ],
      0.25,
      1000,
      1000,
    );
    assert.deepEqual(
      detections.map((d) => [d.label, d.score]),
      [
        ['car', 0.8],
        ['car', 0.7],
      ],
    );
  });

  it('does not let a vehicle suppress a person on it (cyclist)', () => {
    const detections = toDetections(
      [candidate(COCO.bicycle, 0.6, [10, 40, 60, 100]), candidate(COCO.person, 0.5, [12, 10, 58, 95])],
      0.25,
      100,
      100,
    );
    assert.deepEqual(
      detections.map((d) => d.label),
      ['bicycle', 'person'],
    );
  });

  it('suppresses duplicate people per class', () => {
    const detections = toDetections(
      [candidate(COCO.person, 0.8, [10, 10, 50, 100]), candidate(COCO.person, 0.6, [12, 12, 52, 98])],
      0.25,
      100,
      100,
    );
    assert.equal(detections.length, 1);
    assert.equal(detections[0]?.score, 0.8);
  });

  it('clips to the image, drops boxes left empty, and rounds boxes to 0.1 px and scores to 0.001', () => {
    const detections = toDetections(
      [
        candidate(COCO.person, 0.87654, [-5.04, 3.14159, 40.26, 120]),
        candidate(COCO.car, 0.9, [-30, 10, -2, 50]),
        candidate(COCO.car, 0.9, [60, 101, 90, 130]),
      ],
      0.25,
      100,
      100,
    );
    assert.deepEqual(detections, [{ category: 'person', label: 'person', score: 0.877, box: [0, 3.1, 40.3, 100] }]);
  });
});

describe('decodeYolox', () => {
  const ROW = 85;
  const output = new Float32Array(3549 * ROW);
  function setRow(index: number, values: { tx: number; ty: number; w: number; h: number; obj: number; classId: number; cls: number }) {
    const row = index * ROW;
    output.set([values.tx, values.ty, Math.log(values.w), Math.log(values.h), values.obj], row);
    output[row + 5 + values.classId] = values.cls;
  }
  const square = { scale: 0.5, inputWidth: 416, inputHeight: 416 };
  // Stride 8, cell (10, 5): centre (84, 44), 32x64 in letterbox pixels.
  setRow(5 * 52 + 10, { tx: 0.5, ty: 0.5, w: 4, h: 8, obj: 0.9, classId: COCO.person, cls: 0.8 });
  // Stride 16, cell (3, 2): centre (56, 40), 32x32.
  setRow(52 * 52 + 2 * 26 + 3, { tx: 0.5, ty: 0.5, w: 2, h: 2, obj: 0.8, classId: COCO.car, cls: 0.9 });
  // Stride 32: objectness too low, whatever the class score.
  setRow(52 * 52 + 26 * 26 + 7, { tx: 0, ty: 0, w: 1, h: 1, obj: 0.2, classId: COCO.car, cls: 1 });

  it('decodes grid offsets, exp sizes and obj x cls scores per stride, undoing the letterbox scale', () => {
    const candidates = decodeYolox(output, square, 0.25);
    assert.equal(candidates.length, 2);
    const [person, car] = candidates;
    assert.equal(person?.classId, COCO.person);
    assert.ok(Math.abs(person.score - 0.72) < 1e-6);
    assertBoxClose(person.box, [136, 24, 200, 152]);
    assert.equal(car?.classId, COCO.car);
    assert.ok(Math.abs(car.score - 0.72) < 1e-6);
    assertBoxClose(car.box, [80, 48, 144, 112]);
  });

  it('walks each stride grid of a rectangular input row by row', () => {
    // 416 x 256: grids of 52 x 32, 26 x 16 and 13 x 8 cells.
    const rectangular = new Float32Array((52 * 32 + 26 * 16 + 13 * 8) * ROW);
    const setCell = (index: number, classId: number) => {
      rectangular.set([0.5, 0.5, 0, 0, 0.9], index * ROW);
      rectangular[index * ROW + 5 + classId] = 0.9;
    };
    // Stride 16, cell (3, 2): after the 52 x 32 cells of stride 8; centre (56, 40).
    setCell(52 * 32 + 2 * 26 + 3, COCO.car);
    // Stride 32, cell (12, 7): the last cell; centre (400, 240).
    setCell(52 * 32 + 26 * 16 + 7 * 13 + 12, COCO.person);
    const candidates = decodeYolox(rectangular, { scale: 1, inputWidth: 416, inputHeight: 256 }, 0.25);
    assert.deepEqual(
      candidates.map((c) => [c.classId, c.box]),
      [
        [COCO.car, [48, 32, 64, 48]],
        [COCO.person, [384, 224, 416, 256]],
      ],
    );
  });

  it('takes the best class of an anchor only', () => {
    const row = (5 * 52 + 10) * ROW;
    const copy = output.slice();
    copy[row + 5 + COCO.dog] = 0.85;
    const candidates = decodeYolox(copy, square, 0.25);
    assert.deepEqual(
      candidates.map((c) => c.classId),
      [COCO.dog, COCO.car],
    );
  });
});

describe('decodePicodet', () => {
  const counts = [52 * 52, 26 * 26, 13 * 13, 7 * 7];
  const scores = counts.map((n) => new Float32Array(n * 80));
  const distributions = counts.map((n) => new Float32Array(n * 32));
  // Stride 8, cell (10, 5): centre (84, 44). Sides l, t, r, b peak at bins 2, 1, 3, 4.
  const anchor = 5 * 52 + 10;
  scores[0]![anchor * 80 + COCO.car] = 0.6;
  [2, 1, 3, 4].forEach((bin, side) => {
    distributions[0]![anchor * 32 + side * 8 + bin] = 30;
  });
  // Stride 64, cell (6, 6): centre (416, 416). Uniform logits give an expected distance of 3.5 bins.
  scores[3]![48 * 80 + COCO.person] = 0.7;
  // Below threshold.
  scores[1]![10 * 80 + COCO.person] = 0.2;

  it('decodes distribution expectations around cell-centre anchors and stretches back to the image', () => {
    const candidates = decodePicodet(scores, distributions, 2, 0.5, 0.25);
    assert.equal(candidates.length, 2);
    const [car, person] = candidates;
    assert.equal(car?.classId, COCO.car);
    assert.ok(Math.abs(car.score - 0.6) < 1e-6);
    assertBoxClose(car.box, [(84 - 16) * 2, (44 - 8) * 0.5, (84 + 24) * 2, (44 + 32) * 0.5]);
    assert.equal(person?.classId, COCO.person);
    assertBoxClose(person.box, [(416 - 224) * 2, (416 - 224) * 0.5, (416 + 224) * 2, (416 + 224) * 0.5]);
  });
});

function assertBoxClose(actual: Box, expected: Box): void {
  actual.forEach((value, i) => {
    assert.ok(Math.abs(value - expected[i]!) < 1e-3, `box ${JSON.stringify(actual)} != ${JSON.stringify(expected)}`);
  });
}
