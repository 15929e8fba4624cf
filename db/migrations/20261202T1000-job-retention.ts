import { sql, type Kysely } from 'kysely';

/** The retention sweep's question, which ended jobs ended before a time, answered from an index. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX jobs_ended_finished_idx ON jobs (finished_at) WHERE status IN ('finished', 'failed', 'cancelled')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX IF EXISTS jobs_ended_finished_idx`.execute(db);
}
