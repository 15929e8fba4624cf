import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { percentile, summarise } from '../../scripts/lib/stats.js';

describe('percentile (nearest rank)', () => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1);

  test('is the smallest value with p % at or below it', () => {
    assert.equal(percentile(sorted, 50), 50);
    assert.equal(percentile(sorted, 99), 99);
    assert.equal(percentile(sorted, 100), 100);
    assert.equal(percentile([7, 9, 20], 50), 9);
  });

  test('stays inside the values at the edges', () => {
    assert.equal(percentile([3], 99), 3);
    assert.equal(percentile([3, 4], 0), 3);
    assert.throws(() => percentile([], 50), RangeError);
  });
});

describe('summarise', () => {
  test('names each percentile, rounds, and adds the maximum; null without values', () => {
    assert.deepEqual(summarise([30.4, 10.2, 20.6], [50, 99]), { p50: 21, p99: 30, max: 30 });
    assert.equal(summarise([], [50]), null);
  });
});
