import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { WebhookRepository, type NewWebhookDelivery } from '../../db/repositories/webhooks.js';
import { migratedDatabase } from '../support/database.js';
import { seedAccount } from '../support/seed.js';

const db = migratedDatabase();
const webhooks = () => new WebhookRepository(db());

/** Webhook rows name a job without a foreign key, so no job rows are needed. */
const jobId = () => `raw_test_${randomUUID()}`;

function delivery(accountId: string, job: string, targetId: string, overrides: Partial<NewWebhookDelivery> = {}): NewWebhookDelivery {
  return {
    id: randomUUID(),
    accountId,
    jobId: job,
    targetId,
    webhookId: `msg_${job}`,
    eventType: 'alarm.completed',
    trigger: 'completion',
    payload: '{"status":"signed-body"}',
    ...overrides,
  };
}

describe('webhook targets', () => {
  test("a job's own target comes before the account default, and another account's never", async () => {
    const accountId = await seedAccount(db());
    const [withOwn, withoutOwn] = [jobId(), jobId()];
    assert.equal(await webhooks().resolveTargetId(accountId, withOwn), undefined);

    await webhooks().setAccountDefault(accountId, { url: 'https://hooks.example/default', secret: null });
    const defaultId = await webhooks().resolveTargetId(accountId, withOwn);
    assert.ok(defaultId);
    await webhooks().setJobTarget(accountId, withOwn, { url: 'https://hooks.example/own', secret: 's3cret' });
    const ownId = await webhooks().resolveTargetId(accountId, withOwn);
    assert.ok(ownId && ownId !== defaultId);
    assert.equal(await webhooks().resolveTargetId(accountId, withoutOwn), defaultId);

    const otherAccount = await seedAccount(db());
    assert.equal(await webhooks().resolveTargetId(otherAccount, withOwn), undefined);
  });

  test('setting the default again replaces it in place; clearing says whether there was one', async () => {
    const accountId = await seedAccount(db());
    await webhooks().setAccountDefault(accountId, { url: 'https://hooks.example/a', secret: 'one' });
    const firstId = await webhooks().resolveTargetId(accountId, jobId());
    await webhooks().setAccountDefault(accountId, { url: 'https://hooks.example/b', secret: null });
    assert.equal(await webhooks().resolveTargetId(accountId, jobId()), firstId, 'pending deliveries keep pointing at it');
    const rows = await db().selectFrom('webhook_targets').select(['url', 'secret']).where('account_id', '=', accountId).execute();
    assert.deepEqual(rows, [{ url: 'https://hooks.example/b', secret: null }]);

    assert.equal(await webhooks().clearAccountDefault(accountId), true);
    assert.equal(await webhooks().clearAccountDefault(accountId), false);
    assert.equal(await webhooks().resolveTargetId(accountId, jobId()), undefined);
  });
});

describe('webhook deliveries', () => {
  test("a delivery is created once per id and reads its target's current URL and secret", async () => {
    const accountId = await seedAccount(db());
    const job = jobId();
    await webhooks().setAccountDefault(accountId, { url: 'https://hooks.example/v1', secret: 'first' });
    const targetId = (await webhooks().resolveTargetId(accountId, job))!;
    const created = delivery(accountId, job, targetId);
    await webhooks().createDelivery(created);
    await webhooks().createDelivery({ ...created, payload: '{"retried":true}' });

    assert.deepEqual(await webhooks().deliveryToSend(accountId, created.id), {
      id: created.id,
      jobId: job,
      webhookId: created.webhookId,
      payload: created.payload,
      status: 'pending',
      target: { url: 'https://hooks.example/v1', secret: 'first' },
    });
    await webhooks().setAccountDefault(accountId, { url: 'https://hooks.example/v2', secret: 'second' });
    assert.deepEqual((await webhooks().deliveryToSend(accountId, created.id))?.target, { url: 'https://hooks.example/v2', secret: 'second' });
    await webhooks().clearAccountDefault(accountId);
    assert.equal((await webhooks().deliveryToSend(accountId, created.id))?.target, null, 'the target was removed');

    assert.equal(await webhooks().deliveryToSend(await seedAccount(db()), created.id), undefined);
  });

  test('the listing shows each delivery with its attempts in order and its final status, never the payload', async () => {
    const accountId = await seedAccount(db());
    const job = jobId();
    await webhooks().setJobTarget(accountId, job, { url: 'https://hooks.example/job', secret: 'kept-secret' });
    const targetId = (await webhooks().resolveTargetId(accountId, job))!;
    const completion = delivery(accountId, job, targetId);
    const redelivery = delivery(accountId, job, targetId, { trigger: 'redelivery' });
    await webhooks().createDelivery(completion);
    await webhooks().createDelivery(redelivery);
    await webhooks().createDelivery(delivery(accountId, jobId(), targetId));

    const attempt = (n: number, statusCode: number | null) => ({
      attempt: n,
      url: 'https://hooks.example/job',
      attemptedAt: new Date(Date.parse('2026-11-22T10:00:00Z') + n * 1000),
      durationMs: 40 + n,
      statusCode,
      error: statusCode === null ? 'connect ECONNREFUSED' : null,
    });
    // Recorded out of order, listed by when they were made.
    await webhooks().recordAttempt(accountId, completion.id, attempt(2, 200));
    await webhooks().recordAttempt(accountId, completion.id, attempt(1, null));
    await webhooks().finishDelivery(accountId, completion.id, 'delivered');
    await webhooks().finishDelivery(accountId, completion.id, 'failed');

    const listed = await webhooks().listForJob(accountId, job);
    assert.deepEqual(listed.map((d) => [d.id, d.trigger, d.status]), [
      [completion.id, 'completion', 'delivered'],
      [redelivery.id, 'redelivery', 'pending'],
    ]);
    assert.deepEqual(listed[0]!.attempts, [attempt(1, null), attempt(2, 200)]);
    assert.ok(listed[0]!.finishedAt instanceof Date);
    assert.deepEqual([listed[1]!.attempts, listed[1]!.finishedAt], [[], null]);
    assert.ok(!JSON.stringify(listed).includes('kept-secret') && !JSON.stringify(listed).includes('signed-body'), 'no secret, no payload');
    assert.equal((await webhooks().deliveryToSend(accountId, completion.id))?.status, 'delivered', 'an ended delivery keeps its status');

    const otherAccount = await seedAccount(db());
    await webhooks().finishDelivery(otherAccount, redelivery.id, 'failed');
    assert.deepEqual(await webhooks().listForJob(otherAccount, job), []);
    assert.equal((await webhooks().deliveryToSend(accountId, redelivery.id))?.status, 'pending');
  });
});
