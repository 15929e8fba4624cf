import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maxProcessingSecondsLimit, parseMaxProcessingTime } from '../../domain/processing-time.js';

test('an absent or blank Max-Processing-Time takes the default', () => {
  assert.equal(parseMaxProcessingTime(undefined, 120), 120);
  assert.equal(parseMaxProcessingTime('', 0), 0);
  assert.equal(parseMaxProcessingTime('   ', 45), 45);
});

test('whole seconds from 0 (no limit) to the limit are accepted', () => {
  assert.equal(parseMaxProcessingTime('0', 120), 0);
  assert.equal(parseMaxProcessingTime('2', 0), 2);
  assert.equal(parseMaxProcessingTime(' 30 ', 0), 30);
  assert.equal(parseMaxProcessingTime('007', 0), 7);
  assert.equal(parseMaxProcessingTime(String(maxProcessingSecondsLimit), 0), maxProcessingSecondsLimit);
});

test('anything else is refused', () => {
  for (const value of ['-1', '1.5', '2s', 'abc', '1e3', '0x10', '+5', '2, 3', String(maxProcessingSecondsLimit + 1), '99999999999']) {
    assert.equal(parseMaxProcessingTime(value, 0), null, value);
  }
});
