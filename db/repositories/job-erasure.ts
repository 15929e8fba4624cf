import { sql } from 'kysely';
import { endedJobStatuses } from '../../domain/job-kinds.js';
import type { Db } from '../database.js';
import type { JobKind } from '../schema.js';

export interface JobKey {
  accountId: string;
  jobId: string;
}

/** Every row of a job, removed together; what the erasure of one job and the retention sweep share. */
export class JobErasureRepository {
  constructor(private readonly db: Db) {}

  /**
   * Deletes the job and every row that belongs to it. Call inside a transaction: the job row is locked
   * first, so a step of its workflow still writing waits for the erasure and then finds no job.
   * Returns the erased job's kind, or undefined when the account has no such job.
   */
  async erase(accountId: string, jobId: string): Promise<JobKind | undefined> {
    const job = await this.db
      .selectFrom('jobs')
      .select('kind')
      .where('account_id', '=', accountId)
      .where('id', '=', jobId)
      .forUpdate()
      .executeTakeFirst();
    if (!job) return undefined;
    const deliveries = this.db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('account_id', '=', accountId)
      .where('job_id', '=', jobId);
    await this.db.deleteFrom('webhook_attempts').where('account_id', '=', accountId).where('delivery_id', 'in', deliveries).execute();
    for (const table of ['webhook_deliveries', 'webhook_targets', 'detections', 'frames', 'faces', 'media_faces', 'media_text_lines'] as const) {
      await this.db.deleteFrom(table).where('account_id', '=', accountId).where('job_id', '=', jobId).execute();
    }
    // Export locks carry no account: they are the account's through its tokens.
    await this.db
      .deleteFrom('export_locks')
      .where('job_id', '=', jobId)
      .where('token_id', 'in', this.db.selectFrom('api_tokens').select('id').where('account_id', '=', accountId))
      .execute();
    // Its Idempotency-Key claims go with it (foreign key, on delete cascade).
    await this.db.deleteFrom('jobs').where('account_id', '=', accountId).where('id', '=', jobId).execute();
    return job.kind;
  }

  /**
   * Up to `limit` jobs, of every account, that ended more than `retentionDays` ago, longest ended first;
   * each is then erased under its own account.
   */
  async endedBefore(retentionDays: number, limit: number): Promise<JobKey[]> {
    const rows = await this.db
      .selectFrom('jobs')
      .select(['account_id', 'id'])
      .where('status', 'in', endedJobStatuses)
      .where('finished_at', '<', sql<Date>`now() - make_interval(days => ${retentionDays})`)
      .orderBy('finished_at')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ accountId: row.account_id, jobId: row.id }));
  }
}
