import { sql } from 'kysely';
import type { Db } from '../database.js';
import type { JobStatus } from '../schema.js';

/** How long a claimed `Idempotency-Key` answers with its job. */
export const idempotencyKeyLifetimeHours = 24;

export type IdempotencyLookup =
  | { found: false }
  | { found: true; sameRequest: boolean; jobId: string; status: JobStatus };

/** `Idempotency-Key` claims per account. Call inside the submission's transaction. */
export class IdempotencyKeyRepository {
  constructor(private readonly db: Db) {}

  /**
   * The job a live claim of the key names, and whether it was made for the same request. Takes a lock on the
   * key until the transaction ends, so a concurrent submission with the same key waits for this one's outcome.
   */
  async lookUp(accountId: string, key: string, requestHash: string): Promise<IdempotencyLookup> {
    await sql`select pg_advisory_xact_lock(hashtext(${`idempotency:${accountId}:${key}`}))`.execute(this.db);
    const row = await this.db
      .selectFrom('idempotency_keys as k')
      .innerJoin('jobs as j', 'j.id', 'k.job_id')
      .select(['k.request_hash', 'k.job_id', 'j.status'])
      .where('k.account_id', '=', accountId)
      .where('k.key', '=', key)
      .where('k.created_at', '>', sql<Date>`now() - make_interval(hours => ${idempotencyKeyLifetimeHours})`)
      .executeTakeFirst();
    if (!row) return { found: false };
    return { found: true, sameRequest: row.request_hash === requestHash, jobId: row.job_id, status: row.status };
  }

  /** Claims the key for a new job, replacing an expired claim. */
  async claim(accountId: string, key: string, requestHash: string, jobId: string): Promise<void> {
    await this.db
      .insertInto('idempotency_keys')
      .values({ account_id: accountId, key, request_hash: requestHash, job_id: jobId })
      .onConflict((oc) =>
        oc.columns(['account_id', 'key']).doUpdateSet({ request_hash: requestHash, job_id: jobId, created_at: sql`now()` }),
      )
      .execute();
  }
}
