import { sql, type Kysely } from 'kysely';

/**
 * Faces: the per-account privacy switch (off until an operator turns it on), the faces found in a job's
 * media with their descriptors (erased with the job), and the account's allowlist of people, each with
 * the descriptors of their photos (the photos themselves are not kept).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('accounts').addColumn('face_analysis', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
  await db.schema
    .createTable('faces')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('media_key', 'text', (c) => c.notNull())
    .addColumn('box', sql`real[]`, (c) => c.notNull().check(sql`cardinality(box) = 4`))
    .addColumn('score', 'real', (c) => c.notNull())
    .addColumn('age', 'real', (c) => c.notNull())
    .addColumn('gender', 'text', (c) => c.notNull().check(sql`gender in ('male', 'female', 'unidentified')`))
    .addColumn('descriptor', sql`real[]`, (c) => c.notNull().check(sql`cardinality(descriptor) = 128`))
    .addColumn('thumbnail', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('faces_job_idx').on('faces').columns(['account_id', 'job_id']).execute();
  await db.schema
    .createTable('face_allowlist')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('face_allowlist_account_idx').on('face_allowlist').columns(['account_id', 'created_at']).execute();
  await db.schema
    .createTable('face_allowlist_photos')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('entry_id', 'uuid', (c) => c.notNull().references('face_allowlist.id').onDelete('cascade'))
    .addColumn('descriptor', sql`real[]`, (c) => c.notNull().check(sql`cardinality(descriptor) = 128`))
    .execute();
  await db.schema.createIndex('face_allowlist_photos_account_idx').on('face_allowlist_photos').columns(['account_id', 'entry_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('face_allowlist_photos').execute();
  await db.schema.dropTable('face_allowlist').execute();
  await db.schema.dropTable('faces').execute();
  await db.schema.alterTable('accounts').dropColumn('face_analysis').execute();
}
