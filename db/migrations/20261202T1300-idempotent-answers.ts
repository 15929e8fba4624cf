import { sql, type Kysely } from 'kysely';

/**
 * `Idempotency-Key` claims of requests that create no job (bulk detection creation): such a claim keeps the
 * answer the request was given instead of naming a job.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE idempotency_keys
      ALTER COLUMN job_id DROP NOT NULL,
      ADD COLUMN answer jsonb,
      ADD CONSTRAINT idempotency_keys_job_or_answer CHECK ((job_id IS NULL) <> (answer IS NULL))
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM idempotency_keys WHERE job_id IS NULL`.execute(db);
  await sql`
    ALTER TABLE idempotency_keys
      DROP CONSTRAINT idempotency_keys_job_or_answer,
      DROP COLUMN answer,
      ALTER COLUMN job_id SET NOT NULL
  `.execute(db);
}
