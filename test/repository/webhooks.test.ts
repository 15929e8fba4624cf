import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { WebhookRepository, type NewWebhookDelivery } from '../../db/repositories/webhooks.js';
import { SecretKeyring } from '../../domain/secret-keyring.js';
import { migratedDatabase } from '../support/database.js';
import { seedAccount } from '../support/seed.js';

const db = migratedDatabase();
const firstKey = randomBytes(32);
const keyring = new SecretKeyring([firstKey]);
const webhooks = (secrets = keyring) => new WebhookRepository(db(), secrets);

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

describe('webhook secrets at rest', () => {
  const storedTargets = (accountId: string) =>
    db().selectFrom('webhook_targets').select(['id', 'job_id', 'secret', 'secret_key_id']).where('account_id', '=', accountId).execute();
  /** The target's secret as an attempt reads it. */
  const secretToSign = async (repository: WebhookRepository, accountId: string, job: string) => {
    const targetId = (await repository.resolveTargetId(accountId, job))!;
    const created = delivery(accountId, job, targetId);
    await repository.createDelivery(created);
    return (await repository.deliveryToSend(accountId, created.id))?.target?.secret;
  };

  test('a stored secret cannot be read in the database, and an attempt reads it to sign', async () => {
    const accountId = await seedAccount(db());
    const job = jobId();
    await webhooks().setAccountDefault(accountId, { url: 'https://hooks.example/default', secret: 'whsec_default_4f1e' });
    await webhooks().setJobTarget(accountId, job, { url: 'https://hooks.example/own', secret: 'whsec_own_9a2c' });

    const rows = await storedTargets(accountId);
    assert.equal(rows.length, 2);
    for (const row of rows) {
      const stored = JSON.stringify(row);
      for (const plaintext of ['whsec_default_4f1e', 'whsec_own_9a2c']) {
        assert.ok(!stored.includes(plaintext) && !stored.includes(Buffer.from(plaintext).toString('base64')), `${plaintext} in ${stored}`);
      }
      assert.equal(row.secret_key_id, keyring.currentKeyId);
    }
    assert.equal(await secretToSign(webhooks(), accountId, job), 'whsec_own_9a2c');
    assert.equal(await secretToSign(webhooks(), accountId, jobId()), 'whsec_default_4f1e');
  });

  test('rotation seals every secret again under the new key; until then the old key still opens them', async () => {
    const accountId = await seedAccount(db());
    const [job, otherJob] = [jobId(), jobId()];
    await webhooks().setJobTarget(accountId, job, { url: 'https://hooks.example/a', secret: 'sealed-before-rotation' });
    await webhooks().setJobTarget(accountId, otherJob, { url: 'https://hooks.example/b', secret: null });

    const newKey = randomBytes(32);
    const rotating = new SecretKeyring([newKey, firstKey]);
    assert.equal(await secretToSign(webhooks(rotating), accountId, job), 'sealed-before-rotation', 'the old key still opens it');
    await webhooks(rotating).setAccountDefault(accountId, { url: 'https://hooks.example/default', secret: 'sealed-after' });

    assert.ok((await webhooks(rotating).resealSecrets('stale')) >= 1);
    const rows = await storedTargets(accountId);
    assert.equal(rows.length, 3);
    assert.ok(rows.every((row) => row.secret_key_id === (row.secret === null ? null : rotating.currentKeyId)), JSON.stringify(rows));
    assert.equal(await webhooks(rotating).resealSecrets('stale'), 0, 'nothing is left under the old key');

    const newKeyOnly = new SecretKeyring([newKey]);
    assert.equal(await secretToSign(webhooks(newKeyOnly), accountId, job), 'sealed-before-rotation');
    assert.equal(await secretToSign(webhooks(newKeyOnly), accountId, jobId()), 'sealed-after');
    assert.equal(await secretToSign(webhooks(newKeyOnly), accountId, otherJob), null);
  });

  test('a secret stored in plain text before sealing is read as it is until sealed, then sealed', async () => {
    const accountId = await seedAccount(db());
    const job = jobId();
    await db()
      .insertInto('webhook_targets')
      .values({ account_id: accountId, job_id: job, url: 'https://hooks.example/legacy', secret: 'stored-before-sealing', updated_at: new Date() })
      .execute();
    assert.equal(await secretToSign(webhooks(), accountId, job), 'stored-before-sealing');

    assert.ok((await webhooks().resealSecrets('plaintext')) >= 1);
    const [row] = await storedTargets(accountId);
    assert.equal(row?.secret_key_id, keyring.currentKeyId);
    assert.notEqual(row?.secret, 'stored-before-sealing');
    assert.equal(await secretToSign(webhooks(), accountId, job), 'stored-before-sealing');
  });
});
