import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { createApp } from '../../api/app.js';
import { createLogger } from '../../logging/logger.js';
import { FileSystemMediaStore } from '../../media/store.js';
import { alarmForm, api, defaultFields, eventFrames, submitAlarm, waitForTerminal, type AlarmFile } from '../support/alarms.js';
import { runVigilCli } from '../support/cli.js';
import { startStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';
import { startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from '../support/webhook-receiver.js';

interface Attempt {
  attempt: number;
  attempted_at: string;
  url: string | null;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
}

interface Delivery {
  delivery_id: string;
  webhook_id: string;
  type: string;
  trigger: string;
  status: string;
  created_at: string;
  finished_at: string | null;
  attempts: Attempt[];
}

interface Payload {
  type: string;
  job_id: string;
  data?: Record<string, unknown>;
  error?: { code: string; message: string };
}

const secret = 'whsec_9f2c61d04b8e4a7d';

/** What an integrator writes: HMAC-SHA256 of the raw body, compared in constant time. */
function verifiesWithNode(hook: ReceivedWebhook, key: string): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', key).update(hook.body).digest('hex')}`);
  const given = Buffer.from(String(hook.headers['x-webhook-signature'] ?? ''));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** `openssl dgst -sha256 -hmac <secret>` over the raw body, as the README shows. */
function opensslSignature(body: Buffer, key: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', ['dgst', '-sha256', '-hmac', key], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const hex = /([0-9a-f]{64})\s*$/.exec(out)?.[1];
      if (code === 0 && hex) resolve(`sha256=${hex}`);
      else reject(new Error(`openssl exited ${code}: ${err}`));
    });
    child.stdin.end(body);
  });
}

async function assertSigned(hook: ReceivedWebhook, key: string): Promise<void> {
  assert.ok(verifiesWithNode(hook, key), 'the signature verifies with node:crypto');
  assert.equal(hook.headers['x-webhook-signature'], await opensslSignature(hook.body, key), 'and with openssl');
}

function assertEnvelopeHeaders(hook: ReceivedWebhook): void {
  assert.match(String(hook.headers['x-webhook-id']), /^whk_[0-9a-f]{32}$/);
  const timestamp = Number(hook.headers['x-webhook-timestamp']);
  assert.ok(Number.isInteger(timestamp) && Math.abs(timestamp - Date.now() / 1000) < 300, `timestamp ${timestamp}`);
  assert.equal(hook.headers['content-type'], 'application/json');
}

/** Whether any payload in a workflow history carries `text` (payloads are bytes, so look inside them). */
function historyMentions(value: unknown, text: string): boolean {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8').includes(text);
  if (typeof value === 'string') return value.includes(text);
  if (Array.isArray(value)) return value.some((item) => historyMentions(item, text));
  if (value && typeof value === 'object') return Object.values(value).some((item) => historyMentions(item, text));
  return false;
}

