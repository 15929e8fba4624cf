import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { defaultFields } from '../support/alarms.js';
import { bodyLength, sendRaw, type BodySegment, type RawExchange, type RawRequest, type RawResponse } from '../support/raw-http.js';
import { startStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/** What a hostile or careless client sends to the API's edge: slow, oversized, unauthenticated, abandoned. */

const MiB = 1024 * 1024;
const headersTimeoutSeconds = 2;
const requestTimeoutSeconds = 4;
const uploadMemoryBytes = 32 * MiB;
/** The answers to slow requests come within their timeout, plus Node's check interval and some slack for a busy machine. */
const answerSlackMs = 3000;

const fileChunk = new Uint8Array(64 * 1024).fill(0xff);

/** A multipart form whose files are `fileChunk` repeated, so a large body is never held whole by the test. */
function multipartForm(fields: Record<string, string | undefined>, files: { count: number; bytes: number }) {
  const boundary = 'vigil-edge-test-boundary';
  const text = (value: string) => new TextEncoder().encode(value);
  const body: BodySegment[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) body.push(text(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  for (let index = 0; index < files.count; index++) {
    body.push(text(`--${boundary}\r\nContent-Disposition: form-data; name="images"; filename="frame_${index}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`));
    body.push({ repeat: fileChunk, times: files.bytes / fileChunk.length }, text('\r\n'));
  }
  body.push(text(`--${boundary}--\r\n`));
  return { contentType: `multipart/form-data; boundary=${boundary}`, body };
}

/** The exchange's answer, or a failure naming the deadline when none came by then. */
async function answerWithin(exchange: RawExchange, ms: number): Promise<RawResponse> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms (${exchange.bytesSent()} body bytes sent)`)), ms);
  });
  try {
    return await Promise.race([exchange.response, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** How far this process's memory rose above where it was while `work` ran, sampled every 10 ms. */
async function peakGrowthDuring<T>(work: () => Promise<T>) {
  const start = process.memoryUsage();
  const peak = { arrayBuffers: 0, rss: 0 };
  const sample = () => {
    const now = process.memoryUsage();
    peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers - start.arrayBuffers);
    peak.rss = Math.max(peak.rss, now.rss - start.rss);
  };
  const sampler = setInterval(sample, 10);
  try {
    return { outcome: await work().then((value) => ({ value }), (error: unknown) => ({ error })), peak };
  } finally {
    clearInterval(sampler);
    sample();
  }
}

const mib = (bytes: number) => (bytes / MiB).toFixed(1);

describe('the API edge', () => {
  let stack: TestStack;
  let token: string;
  /** Every request sent, hung up at the end so that none keeps the server from closing. */
  const exchanges: RawExchange[] = [];
  const send = (request: RawRequest) => {
    const exchange = sendRaw(stack.baseUrl, request);
    exchanges.push(exchange);
    return exchange;
  };

  before(async () => {
    stack = await startStack({
      detectionWorker: false,
      captureLogs: true,
      env: {
        API_HEADERS_TIMEOUT_S: String(headersTimeoutSeconds),
        API_REQUEST_TIMEOUT_S: String(requestTimeoutSeconds),
        API_UPLOAD_MEMORY_BYTES: String(uploadMemoryBytes),
      },
    });
    token = await stack.createToken('edge');
  });
  after(async () => {
    for (const exchange of exchanges) exchange.abort();
    await stack?.stop();
  });

  const uploadBytesHeld = async () => (await stack.metrics.api.uploadBytesHeld.get()).values[0]?.value ?? 0;
  const upload = (form: ReturnType<typeof multipartForm>, options: Partial<RawRequest> = {}) =>
    send({ method: 'POST', path: '/api/v1/alarms', ...options, headers: { 'Content-Type': form.contentType, ...options.headers }, body: form.body });
  const bearer = () => ({ Authorization: `Bearer ${token}` });

  test('an upload without a token is refused at its first image: its files are not read, memory stays bounded', async (t) => {
    const form = multipartForm(defaultFields(), { count: 8, bytes: 12 * MiB });
    const exchange = upload(form, { holdBack: 1024 });
    const { outcome, peak } = await peakGrowthDuring(() => answerWithin(exchange, requestTimeoutSeconds * 1000 + answerSlackMs));
    t.diagnostic(
      `body of ${mib(bodyLength(form.body))} MiB, ${mib(exchange.bytesSent())} MiB of it sent; ` +
        `peak growth: arrayBuffers ${mib(peak.arrayBuffers)} MiB, rss ${mib(peak.rss)} MiB`,
    );
    if ('error' in outcome) throw outcome.error;
    assert.equal(outcome.value.status, 401);
    assert.equal(outcome.value.body?.error?.code, 'UNAUTHENTICATED');
    // The old reader buffered every file (96 MiB) before it looked for a token.
    assert.ok(peak.arrayBuffers < 16 * MiB, `arrayBuffers grew ${mib(peak.arrayBuffers)} MiB`);
  });

  test('uploads past the memory budget get 503 with Retry-After; a stalled upload gets 408 and gives its share back', async () => {
    const stalled = upload(multipartForm(defaultFields(), { count: 3, bytes: 10 * MiB }), { headers: bearer(), holdBack: 1024 });
    await waitFor('the stalled upload to hold its files', async () => (await uploadBytesHeld()) >= 30 * MiB - fileChunk.length, 15_000, 20);

    const refused = await answerWithin(upload(multipartForm(defaultFields(), { count: 2, bytes: 10 * MiB }), { headers: bearer() }), 10_000);
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.body?.error?.code, 'SERVICE_UNAVAILABLE');
    assert.ok(Number(refused.headers['retry-after']) > 0, `Retry-After ${refused.headers['retry-after']}`);

    const timedOut = await answerWithin(stalled, requestTimeoutSeconds * 1000 + answerSlackMs);
    assert.equal(timedOut.status, 408, JSON.stringify(timedOut.body));
    assert.equal(timedOut.body?.error?.code, 'REQUEST_TIMEOUT');
    await waitFor('the upload budget to be given back', async () => (await uploadBytesHeld()) === 0, 10_000, 20);
  });

  test('a body longer than an alarm can be is refused 413 before it is read', async () => {
    const tooLong = multipartForm(defaultFields(), { count: 12, bytes: 16 * MiB });
    const response = await answerWithin(upload(tooLong, { headers: bearer(), sendOnly: 0 }), 10_000);
    assert.equal(response.status, 413, JSON.stringify(response.body));
    assert.equal(response.body?.error?.code, 'PAYLOAD_TOO_LARGE');
  });

  test('headers that never finish are answered 408 in the envelope', async () => {
    const response = await answerWithin(
      send({ method: 'GET', path: '/api/detections', headers: bearer(), unfinishedHeaders: true }),
      headersTimeoutSeconds * 1000 + answerSlackMs,
    );
    assert.equal(response.status, 408);
    assert.deepEqual(response.body, { success: false, error: { code: 'REQUEST_TIMEOUT', message: 'The request did not arrive in time.' }, data: null });
  });

  test('an upload the client abandons is logged at info as aborted, not as an error', async () => {
    const entries = () => stack.logLines().flatMap((line) => (line.startsWith('{') ? [JSON.parse(line) as { level: number; msg: string; path?: string }] : []));
    const earlier = entries().length;
    const exchange = upload(multipartForm(defaultFields(), { count: 4, bytes: 2 * MiB }), { headers: bearer(), holdBack: 1024 });
    await waitFor('the upload to be under way', async () => (await uploadBytesHeld()) > 0, 10_000, 5);
    exchange.abort();
    const aborted = await waitFor(
      'the aborted upload to be logged',
      () => entries().slice(earlier).find((entry) => entry.msg === 'request aborted before its body arrived'),
      10_000,
      20,
    );
    assert.equal(aborted.level, 30, 'info');
    assert.equal(aborted.path, '/api/v1/alarms');
    assert.deepEqual(entries().filter((entry) => entry.msg === 'unhandled API error'), []);
  });
});
