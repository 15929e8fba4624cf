import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { ImageBatchRepository } from '../../db/repositories/image-batches.js';
import { JobRepository } from '../../db/repositories/jobs.js';
import { LatencyRepository } from '../../db/repositories/latency.js';
import { jobIdOf } from '../../domain/identifiers.js';
import type { JobKind } from '../../domain/job-kinds.js';
import { migratedDatabase } from '../support/database.js';
import { seedAccount } from '../support/seed.js';

const db = migratedDatabase();
const batches = () => new ImageBatchRepository(db());
const window = { hours: 24, maxJobs: 500 };

async function seedBatch(accountId: string, items: number, failedAtSubmission: number[] = []): Promise<string> {
  const jobId = jobIdOf('image_batch', randomBytes(12).toString('hex'));
  await db()
    .transaction()
    .execute(async (trx) => {
      await new JobRepository(trx).insert({ id: jobId, kind: 'image_batch', accountId, request: { image_count: items } }, []);
      await new ImageBatchRepository(trx).insertItems(
        accountId,
        jobId,
        Array.from({ length: items }, (_, index) => {
          const failed = failedAtSubmission.includes(index);
          return {
            index,
            externalId: `ext-${index}`,
            mediaKey: failed ? null : `image-batches/${jobId}/item_${index}.jpg`,
            bytes: 1000,
            error: failed ? { code: 'INVALID_IMAGE', message: 'not an image' } : null,
          };
        }),
      );
    });
  return jobId;
}

/** A finished job of `kind` whose processing took `ms`, with this request JSON. */
async function finishedJob(accountId: string, kind: JobKind, ms: number, request: Record<string, unknown>, finishedHoursAgo = 0): Promise<void> {
  const id = kind === 'image_batch' || kind === 'video' ? jobIdOf(kind, randomBytes(12).toString('hex')) : randomBytes(12).toString('hex');
  await sql`
    insert into jobs (id, account_id, kind, status, stage, request, started_at, finished_at)
    values (${id}, ${accountId}, ${kind}, 'finished', 'finished', ${JSON.stringify(request)}::jsonb,
            now() - make_interval(hours => ${finishedHoursAgo}) - make_interval(secs => ${ms / 1000}),
            now() - make_interval(hours => ${finishedHoursAgo}))`.execute(db());
}

describe('image batch items', () => {
  test('queued items are read chunk by chunk; outcomes are stored once; finishing counts them; only the account reads them', async () => {
    const accountId = await seedAccount(db());
    const jobId = await seedBatch(accountId, 5, [1]);
    assert.deepEqual(
      (await batches().queuedImages(accountId, jobId, 0, 3)).map((image) => image.index),
      [0, 2],
      'the item that failed at submission is not queued',
    );
    await batches().storeOutcomes(accountId, jobId, [
      { index: 0, tags: [{ tag: 'person', probability: 0.9, is_critical: false }] },
      { index: 2, error: { code: 'INVALID_IMAGE', message: 'truncated' } },
    ]);
    // A retried step stores nothing over the first outcome.
    await batches().storeOutcomes(accountId, jobId, [{ index: 0, tags: [] }]);
    assert.deepEqual((await batches().queuedImages(accountId, jobId, 0, 5)).map((image) => image.index), [3, 4]);
    await batches().storeOutcomes(accountId, jobId, [
      { index: 3, tags: [] },
      { index: 4, tags: [] },
    ]);

    assert.deepEqual(await batches().finish(accountId, jobId), { items_finished: 3, items_failed: 2 });
    const job = await new JobRepository(db()).getOfKind(accountId, jobId, 'image_batch');
    assert.deepEqual([job?.status, job?.result], ['finished', { items_finished: 3, items_failed: 2 }]);

    const items = await batches().items(accountId, jobId);
    assert.deepEqual(
      items.map((item) => [item.externalId, item.status, item.tags.length, item.error?.code ?? null]),
      [
        ['ext-0', 'finished', 1, null],
        ['ext-1', 'failed', 0, 'INVALID_IMAGE'],
        ['ext-2', 'failed', 0, 'INVALID_IMAGE'],
        ['ext-3', 'finished', 0, null],
        ['ext-4', 'finished', 0, null],
      ],
    );
    assert.deepEqual([items[0]!.personIds, items[0]!.ocrResults], [[], []]);
    assert.deepEqual(await batches().items(await seedAccount(db()), jobId), []);
  });

  test('a batch that already ended (cancelled) stays as it was when finishing is retried', async () => {
    const accountId = await seedAccount(db());
    const jobId = await seedBatch(accountId, 1);
    await new JobRepository(db()).fail(accountId, jobId, { code: 'CANCELLED', message: 'cancelled' }, 'cancelled');
    await batches().finish(accountId, jobId);
    assert.equal((await new JobRepository(db()).get(accountId, jobId))?.status, 'cancelled');
  });

  test('items go with their job', async () => {
    const accountId = await seedAccount(db());
    const jobId = await seedBatch(accountId, 2);
    await db().deleteFrom('jobs').where('id', '=', jobId).execute();
    assert.deepEqual(await batches().items(accountId, jobId), []);
  });
});

describe('latency per unit', () => {
  const latency = () => new LatencyRepository(db());

  test('image batches: processing time over images, p95 of the jobs, only recent finished jobs of the account', async () => {
    const accountId = await seedAccount(db());
    assert.deepEqual(await latency().perUnit(accountId, 'image_batch', 'image_count', window), { jobs: 0, units: 0, msPerUnit: null, p95MsPerUnit: null });

    await finishedJob(accountId, 'image_batch', 1000, { image_count: 10 }); // 100 ms per image
    await finishedJob(accountId, 'image_batch', 3000, { image_count: 10 }); // 300 ms per image
    await finishedJob(accountId, 'image_batch', 9000, { image_count: 10 }, 48); // outside the window
    await finishedJob(accountId, 'alarm', 500, { image_count: 10 }); // another kind
    await finishedJob(await seedAccount(db()), 'image_batch', 9000, { image_count: 1 }); // another account

    const found = await latency().perUnit(accountId, 'image_batch', 'image_count', window);
    assert.equal(found.jobs, 2);
    assert.equal(found.units, 20);
    assert.ok(Math.abs(found.msPerUnit! - 200) < 1, String(found.msPerUnit));
    assert.ok(Math.abs(found.p95MsPerUnit! - 290) < 1, String(found.p95MsPerUnit));

    const latest = await latency().perUnit(accountId, 'image_batch', 'image_count', { hours: 24, maxJobs: 1 });
    assert.equal(latest.jobs, 1);
  });

  test('videos: the unit count is the duration_s of the request; jobs without a positive number there are left out', async () => {
    const accountId = await seedAccount(db());
    await finishedJob(accountId, 'video', 6000, { duration_s: 30 }); // 200 ms per second of video
    await finishedJob(accountId, 'video', 6000, { duration_s: 'thirty' });
    await finishedJob(accountId, 'video', 6000, { duration_s: 0 });
    await finishedJob(accountId, 'video', 6000, {});
    const found = await latency().perUnit(accountId, 'video', 'duration_s', window);
    assert.deepEqual([found.jobs, found.units], [1, 30]);
    assert.ok(Math.abs(found.msPerUnit! - 200) < 1, String(found.msPerUnit));
  });
});
