import { sql } from 'kysely';
import type { Db } from '../database.js';

export type ExportLockClaim = { claimed: true } | { claimed: false; retryAfterSeconds: number };

/** The per token + job export lock. */
export class ExportLockRepository {
  constructor(private readonly db: Db) {}

  async claim(tokenId: string, jobId: string, lockSeconds: number): Promise<ExportLockClaim> {
    const claimed = await this.db
      .insertInto('export_locks')
      .values({ token_id: tokenId, job_id: jobId, locked_until: sql`now() + make_interval(secs => ${lockSeconds})` })
      .onConflict((oc) =>
        oc
          .columns(['token_id', 'job_id'])
          .doUpdateSet({ locked_until: sql`now() + make_interval(secs => ${lockSeconds})` })
          .where('export_locks.locked_until', '<=', sql<Date>`now()`),
      )
      .returning('job_id')
      .executeTakeFirst();
    if (claimed) return { claimed: true };
    return { claimed: false, retryAfterSeconds: (await this.secondsLeft(tokenId, jobId)) ?? 1 };
  }

  /** Seconds until the token may export the job again; undefined when it may now. Takes nothing. */
  async secondsLeft(tokenId: string, jobId: string): Promise<number | undefined> {
    const row = await this.db
      .selectFrom('export_locks')
      .select(sql<number>`ceil(extract(epoch from (locked_until - now())))`.as('wait'))
      .where('token_id', '=', tokenId)
      .where('job_id', '=', jobId)
      .where('locked_until', '>', sql<Date>`now()`)
      .executeTakeFirst();
    return row && Math.max(1, Number(row.wait));
  }
}
