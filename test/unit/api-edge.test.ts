import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../api/errors.js';
import { clientErrorAnswer } from '../../api/server.js';
import { UploadMemory } from '../../api/upload-memory.js';

/** What the API's edge decides without a request. */

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return { status: error.status, code: error.code, field: error.details.field };
    throw error;
  }
  return undefined;
};

describe('failures that are the client\'s', () => {
  it('what Node refuses before a request reaches the app for being too slow is a 408 in the envelope', () => {
    assert.equal(clientErrorAnswer(Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' })).code, 'REQUEST_TIMEOUT');
  });
});

describe('the upload memory budget', () => {
  it('refuses 503 with Retry-After past the budget, 413 for a request larger than the whole budget, and takes a share back whole', () => {
    const held: number[] = [];
    const memory = new UploadMemory(100, { set: (bytes) => held.push(bytes) });
    const first = memory.share();
    const second = memory.share();
    first.take(60);
    assert.deepEqual(refusal(() => second.take(50)), { status: 503, code: 'SERVICE_UNAVAILABLE', field: undefined });
    second.take(40);
    first.release();
    assert.deepEqual(refusal(() => second.take(61)), { status: 413, code: 'PAYLOAD_TOO_LARGE', field: undefined });
    second.release();
    assert.deepEqual(held, [60, 100, 40, 0]);
  });
});