describe('signed webhooks and Max-Processing-Time on the real stack', () => {
  let stack: TestStack;
  let receiver: WebhookReceiver;
  let token: string;
  let otherToken: string;
  let frames: AlarmFile[];
  const waitingJob: { id?: string } = {};

  const deliveries = async (jobId: string, as = token) => {
    const response = await api<{ job_id: string; deliveries: Delivery[] }>(stack.baseUrl, `/api/v1/alarms/${jobId}/deliveries`, { token: as });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    return response.body.data.deliveries;
  };
  const firstDelivered = (jobId: string) =>
    waitFor('the delivery to succeed', async () => (await deliveries(jobId)).find((d) => d.status === 'delivered'), 60_000, 200);
  const submit = async (fields: Record<string, string | undefined>, headers: Record<string, string> = {}) => {
    const response = await submitAlarm(stack.baseUrl, token, alarmForm(defaultFields(fields), frames), headers);
    assert.equal(response.status, 202, JSON.stringify(response.body));
    return response.body.data.job_id;
  };
  const hooksAt = (pathname: string, count: number) =>
    waitFor(`${count} webhook(s) at ${pathname}`, () => (receiver.received(pathname).length >= count ? receiver.received(pathname) : undefined), 30_000);
  const payloadOf = (hook: ReceivedWebhook) => JSON.parse(hook.body.toString('utf8')) as Payload;

  before(async () => {
    // No detection worker yet: the Max-Processing-Time cases need detection to stay queued.
    stack = await startStack({
      detectionWorker: false,
      env: { WEBHOOK_INITIAL_INTERVAL_S: '0.2', WEBHOOK_MAX_INTERVAL_S: '1', WEBHOOK_MAX_ATTEMPTS: '4', WEBHOOK_TIMEOUT_S: '5' },
    });
    receiver = await startWebhookReceiver();
    token = await stack.createToken('acme');
    otherToken = await stack.createToken('globex');
    frames = await eventFrames('pets2009_people_walking_a', 4);
  });
  after(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  test('Max-Processing-Time 2 with no detection worker: the job fails MAX_PROCESSING_TIME_EXCEEDED and the signed alarm.failed webhook arrives', async (t) => {
    const submittedAt = Date.now();
    const jobId = await submit({ webhook_url: receiver.url('/deadline'), webhook_secret: secret }, { 'Max-Processing-Time': '2' });
    waitingJob.id = await submit({ webhook_url: receiver.url('/late-worker') }, { 'Max-Processing-Time': '0' });

    const status = await waitForTerminal(stack.baseUrl, token, jobId, 30_000);
    t.diagnostic(`failed ${Date.now() - submittedAt} ms after submission`);
    assert.equal(status.status, 'failed', JSON.stringify(status));
    assert.equal(status.error?.code, 'MAX_PROCESSING_TIME_EXCEEDED');

    const [hook] = await hooksAt('/deadline', 1);
    const payload = payloadOf(hook!);
    assert.deepEqual(Object.keys(payload).sort(), ['error', 'job_id', 'type']);
    assert.equal(payload.type, 'alarm.failed');
    assert.equal(payload.job_id, jobId);
    assert.deepEqual(payload.error, status.error);
    assertEnvelopeHeaders(hook!);
    await assertSigned(hook!, secret);

    // The detection activity was in flight (queued for a worker) and was cancelled, not left behind.
    const history = await stack.temporal.workflow.getHandle(jobId).fetchHistory();
    const events = history.events ?? [];
    const scheduled = events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : []));
    assert.ok(scheduled.includes('detectFrames'), scheduled.join());
    assert.ok(events.some((e) => e.activityTaskCancelRequestedEventAttributes), 'detectFrames was cancelled');
    assert.ok(scheduled.includes('attemptWebhookDelivery'), scheduled.join());
    assert.equal(historyMentions(history, secret), false, 'the secret never enters workflow history');

    const delivery = await waitFor('the delivery to be recorded as delivered', async () => (await deliveries(jobId)).find((d) => d.status === 'delivered'));
    assert.equal(delivery.type, 'alarm.failed');
    assert.equal(delivery.trigger, 'completion');
    assert.equal(delivery.webhook_id, hook!.headers['x-webhook-id']);
  });

  test('Max-Processing-Time 0: the job waits for a detection worker started late, then finishes and its unsigned alarm.finished webhook arrives', async () => {
    const jobId = waitingJob.id!;
    const before = await api<{ status: string }>(stack.baseUrl, `/api/v1/alarms/${jobId}`, { token });
    assert.ok(['queued', 'running'].includes(before.body.data.status), `still waiting after the other job's deadline: ${before.body.data.status}`);
    assert.equal(receiver.received('/late-worker').length, 0);

    await stack.startDetectionWorker();
    const status = await waitForTerminal(stack.baseUrl, token, jobId);
    assert.equal(status.status, 'finished', JSON.stringify(status));

    const [hook] = await hooksAt('/late-worker', 1);
    assert.equal(hook!.headers['x-webhook-signature'], undefined, 'no secret, no signature');
    assertEnvelopeHeaders(hook!);
    const payload = payloadOf(hook!);
    assert.equal(payload.type, 'alarm.finished');
    assert.equal(payload.job_id, jobId);
    const exported = await api<Record<string, unknown>>(stack.baseUrl, `/api/v1/alarms/${jobId}/export?media_type=0`, { token });
    assert.equal(exported.status, 200);
    assert.deepEqual(payload.data, exported.body.data, 'data is the export document');
  });

  test('answers 500, 500, 200: delivered on the third attempt, each attempt recorded and signed alike', async () => {
    receiver.answer('/flaky', [500, 500]);
    const jobId = await submit({ webhook_url: receiver.url('/flaky'), webhook_secret: secret });
    const delivered = await firstDelivered(jobId);
    assert.deepEqual(delivered.attempts.map((a) => [a.attempt, a.status_code, a.error]), [[1, 500, null], [2, 500, null], [3, 200, null]]);
    for (const attempt of delivered.attempts) {
      assert.equal(attempt.url, receiver.url('/flaky'));
      assert.ok(Number.isInteger(attempt.duration_ms) && attempt.duration_ms >= 0);
      assert.ok(!Number.isNaN(Date.parse(attempt.attempted_at)));
    }
    const hooks = receiver.received('/flaky');
    assert.deepEqual(hooks.map((h) => h.answeredWith), [500, 500, 200]);
    assert.equal(new Set(hooks.map((h) => h.headers['x-webhook-id'])).size, 1, 'one X-Webhook-Id for every attempt');
    assert.equal(new Set(hooks.map((h) => h.body.toString('base64'))).size, 1, 'the same body every time');
    for (const hook of hooks) await assertSigned(hook, secret);

    const listing = await api(stack.baseUrl, `/api/v1/alarms/${jobId}/deliveries`, { token });
    assert.equal(JSON.stringify(listing.body).includes(secret), false, 'the secret is never returned');
    const status = await api<{ status: string }>(stack.baseUrl, `/api/v1/alarms/${jobId}`, { token });
    assert.equal(status.body.data.status, 'finished');
  });

  test('Retry-After is honoured up to the longest configured interval (1 s here)', async () => {
    receiver.answer('/busy', [
      { status: 503, headers: { 'retry-after': '1' } },
      { status: 429, headers: { 'retry-after': '3600' } },
    ]);
    const jobId = await submit({ webhook_url: receiver.url('/busy'), webhook_secret: secret });
    const delivered = await firstDelivered(jobId);
    assert.deepEqual(delivered.attempts.map((a) => a.status_code), [503, 429, 200]);
    const [first, second] = receiver.received('/busy');
    // The backoff alone would retry after 0.2 s.
    assert.ok(second!.receivedAt - first!.receivedAt >= 1000, `second attempt ${second!.receivedAt - first!.receivedAt} ms after the first`);
  });

  test('answer 410: one attempt, the delivery fails, the job stays finished; a redelivery is a new delivery with the same X-Webhook-Id', async () => {
    receiver.answer('/gone', [410]);
    const jobId = await submit({ webhook_url: receiver.url('/gone'), webhook_secret: secret });
    // The workflow ends once its delivery has ended: nothing more will be attempted.
    await stack.temporal.workflow.getHandle(jobId).result();
    const [failed] = await deliveries(jobId);
    assert.equal(failed?.status, 'failed');
    assert.deepEqual(failed?.attempts.map((a) => a.status_code), [410]);
    assert.equal(receiver.received('/gone').length, 1);
    const status = await api<{ status: string }>(stack.baseUrl, `/api/v1/alarms/${jobId}`, { token });
    assert.equal(status.body.data.status, 'finished');

    for (const request of [
      api(stack.baseUrl, `/api/v1/alarms/${jobId}/deliveries`, { token: otherToken }),
      api(stack.baseUrl, `/api/v1/alarms/${jobId}/deliveries/redeliver`, { method: 'POST', token: otherToken }),
    ]) {
      const response = await request;
      assert.equal(response.status, 404);
      assert.equal(response.body.error?.code, 'NOT_FOUND');
    }

    const redelivery = await api<{ job_id: string; delivery_id: string; status: string }>(stack.baseUrl, `/api/v1/alarms/${jobId}/deliveries/redeliver`, {
      method: 'POST',
      token,
    });
    assert.equal(redelivery.status, 202, JSON.stringify(redelivery.body));
    assert.equal(redelivery.headers.get('location'), `/api/v1/alarms/${jobId}/deliveries`);
    const again = await waitFor(
      'the redelivery to succeed',
      async () => (await deliveries(jobId)).find((d) => d.delivery_id === redelivery.body.data.delivery_id && d.status === 'delivered'),
      30_000,
      200,
    );
    assert.equal(again.trigger, 'redelivery');
    assert.deepEqual(again.attempts.map((a) => [a.attempt, a.status_code]), [[1, 200]]);
    assert.equal((await deliveries(jobId)).length, 2);

    const [first, second] = receiver.received('/gone');
    assert.equal(second!.headers['x-webhook-id'], first!.headers['x-webhook-id']);
    assert.ok(second!.body.equals(first!.body), 'the same final payload');
    await assertSigned(second!, secret);
  });

  test('the account default webhook set with the CLI serves jobs without their own; cleared, redelivery has no target', async () => {
    const vigil = (env: Record<string, string>, ...args: string[]) => runVigilCli(stack.config.database.url, args, env);
    const accountSecret = 'acct_secret_51d7e0';
    const refused = await vigil({ WEBHOOK_ALLOW_PRIVATE: 'false' }, 'webhook', 'set', '--account', 'acme', '--url', receiver.url('/default')).then(
      () => assert.fail('a loopback URL should be refused'),
      (error: { code?: number; stderr?: string }) => error,
    );
    assert.equal(refused.code, 2);
    assert.match(refused.stderr ?? '', /refused: 127\.0\.0\.1 is a loopback address/);

    const set = await vigil({ WEBHOOK_ALLOW_PRIVATE: 'true' }, 'webhook', 'set', '--account', 'acme', '--url', receiver.url('/default'), '--secret', accountSecret);
    assert.equal(`${set.stdout}${set.stderr}`.includes(accountSecret), false, 'the CLI does not echo the secret');

    const jobId = await submit({});
    const [hook] = await hooksAt('/default', 1);
    assert.equal(payloadOf(hook!).job_id, jobId);
    await assertSigned(hook!, accountSecret);

    await vigil({}, 'webhook', 'clear', '--account', 'acme');
    const unhooked = await submit({});
    const status = await waitForTerminal(stack.baseUrl, token, unhooked);
    assert.equal(status.status, 'finished');
    assert.deepEqual(await deliveries(unhooked), []);
    const redelivery = await api(stack.baseUrl, `/api/v1/alarms/${unhooked}/deliveries/redeliver`, { method: 'POST', token });
    assert.equal(redelivery.status, 409);
    assert.equal(redelivery.body.error?.code, 'WEBHOOK_NOT_CONFIGURED');
  });

  test('bad Max-Processing-Time and webhook fields are 400 VALIDATION_ERROR naming the field', async () => {
    const cases: { fields?: Record<string, string>; headers?: Record<string, string>; field: string }[] = [
      ...['-1', 'abc', '1.5', '86401', '2, 3'].map((value) => ({ headers: { 'Max-Processing-Time': value }, field: 'Max-Processing-Time' })),
      { fields: { webhook_url: 'ftp://hooks.example.com/' }, field: 'webhook_url' },
      { fields: { webhook_url: 'https://user:pw@hooks.example.com/' }, field: 'webhook_url' },
      { fields: { webhook_secret: 'lonely' }, field: 'webhook_secret' },
    ];
    for (const { fields = {}, headers = {}, field } of cases) {
      const response = await submitAlarm(stack.baseUrl, token, alarmForm(defaultFields(fields), frames), headers);
      assert.equal(response.status, 400, `${field} ${JSON.stringify(fields)} ${JSON.stringify(headers)}`);
      assert.equal(response.body.error?.code, 'VALIDATION_ERROR');
      assert.equal(response.body.error?.field, field);
    }
  });

  test('with private targets not allowed, loopback, private and link-local webhook_url are refused and leave nothing behind', async () => {
    const config = { ...stack.config, webhooks: { ...stack.config.webhooks, allowPrivate: false } };
    const app = createApp({ config, db: stack.db, media: new FileSystemMediaStore(config.mediaDir), temporal: stack.temporal, logger: createLogger('silent', 'test'), secrets: stack.secrets });
    const server: Server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const strictUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const jobCount = async () => (await sql<{ n: number }>`select count(*)::int as n from jobs`.execute(stack.db)).rows[0]!.n;
    try {
      const jobsBefore = await jobCount();
      for (const [url, range] of [
        [receiver.url('/private'), 'loopback'],
        ['http://localhost:9/hook', 'loopback'],
        ['http://10.20.30.40/hook', 'private'],
        ['http://169.254.169.254/latest/meta-data', 'linkLocal'],
        ['http://[::1]:8080/', 'loopback'],
      ] as const) {
        const response = await submitAlarm(strictUrl, token, alarmForm(defaultFields({ webhook_url: url, webhook_secret: secret }), frames));
        assert.equal(response.status, 400, url);
        assert.equal(response.body.error?.code, 'VALIDATION_ERROR');
        assert.equal(response.body.error?.field, 'webhook_url');
        assert.match(response.body.error?.message ?? '', new RegExp(range));
      }
      assert.equal(await jobCount(), jobsBefore);
      assert.equal(receiver.received('/private').length, 0);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
