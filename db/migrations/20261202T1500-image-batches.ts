import { sql, type Kysely } from 'kysely';

/**
 * The items of image batches: one row per submitted image with its result (tags, people, text) or its error.
 * They go with their job (foreign key, on delete cascade), so erasure and retention need no step of their own.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('image_batch_items')
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('item_index', 'integer', (c) => c.notNull())
    .addColumn('external_id', 'text', (c) => c.notNull())
    // Null for an item refused at submission (it was never stored).
    .addColumn('media_key', 'text')
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('queued', 'finished', 'failed')`))
    .addColumn('tags', 'jsonb')
    .addColumn('person_ids', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('ocr_results', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('error', 'jsonb')
    .addColumn('analysed_at', 'timestamptz')
    .addPrimaryKeyConstraint('image_batch_items_pkey', ['job_id', 'item_index'])
    .addUniqueConstraint('image_batch_items_external_id', ['job_id', 'external_id'])
    .execute();
  await db.schema.createIndex('image_batch_items_account').on('image_batch_items').columns(['account_id', 'job_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('image_batch_items').execute();
}
