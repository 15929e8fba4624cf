import { sql } from 'kysely';
import type { Db } from '../database.js';
import type { JobStatus } from '../schema.js';

/** How long a claimed `Idempotency-Key` answers with its job. */
const idempotencyKeyLifetimeHours = 24;

/** What a claim keeps: the job its request created, or the answer of a request that creates no job. */
export type ClaimedOutcome = { jobId: string } | { answer: unknown };

export type IdempotencyLookup =
  | { found: false }
  | { found: true; sameRequest: boolean; claimed: { jobId: string; status: JobStatus } | { answer: unknown } };

/** Whether a claim made at the `createdAt` column still answers. */
const isLive = (createdAt: string) => sql<boolean>`${sql.ref(createdAt)} > now() - make_interval(hours => ${idempotencyKeyLifetimeHours})`;

/** `Idempotency-Key` claims per account. Call inside the submission's transaction. */
export class IdempotencyKeyRepository {
  constructor(private readonly db: Db) {}

  /**
   * What a live claim of the key keeps, and whether it was made for the same request. Takes a lock on the
   * key until the transaction ends, so a concurrent submission with the same key waits for this one's outcome.
   */
  async lookUp(accountId: string, key: string, requestHash: string): Promise<IdempotencyLookup> {
    await sql`select pg_advisory_xact_lock(hashtext(${`idempotency:${accountId}:${key}`}))`.execute(this.db);
    const row = await this.db
      .selectFrom('idempotency_keys as k')
      .leftJoin('jobs as j', 'j.id', 'k.job_id')
      .select(['k.request_hash', 'k.job_id', 'k.answer', 'j.status'])
      .where('k.account_id', '=', accountId)
      .where('k.key', '=', key)
      .where(isLive('k.created_at'))
      .executeTakeFirst();
    if (!row) return { found: false };
    const claimed = row.job_id !== null && row.status !== null ? { jobId: row.job_id, status: row.status } : { answer: row.answer };
    return { found: true, sameRequest: row.request_hash === requestHash, claimed };
  }

  /**
   * Claims the key for what the request created or answered, replacing an expired claim. Claiming an answer
   * also forgets the account's expired answers: no job erasure takes them with it.
   */
  async claim(accountId: string, key: string, requestHash: string, outcome: ClaimedOutcome): Promise<void> {
    const kept = 'jobId' in outcome ? { job_id: outcome.jobId, answer: null } : { job_id: null, answer: JSON.stringify(outcome.answer) };
    if ('answer' in outcome) {
      await this.db
        .deleteFrom('idempotency_keys')
        .where('account_id', '=', accountId)
        .where('job_id', 'is', null)
        .where(sql<boolean>`not ${isLive('created_at')}`)
        .execute();
    }
    await this.db
      .insertInto('idempotency_keys')
      .values({ account_id: accountId, key, request_hash: requestHash, ...kept })
      .onConflict((oc) => oc.columns(['account_id', 'key']).doUpdateSet({ request_hash: requestHash, ...kept, created_at: sql`now()` }))
      .execute();
  }
}
