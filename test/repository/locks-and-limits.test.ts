import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { ExportLockRepository } from '../../db/repositories/export-locks.js';
import { RateLimitRepository } from '../../db/repositories/rate-limits.js';
import { migratedDatabase } from '../support/database.js';
import { seedAccount, seedCamera, seedJob, seedToken } from '../support/seed.js';

// Both use PostgreSQL's clock only, so these tests let time pass by moving the stored instant back.
const db = migratedDatabase();
const exportLocks = () => new ExportLockRepository(db());
const rateLimits = () => new RateLimitRepository(db());

describe('export locks, per token and job', () => {
  test('a second export within the lock is refused with the time left; other tokens and jobs are not locked', async () => {
    const camera = await seedCamera(db(), await seedAccount(db()));
    const [token, otherToken] = [await seedToken(db(), camera.accountId), await seedToken(db(), camera.accountId)];
    const [job, otherJob] = [await seedJob(db(), camera), await seedJob(db(), camera)];

    assert.equal(await exportLocks().secondsLeft(token, job), undefined);
    assert.deepEqual(await exportLocks().claim(token, job, 60), { claimed: true });
    const left = await exportLocks().secondsLeft(token, job);
    assert.ok(left !== undefined && left >= 59 && left <= 60, `${left} s left`);
    const refused = await exportLocks().claim(token, job, 60);
    assert.ok(!refused.claimed && refused.retryAfterSeconds >= 59 && refused.retryAfterSeconds <= 60, JSON.stringify(refused));
    assert.deepEqual(await exportLocks().claim(token, otherJob, 60), { claimed: true });
    assert.deepEqual(await exportLocks().claim(otherToken, job, 60), { claimed: true });

    await db().updateTable('export_locks').set({ locked_until: sql`now()` }).where('token_id', '=', token).where('job_id', '=', job).execute();
    assert.equal(await exportLocks().secondsLeft(token, job), undefined, 'the lock ran out');
    assert.deepEqual(await exportLocks().claim(token, job, 60), { claimed: true }, 'the lock ran out');
    assert.equal((await exportLocks().claim(token, job, 60)).claimed, false, 'and was taken again for a full period');
  });

  test('of concurrent exports by one token, exactly one gets the lock', async () => {
    const camera = await seedCamera(db(), await seedAccount(db()));
    const [token, job] = [await seedToken(db(), camera.accountId), await seedJob(db(), camera)];
    const claims = await Promise.all(Array.from({ length: 6 }, () => exportLocks().claim(token, job, 60)));
    assert.equal(claims.filter((c) => c.claimed).length, 1, JSON.stringify(claims));
  });
});

describe('rate limits', () => {
  // One request per 10 s sustained, two back to back.
  const limit = { perMinute: 6, burst: 2 };

  test('a burst is allowed, then requests wait one interval; other keys are not affected', async () => {
    const key = `bulk:${randomUUID()}`;
    assert.deepEqual(await rateLimits().consume(key, limit), { allowed: true });
    assert.deepEqual(await rateLimits().consume(key, limit), { allowed: true });
    const refused = await rateLimits().consume(key, limit);
    assert.ok(!refused.allowed && refused.retryAfterSeconds >= 9 && refused.retryAfterSeconds <= 10, JSON.stringify(refused));
    assert.equal((await rateLimits().consume(key, limit)).allowed, false, 'a refused request takes nothing');
    assert.deepEqual(await rateLimits().consume(`bulk:${randomUUID()}`, limit), { allowed: true });

    // One interval later the bucket holds one request again.
    await db().updateTable('rate_limits').set({ theoretical_arrival: sql`theoretical_arrival - interval '10 seconds'` }).where('key', '=', key).execute();
    assert.deepEqual(await rateLimits().consume(key, limit), { allowed: true });
    assert.equal((await rateLimits().consume(key, limit)).allowed, false);

    // Idle for long: a full burst again, not the requests missed while idle.
    await db().updateTable('rate_limits').set({ theoretical_arrival: sql`now() - interval '1 hour'` }).where('key', '=', key).execute();
    const afterIdle = [];
    for (let i = 0; i < 3; i++) afterIdle.push((await rateLimits().consume(key, limit)).allowed);
    assert.deepEqual(afterIdle, [true, true, false]);
  });

  test('concurrent requests on separate connections share one bucket', async () => {
    const key = `media:${randomUUID()}`;
    const decisions = await Promise.all(Array.from({ length: 6 }, () => rateLimits().consume(key, { perMinute: 30, burst: 3 })));
    assert.equal(decisions.filter((d) => d.allowed).length, 3, JSON.stringify(decisions));
  });
});
