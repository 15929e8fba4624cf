import { sql } from 'kysely';
import { endedJobStatuses } from '../../domain/job-kinds.js';
import type { Db } from '../database.js';
import type { ClassificationResult } from '../schema.js';

/** What only classification jobs store. */
export class ClassificationRepository {
  constructor(private readonly db: Db) {}

  /** Stores the result and ends the job finished; a job that has already ended (cancelled, erased) stays as it is. */
  async finish(accountId: string, jobId: string, result: ClassificationResult): Promise<boolean> {
    const updated = await this.db
      .updateTable('jobs')
      .set({ status: 'finished', stage: 'finished', result: JSON.stringify(result), finished_at: sql`now()` })
      .where('account_id', '=', accountId)
      .where('id', '=', jobId)
      .where('kind', '=', 'classification')
      .where('status', 'not in', endedJobStatuses)
      .executeTakeFirst();
    return updated.numUpdatedRows > 0n;
  }
}
