import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { exportQuery } from '../../api/alarms/schema.js';
import { refuseControlCharacters } from '../../api/control-characters.js';
import { ApiError, toApiError } from '../../api/errors.js';
import { clientErrorAnswer } from '../../api/server.js';
import { UploadMemory } from '../../api/upload-memory.js';
import { parseInput } from '../../api/validate.js';

/** What the API's edge decides without a request: which characters, which numbers, which failures are the client's. */

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return { status: error.status, code: error.code, field: error.details.field };
    throw error;
  }
  return undefined;
};

describe('control characters', () => {
  it('are refused wherever a string sits, naming its path', () => {
    assert.deepEqual(refusal(() => refuseControlCharacters({ detections: [{ labels: ['ok', 'b\u0000d'] }] })), {
      status: 400,
      code: 'VALIDATION_ERROR',
      field: 'detections.0.labels.1',
    });
    assert.equal(refusal(() => refuseControlCharacters('a\u007fb', 'site_name'))?.field, 'site_name');
    assert.equal(refusal(() => refuseControlCharacters('a\u0085b', 'q'))?.field, 'q');
    assert.equal(refusal(() => refuseControlCharacters('\u001b[31m'))?.field, 'body');
  });

  it('leave tab, line feed and carriage return to free text, and everything printable alone', () => {
    assert.equal(refusal(() => refuseControlCharacters({ site_address: '123 Main St\r\nNew York\tNY', site_name: 'Café Zoë 東京 🚨' })), undefined);
  });
});

describe('media_type on the export', () => {
  it('is 0 or 1 written plainly, 0 when absent', () => {
    assert.equal(parseInput(exportQuery, {}).media_type, 0);
    assert.equal(parseInput(exportQuery, { media_type: '' }).media_type, 0);
    assert.equal(parseInput(exportQuery, { media_type: '0' }).media_type, 0);
    assert.equal(parseInput(exportQuery, { media_type: '1' }).media_type, 1);
  });

  for (const written of ['0x1', '1e0', ' 1', '1 ', '01', '1.0', '+1', '-0', '2', 'true']) {
    it(`refuses ${JSON.stringify(written)}`, () => {
      assert.deepEqual(refusal(() => parseInput(exportQuery, { media_type: written })), { status: 400, code: 'VALIDATION_ERROR', field: 'media_type' });
    });
  }
});

describe('failures that are the client\'s', () => {
  it('a value PostgreSQL refuses as data (SQLSTATE class 22) is a 400, any other database error is ours', () => {
    const databaseError = (code: string) => Object.assign(new pg.DatabaseError('refused', 0, 'error'), { code });
    for (const code of ['22021', '22P05', '22003']) assert.equal(toApiError(databaseError(code))?.status, 400, code);
    assert.equal(toApiError(databaseError('23505')), undefined);
    assert.equal(toApiError(databaseError('57014')), undefined);
  });

  it('what Node refuses before a request reaches the app: too slow, or a control character in a header, named', () => {
    assert.equal(clientErrorAnswer(Object.assign(new Error('timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' })).code, 'REQUEST_TIMEOUT');
    const packet = Buffer.from('POST /api/v1/alarms HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a\u0000b\r\n\r\n', 'latin1');
    const invalidHeader = Object.assign(new Error('Parse Error'), { code: 'HPE_INVALID_HEADER_TOKEN', rawPacket: packet, bytesParsed: packet.indexOf(0) });
    assert.deepEqual(
      { status: clientErrorAnswer(invalidHeader).status, field: clientErrorAnswer(invalidHeader).details.field },
      { status: 400, field: 'Idempotency-Key' },
    );
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
