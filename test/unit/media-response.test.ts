import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { errorEnvelope } from '../../api/errors.js';
import { bufferMedia, resolveRange, sendMedia, storedMedia } from '../../api/media-response.js';
import { createLogger } from '../../logging/logger.js';
import { FileSystemMediaStore } from '../../media/store.js';

describe('resolveRange', () => {
  const size = 1000;

  it('serves the whole body without a usable Range header', () => {
    for (const header of [undefined, '', 'bytes', 'bytes=abc', 'items=0-5', 'bytes=0-9,20-29']) {
      assert.deepEqual(resolveRange(header, size), { kind: 'full' }, String(header));
    }
  });

  it('reads first-last, open-ended and suffix ranges', () => {
    assert.deepEqual(resolveRange('bytes=0-99', size), { kind: 'partial', range: { start: 0, end: 99 } });
    assert.deepEqual(resolveRange('bytes=900-', size), { kind: 'partial', range: { start: 900, end: 999 } });
    assert.deepEqual(resolveRange('bytes=-100', size), { kind: 'partial', range: { start: 900, end: 999 } });
    assert.deepEqual(resolveRange('bytes=990-5000', size), { kind: 'partial', range: { start: 990, end: 999 } });
  });

  it('merges overlapping ranges into one', () => {
    assert.deepEqual(resolveRange('bytes=0-9,5-19', size), { kind: 'partial', range: { start: 0, end: 19 } });
  });

  it('reports ranges that start past the end', () => {
    assert.deepEqual(resolveRange('bytes=1000-', size), { kind: 'unsatisfiable' });
    assert.deepEqual(resolveRange('bytes=0-0', 0), { kind: 'unsatisfiable' });
  });
});

describe('sendMedia over HTTP', () => {
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const etag = '"fixed"';
  let server: Server;
  let baseUrl: string;
  let mediaDir: string;

  before(async () => {
    mediaDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-media-response-'));
    const store = new FileSystemMediaStore(mediaDir);
    await store.put('clips/sample.bin', bytes);
    const app = new Koa();
    app.use(errorEnvelope(createLogger('silent', 'test')));
    app.use(async (ctx) => {
      const media =
        ctx.path === '/stored' ? await storedMedia(store, 'clips/sample.bin', 'application/octet-stream') : bufferMedia(bytes, 'image/jpeg', etag);
      sendMedia(ctx, media!, { cacheControl: 'private, max-age=3600' });
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(mediaDir, { recursive: true, force: true });
  });

  const get = async (pathname: string, headers: Record<string, string> = {}, method = 'GET') => {
    const response = await fetch(baseUrl + pathname, { headers, method });
    return { response, body: Buffer.from(await response.arrayBuffer()) };
  };

  for (const pathname of ['/buffer', '/stored']) {
    it(`${pathname}: 200 with the whole body, its length and range support`, async () => {
      const { response, body } = await get(pathname);
      assert.equal(response.status, 200);
      assert.deepEqual(body, bytes);
      assert.equal(response.headers.get('content-length'), '256');
      assert.equal(response.headers.get('accept-ranges'), 'bytes');
      assert.equal(response.headers.get('cache-control'), 'private, max-age=3600');
    });

    it(`${pathname}: 206 with Content-Range for one range`, async () => {
      const { response, body } = await get(pathname, { range: 'bytes=10-19' });
      assert.equal(response.status, 206);
      assert.deepEqual(body, bytes.subarray(10, 20));
      assert.equal(response.headers.get('content-range'), 'bytes 10-19/256');
      assert.equal(response.headers.get('content-length'), '10');
      const suffix = await get(pathname, { range: 'bytes=-6' });
      assert.deepEqual(suffix.body, bytes.subarray(250));
      assert.equal(suffix.response.headers.get('content-range'), 'bytes 250-255/256');
    });

    it(`${pathname}: 416 with the size for a range past the end`, async () => {
      const { response, body } = await get(pathname, { range: 'bytes=300-400' });
      assert.equal(response.status, 416);
      assert.equal(response.headers.get('content-range'), 'bytes */256');
      assert.equal(JSON.parse(body.toString()).error.code, 'RANGE_NOT_SATISFIABLE');
    });
  }

  // fetch() adds `Cache-Control: no-cache` to conditional requests, which rightly defeats revalidation.
  it('answers 304 to a matching If-None-Match', async () => {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      http.get(`${baseUrl}/buffer`, { headers: { 'if-none-match': etag } }, (response) => {
        response.resume();
        resolve(response.statusCode);
      }).on('error', reject);
    });
    assert.equal(status, 304);
  });

  it('ignores the range when If-Range no longer matches', async () => {
    const stale = await get('/buffer', { range: 'bytes=0-9', 'if-range': '"older"' });
    assert.equal(stale.response.status, 200);
    assert.equal(stale.body.length, 256);
    const current = await get('/buffer', { range: 'bytes=0-9', 'if-range': etag });
    assert.equal(current.response.status, 206);
  });

  it('sends the headers and no body to HEAD', async () => {
    const { response, body } = await get('/stored', { range: 'bytes=0-9' }, 'HEAD');
    assert.equal(response.status, 206);
    assert.equal(response.headers.get('content-length'), '10');
    assert.equal(body.length, 0);
  });
});
