import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import {
  jobWebhookPayload,
  classifyAddress,
  responseOutcome,
  retryAfterSeconds,
  signWebhookBody,
  webhookHeaders,
  webhookMessageId,
  webhookUrlProblem,
} from '../../domain/webhooks.js';
import { WebhookTargetRefusedError, assertWebhookTargetAllowed, publicAddressLookup } from '../../webhooks/target-guard.js';
import { createWebhookSender } from '../../webhooks/sender.js';

describe('signing', () => {
  test('HMAC-SHA256 of the raw body, hex, behind sha256= (RFC 4231-style known vector)', () => {
    assert.equal(
      signWebhookBody('The quick brown fox jumps over the lazy dog', 'key'),
      'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
    assert.equal(signWebhookBody(Buffer.from('{"a":1}'), 's3cret'), signWebhookBody('{"a":1}', 's3cret'));
    assert.notEqual(signWebhookBody('{"a":1}', 's3cret'), signWebhookBody('{"a":2}', 's3cret'));
  });

  test('headers: id, timestamp in Unix seconds, and a signature only with a secret', () => {
    const sentAt = new Date('2026-11-22T16:00:00.900Z');
    const signed = webhookHeaders({ webhookId: 'whk_1', sentAt, body: '{}', secret: 'k' });
    assert.deepEqual(signed, {
      'content-type': 'application/json',
      'x-webhook-id': 'whk_1',
      'x-webhook-timestamp': String(Date.parse('2026-11-22T16:00:00Z') / 1000),
      'x-webhook-signature': signWebhookBody('{}', 'k'),
    });
    const unsigned = webhookHeaders({ webhookId: 'whk_1', sentAt, body: '{}', secret: null });
    assert.equal('x-webhook-signature' in unsigned, false);
  });

  test('the message id is stable for a job outcome and differs between jobs and event types', () => {
    const id = webhookMessageId('raw_acme_g_s_z_0123456789ab', 'alarm.finished');
    assert.match(id, /^whk_[0-9a-f]{32}$/);
    assert.equal(webhookMessageId('raw_acme_g_s_z_0123456789ab', 'alarm.finished'), id);
    assert.notEqual(webhookMessageId('raw_acme_g_s_z_0123456789ab', 'alarm.failed'), id);
    assert.notEqual(webhookMessageId('raw_acme_g_s_z_ba9876543210', 'alarm.finished'), id);
  });
});

describe('payloads and answers', () => {
  test('finished carries data, failed carries the error', () => {
    assert.deepEqual(jobWebhookPayload('alarm', 'job1', { data: { job_id: 'job1' } }), { type: 'alarm.finished', job_id: 'job1', data: { job_id: 'job1' } });
    assert.deepEqual(jobWebhookPayload('alarm', 'job1', { error: { code: 'MAX_PROCESSING_TIME_EXCEEDED', message: 'late' } }), {
      type: 'alarm.failed',
      job_id: 'job1',
      error: { code: 'MAX_PROCESSING_TIME_EXCEEDED', message: 'late' },
    });
  });

  test('2xx delivers; 408, 429 and 5xx retry; other answers stop', () => {
    for (const status of [200, 201, 202, 204, 299]) assert.equal(responseOutcome(status), 'delivered', String(status));
    for (const status of [408, 429, 500, 502, 503, 504, 599]) assert.equal(responseOutcome(status), 'retry', String(status));
    for (const status of [301, 302, 400, 401, 403, 404, 409, 410, 413, 422]) assert.equal(responseOutcome(status), 'rejected', String(status));
  });

  test('Retry-After: delta-seconds or an HTTP date; past dates ask for no wait; anything else is ignored', () => {
    const now = new Date('2026-11-22T10:00:00Z');
    assert.equal(retryAfterSeconds('120', now), 120);
    assert.equal(retryAfterSeconds(' 0 ', now), 0);
    assert.equal(retryAfterSeconds('Sun, 22 Nov 2026 10:00:30 GMT', now), 30);
    assert.equal(retryAfterSeconds('Sun, 22 Nov 2026 09:00:00 GMT', now), 0);
    for (const value of [undefined, '', '-5', '1.5', 'soon']) assert.equal(retryAfterSeconds(value, now), undefined, String(value));
  });
});

describe('target rules', () => {
  test('URL shape: http or https, no credentials', () => {
    assert.equal(webhookUrlProblem('https://hooks.example.com/vigil?x=1'), null);
    assert.equal(webhookUrlProblem('http://203.0.113.7:8080/'), null);
    assert.match(webhookUrlProblem('ftp://example.com/')!, /http or https/);
    assert.match(webhookUrlProblem('example.com/hook')!, /absolute/);
    assert.match(webhookUrlProblem('https://user:pw@example.com/')!, /credentials/);
  });

  test('address classification', () => {
    const cases: [string, string][] = [
      ['8.8.8.8', 'public'],
      ['93.184.216.34', 'public'],
      ['2606:4700:4700::1111', 'public'],
      ['127.0.0.1', 'loopback'],
      ['127.8.9.10', 'loopback'],
      ['::1', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['192.168.1.20', 'private'],
      ['169.254.169.254', 'linkLocal'],
      ['fe80::1', 'linkLocal'],
      ['fd12:3456::1', 'uniqueLocal'],
      ['100.64.0.1', 'carrierGradeNat'],
      ['0.0.0.0', 'unspecified'],
      ['::', 'unspecified'],
      ['224.0.0.1', 'multicast'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:10.0.0.1', 'private'],
      ['::127.0.0.1', 'loopback'],
      ['4000::1', 'reserved'],
      ['64:ff9b::a00:1', 'rfc6052'],
      ['not-an-address', 'invalid'],
    ];
    for (const [address, expected] of cases) assert.equal(classifyAddress(address), expected, address);
  });

  test('private, loopback and link-local targets are refused unless allowed', async () => {
    for (const url of ['http://127.0.0.1:8080/hook', 'http://[::1]/', 'http://localhost/hook', 'http://169.254.169.254/latest/meta-data', 'http://10.0.0.8/', 'http://[::ffff:192.168.0.1]/', 'http://0x7f000001/']) {
      await assert.rejects(assertWebhookTargetAllowed(url, { allowPrivate: false }), WebhookTargetRefusedError, url);
      await assertWebhookTargetAllowed(url, { allowPrivate: true });
    }
    await assertWebhookTargetAllowed('https://8.8.8.8/hook', { allowPrivate: false });
  });

  test('the connect-time lookup refuses a host that resolves to a private address', async () => {
    const result = await new Promise<{ error: Error | null; addresses: string | LookupAddress[] }>((resolve) =>
      publicAddressLookup('localhost', { all: true }, (error, addresses) => resolve({ error, addresses })),
    );
    assert.ok(result.error instanceof WebhookTargetRefusedError, String(result.error));
    assert.match(result.error.message, /localhost resolves to a loopback address/);
  });
});

describe('sender', () => {
  const listen = async (handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; port: number; hits: () => number }> => {
    let hits = 0;
    const server = createServer((req, res) => {
      hits += 1;
      handler!(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, port: (server.address() as AddressInfo).port, hits: () => hits };
  };
  const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

  test('POSTs the body with the headers and reports the status and Retry-After', async () => {
    let seen: { method?: string; body: string; signature?: string | string[] } = { body: '' };
    const { server, port } = await listen((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen = { method: req.method, body, signature: req.headers['x-webhook-signature'] };
        res.writeHead(503, { 'retry-after': '7' }).end('busy');
      });
    });
    const sender = createWebhookSender({ allowPrivate: true, timeoutSeconds: 5 });
    try {
      const answer = await sender.post({ url: `http://127.0.0.1:${port}/hook`, body: '{"x":1}', headers: { 'x-webhook-signature': 'sha256=ab' } });
      assert.deepEqual(answer, { statusCode: 503, retryAfter: '7' });
      assert.deepEqual(seen, { method: 'POST', body: '{"x":1}', signature: 'sha256=ab' });
    } finally {
      await sender.close();
      await close(server);
    }
  });

  test('without allowPrivate, a host resolving to loopback is refused when connecting: the request never arrives', async () => {
    const { server, port, hits } = await listen((_req, res) => res.writeHead(200).end());
    const sender = createWebhookSender({ allowPrivate: false, timeoutSeconds: 5 });
    try {
      const failure = await sender.post({ url: `http://localhost:${port}/hook`, body: '{}', headers: {} }).then(
        () => assert.fail('the request should have been refused'),
        (error: unknown) => error,
      );
      const refusal = failure instanceof WebhookTargetRefusedError ? failure : (failure as Error).cause;
      assert.ok(refusal instanceof WebhookTargetRefusedError, String(failure));
      assert.equal(hits(), 0);
    } finally {
      await sender.close();
      await close(server);
    }
  });

  test('without allowPrivate, a loopback IP literal is refused before connecting (no lookup guards it): the request never arrives', async () => {
    const { server, port, hits } = await listen((_req, res) => res.writeHead(200).end());
    const sender = createWebhookSender({ allowPrivate: false, timeoutSeconds: 5 });
    try {
      await assert.rejects(
        sender.post({ url: `http://127.0.0.1:${port}/hook`, body: '{}', headers: {} }),
        (error: unknown) => error instanceof WebhookTargetRefusedError && /127\.0\.0\.1 is a loopback address/.test(error.message),
      );
      assert.equal(hits(), 0);
    } finally {
      await sender.close();
      await close(server);
    }
  });

  test('a receiver that does not answer in time is an error naming the timeout', async () => {
    const { server, port } = await listen(() => undefined);
    const sender = createWebhookSender({ allowPrivate: true, timeoutSeconds: 0.3 });
    try {
      await assert.rejects(sender.post({ url: `http://127.0.0.1:${port}/`, body: '{}', headers: {} }), /no answer within 0.3 s/);
    } finally {
      await sender.close();
      server.closeAllConnections();
      await close(server);
    }
  });
});
