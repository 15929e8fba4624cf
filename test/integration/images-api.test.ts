import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { fixturesDir } from '../support/paths.js';
import { startStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

interface Tag {
  tag: string;
  probability: number;
  is_critical: boolean;
}
interface Item {
  external_id: string;
  status: string;
  result?: { tags: Tag[]; person_ids: unknown[]; ocr_results: unknown[] };
  error?: { code: string; message: string };
}
interface BatchDocument {
  job_id: string;
  status: string;
  items: Item[];
}

/** Spec 2's bodies are bare JSON, errors included (`{"error": {…}}`). */
async function call(baseUrl: string, pathname: string, init: RequestInit & { token?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('authorization', `Bearer ${init.token}`);
  const response = await fetch(baseUrl + pathname, { ...init, headers });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each test reads the fields it checks
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

const still = async (relative: string) => (await readFile(path.join(fixturesDir, relative))).toString('base64');
const probabilityOf = (item: Item | undefined, tag: string) => item?.result?.tags.find((t) => t.tag === tag)?.probability ?? 0;

describe('image batches API', () => {
  let stack: TestStack;
  let token: string;
  let receiver: WebhookReceiver;
  const submit = (body: unknown, headers: Record<string, string> = {}, as = token) =>
    call(stack.baseUrl, '/api/v1/images', { method: 'POST', token: as, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const poll = async (jobId: string, as = token): Promise<BatchDocument> =>
    waitFor(
      `batch ${jobId} to end`,
      async () => {
        const { status, body } = await call(stack.baseUrl, `/api/v1/images/${jobId}`, { token: as });
        assert.equal(status, 200, JSON.stringify(body));
        return ['finished', 'failed', 'cancelled'].includes(body.status) ? (body as BatchDocument) : undefined;
      },
      180_000,
      250,
    );

  before(async () => {
    stack = await startStack({ env: { MAX_BATCH_BODY_BYTES: String(3 * 1024 * 1024) } });
    token = await stack.createToken('acme');
    receiver = await startWebhookReceiver();
  });
  after(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  test('a batch of stills gets sensible tags, an undecodable item fails alone, and the webhook carries the same document', async () => {
    const images = [
      { external_id: 'worker', data_base64: await still('events/warehouse_worker_hardhat/frame_00.jpg') },
      { external_id: 'traffic', data_base64: await still('stills/traffic_cctv/otl_hannover_K50_day.jpg') },
      { external_id: 'empty', data_base64: await still('events/parking_lot_empty_a/frame_00.jpg') },
      { external_id: 'dog', data_base64: await still('stills/general_photos/darknet_dog.jpg') },
      { external_id: 'ir-night', data_base64: await still('stills/traffic_cctv/otl_hannover_K50_night.jpg') },
      // Valid base64 of bytes that are no image.
      { external_id: 'broken', data_base64: Buffer.from('certainly not a picture').toString('base64') },
    ];
    const secret = 'whsec_images_1';
    const accepted = await submit({ images, webhook: { url: receiver.url('/images'), secret } });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const jobId: string = accepted.body.job_id;
    assert.match(jobId, /^image_batch_[0-9a-f]{24}$/);
    assert.deepEqual(Object.keys(accepted.body), ['job_id']);
    assert.equal(accepted.headers.get('location'), `/api/v1/images/${jobId}`);
    assert.ok(Number(accepted.headers.get('retry-after')) > 0);

    const done = await poll(jobId);
    assert.equal(done.status, 'finished', JSON.stringify(done));
    assert.deepEqual(
      done.items.map((item) => [item.external_id, item.status]),
      images.map((image) => [image.external_id, image.external_id === 'broken' ? 'failed' : 'finished']),
    );
    const byId = new Map(done.items.map((item) => [item.external_id, item]));
    assert.ok(probabilityOf(byId.get('worker'), 'person') > 0.5, JSON.stringify(byId.get('worker')));
    assert.ok(probabilityOf(byId.get('traffic'), 'vehicle') > 0.5, JSON.stringify(byId.get('traffic')));
    assert.ok(probabilityOf(byId.get('traffic'), 'car') > 0.5, JSON.stringify(byId.get('traffic')));
    assert.ok(probabilityOf(byId.get('dog'), 'dog') > 0.5, JSON.stringify(byId.get('dog')));
    for (const tag of ['person', 'vehicle', 'animal']) assert.ok(probabilityOf(byId.get('empty'), tag) < 0.5, JSON.stringify(byId.get('empty')));
    // Not a person at night: nothing critical there; the worker in daylight is not critical either.
    assert.ok(done.items.flatMap((item) => item.result?.tags ?? []).every((tag) => !tag.is_critical), JSON.stringify(done.items));
    for (const item of done.items.filter((i) => i.status === 'finished')) {
      assert.ok(Array.isArray(item.result?.person_ids) && Array.isArray(item.result?.ocr_results), JSON.stringify(item.result));
      // Face analysis is off for this account: no person carries an embedding or a thumbnail.
      for (const person of item.result!.person_ids as Record<string, unknown>[]) assert.deepEqual([person.face_embedding, person.face_thumbnail], [undefined, undefined]);
      assert.ok(item.result!.tags.every((tag) => tag.probability >= 0.3 && tag.probability <= 1));
    }
    // The traffic camera's timestamp overlay is read.
    const trafficText = (byId.get('traffic')!.result!.ocr_results as { full_text: string }[]).map((result) => result.full_text);
    assert.ok(trafficText.includes('2019-10-24 09:06:10'), JSON.stringify(trafficText));
    const broken = byId.get('broken')!;
    assert.equal(broken.error?.code, 'INVALID_IMAGE');
    assert.equal(broken.result, undefined);

    const hook = await waitFor('the webhook', () => receiver.received('/images')[0]);
    const payload = JSON.parse(hook.body.toString());
    assert.equal(payload.type, 'image_batch.finished');
    assert.equal(payload.job_id, jobId);
    assert.deepEqual(payload.data, done);
    assert.equal(hook.headers['x-webhook-signature'], `sha256=${createHmac('sha256', secret).update(hook.body).digest('hex')}`);

    const latency = await call(stack.baseUrl, '/api/v1/latency?media_type=image', { token });
    assert.equal(latency.status, 200);
    assert.equal(latency.body.media_type, 'image');
    assert.equal(latency.body.unit, 'image');
    assert.ok(latency.body.sample_size >= 1);
    assert.ok(latency.body.latency_ms_per_unit > 0);
    assert.ok(latency.body.p95 >= latency.body.latency_ms_per_unit * 0.5);
  });

  test('the same Idempotency-Key and request answer the first job; another request under it is 422', async () => {
    const key = `images-${Math.random().toString(36).slice(2)}`;
    const body = { images: [{ external_id: 'a', data_base64: await still('events/parking_lot_empty_a/frame_01.jpg') }] };
    const first = await submit(body, { 'Idempotency-Key': key });
    assert.equal(first.status, 202);
    const retried = await submit(body, { 'Idempotency-Key': key });
    assert.equal(retried.status, 200);
    assert.deepEqual(retried.body, { job_id: first.body.job_id });
    const reused = await submit({ images: [{ ...body.images[0], external_id: 'b' }] }, { 'Idempotency-Key': key });
    assert.equal(reused.status, 422);
    assert.equal(reused.body.error.code, 'IDEMPOTENCY_KEY_REUSED');
  });

  test('another account sees a 404, as for a job that does not exist', async () => {
    const accepted = await submit({ images: [{ external_id: 'a', data_base64: await still('events/parking_lot_empty_a/frame_02.jpg') }] });
    assert.equal(accepted.status, 202);
    const other = await stack.createToken('globex');
    const theirs = await call(stack.baseUrl, `/api/v1/images/${accepted.body.job_id}`, { token: other });
    assert.equal(theirs.status, 404);
    assert.equal(theirs.body.error.code, 'NOT_FOUND');
    const missing = await call(stack.baseUrl, '/api/v1/images/image_batch_000000000000000000000000', { token });
    assert.equal(missing.status, 404);
  });

  test('bad inputs are refused with a stable code and field, and leave no job behind', async () => {
    const jobsBefore = Number((await sql<{ n: string }>`select count(*) as n from jobs`.execute(stack.db)).rows[0]!.n);
    const tiny = { external_id: 'x', data_base64: Buffer.from('x').toString('base64') };

    const none = await submit({ images: [] });
    assert.deepEqual([none.status, none.body.error.code, none.body.error.field], [400, 'INVALID_IMAGE_COUNT', 'images']);
    const tooMany = await submit({ images: Array.from({ length: 101 }, (_, i) => ({ ...tiny, external_id: `x${i}` })) });
    assert.deepEqual([tooMany.status, tooMany.body.error.code, tooMany.body.error.field], [400, 'INVALID_IMAGE_COUNT', 'images']);
    const badBase64 = await submit({ images: [tiny, { external_id: 'y', data_base64: 'data:image/jpeg;base64,/9j/' }] });
    assert.deepEqual([badBase64.status, badBase64.body.error.code, badBase64.body.error.field], [400, 'VALIDATION_ERROR', 'images.1.data_base64']);
    const duplicate = await submit({ images: [tiny, tiny] });
    assert.deepEqual([duplicate.status, duplicate.body.error.field], [400, 'images.1.external_id']);
    const notJson = await call(stack.baseUrl, '/api/v1/images', { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: '{"images": [' });
    assert.deepEqual([notJson.status, notJson.body.error.code, notJson.body.error.field], [400, 'VALIDATION_ERROR', 'body']);
    const badWebhook = await submit({ images: [tiny], webhook: { url: 'ftp://example.com/hook' } });
    assert.deepEqual([badWebhook.status, badWebhook.body.error.field], [400, 'webhook.url']);
    const badDeadline = await submit({ images: [tiny] }, { 'Max-Processing-Time': 'soon' });
    assert.deepEqual([badDeadline.status, badDeadline.body.error.field], [400, 'Max-Processing-Time']);
    const unauthenticated = await submit({ images: [tiny] }, {}, '');
    assert.equal(unauthenticated.status, 401);

    const huge = await submit({ images: [{ external_id: 'big', data_base64: Buffer.alloc(3 * 1024 * 1024).toString('base64') }] });
    assert.deepEqual([huge.status, huge.body.error.code], [413, 'PAYLOAD_TOO_LARGE']);

    const latency = await call(stack.baseUrl, '/api/v1/latency?media_type=audio', { token });
    assert.deepEqual([latency.status, latency.body.error.code, latency.body.error.field], [400, 'VALIDATION_ERROR', 'media_type']);

    const jobsAfter = Number((await sql<{ n: string }>`select count(*) as n from jobs`.execute(stack.db)).rows[0]!.n);
    assert.equal(jobsAfter, jobsBefore);
  });
});
