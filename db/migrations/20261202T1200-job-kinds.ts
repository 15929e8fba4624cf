import { sql, type Kysely } from 'kysely';

/**
 * Jobs of every kind: `kind` (every existing row is an alarm), camera and vendor event optional for kinds
 * that have neither, and `Idempotency-Key` claims per account.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('jobs')
    .addColumn('kind', 'text', (c) =>
      c.notNull().defaultTo('alarm').check(sql`kind in ('alarm', 'video', 'image_batch', 'classification', 'vms_incident')`),
    )
    .execute();
  // The default only filled the existing rows: every new job names its kind.
  await db.schema.alterTable('jobs').alterColumn('kind', (c) => c.dropDefault()).execute();
  await db.schema.alterTable('jobs').alterColumn('camera_id', (c) => c.dropNotNull()).execute();
  await db.schema.alterTable('jobs').alterColumn('vendor_event_id', (c) => c.dropNotNull()).execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('idempotency_keys_pkey', ['account_id', 'key'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('idempotency_keys').execute();
  await sql`delete from jobs where kind <> 'alarm'`.execute(db);
  await db.schema.alterTable('jobs').alterColumn('vendor_event_id', (c) => c.setNotNull()).execute();
  await db.schema.alterTable('jobs').alterColumn('camera_id', (c) => c.setNotNull()).execute();
  await db.schema.alterTable('jobs').dropColumn('kind').execute();
}
