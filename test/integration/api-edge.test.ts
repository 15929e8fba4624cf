import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildOpenApiDocument } from '../../api/openapi.js';
import { defaultFields } from '../support/alarms.js';
import { bodyLength, sendRaw, type BodySegment, type RawExchange, type RawRequest, type RawResponse } from '../support/raw-http.js';
import { startStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/** What a hostile or careless client sends to the API's edge: slow, oversized, unauthenticated, with control characters. */

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
        // The table of control characters sends dozens of bulk and media requests with one token.
        BULK_RATE_LIMIT_PER_MIN: '1000',
        BULK_RATE_LIMIT_BURST: '1000',
        MEDIA_RATE_LIMIT_PER_MIN: '1000',
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

  describe('every documented input, path, query, header and body, refuses control characters with 400 naming it', () => {
    type Operation = {
      parameters?: { name: string; in: 'path' | 'query' | 'header'; required?: boolean }[];
      requestBody?: { content: Record<string, { schema: Schema }> };
    };
    type Schema = { type?: string | string[]; format?: string; properties?: Record<string, Schema>; items?: Schema };
    type Input = { in: 'path' | 'query' | 'header' | 'form' | 'json'; field: string };

    /** Every leaf of a JSON body schema by path, arrays through their first item: `detections.0.labels.0`. */
    const leaves = (schema: Schema, path: string[] = []): string[][] => {
      if (schema.properties) return Object.entries(schema.properties).flatMap(([name, property]) => leaves(property, [...path, name]));
      if (schema.items) return leaves(schema.items, [...path, '0']);
      return [path];
    };
    /** A body with 'x' at every leaf and `value` at `target`: the edge looks at characters before anything else. */
    const bodyWith = (schema: Schema, target: string, value: string) => {
      const body: Record<string, unknown> = {};
      for (const path of leaves(schema)) {
        let node = body;
        for (const [depth, key] of path.entries()) {
          if (depth === path.length - 1) node[key] = path.join('.') === target ? value : 'x';
          else node = (node[key] ??= /^\d+$/.test(path[depth + 1]!) ? [] : {}) as Record<string, unknown>;
        }
      }
      return body;
    };

    const document = buildOpenApiDocument() as unknown as { paths: Record<string, Record<string, Operation>> };
    const cases = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item).flatMap(([method, operation]) => {
        const form = operation.requestBody?.content['multipart/form-data']?.schema;
        const json = operation.requestBody?.content['application/json']?.schema;
        const inputs: Input[] = [
          ...(operation.parameters ?? []).map((parameter) => ({ in: parameter.in, field: parameter.name })),
          ...Object.entries(form?.properties ?? {}).filter(([, property]) => property.items?.format !== 'binary').map(([field]) => ({ in: 'form' as const, field })),
          ...(json ? leaves(json).map((leaf) => ({ in: 'json' as const, field: leaf.join('.') })) : []),
        ];
        return inputs.map((input) => ({ method: method.toUpperCase(), path, operation, input, formSchema: form, jsonSchema: json }));
      }),
    );

    const requestFor = ({ method, path, operation, input, formSchema, jsonSchema }: (typeof cases)[number], value: string): RawRequest => {
      const valueOf = (where: Input['in'], field: string) => (input.in === where && input.field === field ? value : 'x');
      const pathname = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(valueOf('path', name)));
      const query = new URLSearchParams(
        (operation.parameters ?? []).filter((p) => p.in === 'query' && (p.required || (input.in === 'query' && input.field === p.name))).map((p): [string, string] => [p.name, valueOf('query', p.name)]),
      );
      const headers: Record<string, string> = { ...bearer() };
      if (input.in === 'header') headers[input.field] = value;
      let body: BodySegment[] | undefined;
      if (formSchema) {
        const form = multipartForm(Object.fromEntries(Object.keys(formSchema.properties ?? {}).filter((field) => field !== 'images').map((field) => [field, valueOf('form', field)])), { count: 0, bytes: 0 });
        headers['Content-Type'] = form.contentType;
        body = form.body;
      }
      if (jsonSchema) {
        headers['Content-Type'] = 'application/json';
        body = [new TextEncoder().encode(JSON.stringify(bodyWith(jsonSchema, input.in === 'json' ? input.field : '', value)))];
      }
      return { method, path: `${pathname}${query.size > 0 ? `?${query}` : ''}`, headers, body };
    };

    test('the document has inputs on every kind of place', () => {
      for (const where of ['path', 'query', 'header', 'form', 'json'] as const) assert.ok(cases.some((c) => c.input.in === where), where);
      assert.ok(cases.length >= 50, `${cases.length} inputs`);
    });

    for (const character of ['\u0000', '\u0007']) {
      test(`U+${character.charCodeAt(0).toString(16).padStart(4, '0')} in each of them`, async () => {
        const misses: string[] = [];
        for (const testCase of cases) {
          const response = await answerWithin(send(requestFor(testCase, `x${character}y`)), 10_000);
          const { code, field } = response.body?.error ?? {};
          if (response.status !== 400 || code !== 'VALIDATION_ERROR' || field !== testCase.input.field) {
            misses.push(`${testCase.method} ${testCase.path} ${testCase.input.in} ${testCase.input.field}: ${response.status} ${code} ${field}`);
          }
        }
        assert.deepEqual(misses, []);
      });
    }
  });

  test('a token in the query string is refused on every route but GET, saying to use the Authorization header', async () => {
    const document = buildOpenApiDocument() as unknown as { paths: Record<string, Record<string, unknown>> };
    const changes = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).filter((method) => method !== 'get').map((method) => ({ method: method.toUpperCase(), path: path.replace(/\{\w+\}/g, 'x') })),
    );
    assert.ok(changes.length >= 5, `${changes.length} routes that change something`);
    const misses: string[] = [];
    for (const { method, path } of changes) {
      const response = await answerWithin(send({ method, path: `${path}?token=${encodeURIComponent(token)}` }), 10_000);
      if (response.status !== 401 || response.body?.error?.code !== 'UNAUTHENTICATED' || !/Authorization header/.test(response.body.error.message)) {
        misses.push(`${method} ${path}: ${response.status} ${JSON.stringify(response.body?.error)}`);
      }
    }
    assert.deepEqual(misses, []);
  });
});
