import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frameActivityDiffs, hasMotion } from '../../domain/motion.js';
import type { GreyFrame } from '../../domain/motion.js';

const width = 64;
const height = 36;

/** A textured scene (so brightness shifts are not uniform edge cases) with an optional bright square. */
interface Scene {
  brightness?: number;
  square?: { x: number; y: number; size: number };
}

function frame({ brightness = 0, square }: Scene = {}): GreyFrame {
  const data = new Uint8Array(width * height);
  const inSquare = (x: number, y: number) =>
    square !== undefined && x >= square.x && x < square.x + square.size && y >= square.y && y < square.y + square.size;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const base = inSquare(x, y) ? 230 : 60 + ((x * 7 + y * 13) % 40);
      data[y * width + x] = Math.min(255, Math.max(0, base + brightness));
    }
  }
  return { width, height, data };
}

describe('frameActivityDiffs', () => {
  it('gives one value per consecutive pair', () => {
    assert.equal(frameActivityDiffs([frame(), frame(), frame(), frame()]).length, 3);
    assert.deepEqual(frameActivityDiffs([frame()]), []);
    assert.deepEqual(frameActivityDiffs([]), []);
  });

  it('is 0 for identical frames', () => {
    assert.deepEqual(frameActivityDiffs([frame(), frame()]), [0]);
  });

  it('measures the changed share of pixels, rounded to 4 decimals', () => {
    // A 6×6 square appears: 36 of 2304 pixels change by far more than the noise threshold.
    const [diff] = frameActivityDiffs([frame(), frame({ square: { x: 10, y: 10, size: 6 } })]);
    assert.equal(diff, Math.round((36 / (width * height)) * 10_000) / 10_000);
  });

  it('sees a moving object in both the place it left and the place it reached', () => {
    const diffs = frameActivityDiffs([
      frame({ square: { x: 0, y: 0, size: 8 } }),
      frame({ square: { x: 40, y: 20, size: 8 } }),
      frame({ square: { x: 40, y: 20, size: 8 } }),
    ]);
    assert.equal(diffs[0], Math.round((128 / (width * height)) * 10_000) / 10_000);
    assert.equal(diffs[1], 0);
  });

  it('ignores a global brightness change (auto-exposure)', () => {
    assert.deepEqual(frameActivityDiffs([frame(), frame({ brightness: 40 }), frame({ brightness: -30 })]), [0, 0]);
  });

  it('still sees an object appearing while the exposure changes', () => {
    const [diff] = frameActivityDiffs([frame(), frame({ brightness: 30, square: { x: 20, y: 10, size: 10 } })]);
    assert.ok(diff !== undefined && diff > 0.03, `expected > 0.03, got ${diff}`);
  });

  it('ignores per-pixel noise below the threshold and counts it above', () => {
    const noisy = frame();
    const noisyData = noisy.data.map((value, i) => (i % 2 === 0 ? value + 10 : value - 10));
    assert.deepEqual(frameActivityDiffs([frame(), { ...noisy, data: noisyData }]), [0]);
    assert.deepEqual(frameActivityDiffs([frame(), { ...noisy, data: noisyData }], 5), [1]);
  });

  it('rejects frames of different sizes or with the wrong byte count', () => {
    const smaller = { width: 32, height: 18, data: new Uint8Array(32 * 18) };
    assert.throws(() => frameActivityDiffs([frame(), smaller]), RangeError);
    assert.throws(() => frameActivityDiffs([frame(), { width, height, data: new Uint8Array(10) }]), RangeError);
  });
});

describe('hasMotion', () => {
  const cases: Array<[diffs: number[], threshold: number | undefined, expected: boolean]> = [
    [[], undefined, false],
    [[0, 0.002, 0.0099], undefined, false],
    [[0, 0.01], undefined, true],
    [[0.2], undefined, true],
    [[0.04], 0.05, false],
    [[0.05], 0.05, true],
  ];
  for (const [diffs, threshold, expected] of cases) {
    it(`${JSON.stringify(diffs)} at ${threshold ?? 'the default'} → ${expected}`, () =>
      assert.equal(hasMotion(diffs, threshold), expected));
  }
});
