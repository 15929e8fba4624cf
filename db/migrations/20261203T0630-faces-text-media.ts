import { sql, type Kysely } from 'kysely';

/**
 * Faces and text read in a job's media (a video's sampled frames, a batch's images), kept while the
 * result is built and erased with the job. `part_index` is the video's chunk or the batch's item, so a
 * retried step replaces its own rows. A face's descriptor and thumbnail are null when the account's face
 * analysis was off.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('media_faces')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('part_index', 'integer', (c) => c.notNull())
    .addColumn('timestamp_s', 'real', (c) => c.notNull())
    .addColumn('frame_width', 'integer', (c) => c.notNull())
    .addColumn('frame_height', 'integer', (c) => c.notNull())
    .addColumn('box', sql`real[]`, (c) => c.notNull().check(sql`cardinality(box) = 4`))
    .addColumn('score', 'real', (c) => c.notNull())
    .addColumn('age', 'real', (c) => c.notNull())
    .addColumn('gender', 'text', (c) => c.notNull().check(sql`gender in ('male', 'female', 'unidentified')`))
    .addColumn('descriptor', sql`real[]`, (c) => c.check(sql`descriptor is null or cardinality(descriptor) = 128`))
    .addColumn('thumbnail', 'bytea')
    .execute();
  await db.schema.createIndex('media_faces_job_idx').on('media_faces').columns(['account_id', 'job_id', 'part_index']).execute();
  await db.schema
    .createTable('media_text_lines')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('part_index', 'integer', (c) => c.notNull())
    .addColumn('timestamp_s', 'real', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('confidence', 'real', (c) => c.notNull())
    .addColumn('box', sql`real[]`, (c) => c.notNull().check(sql`cardinality(box) = 4`))
    .execute();
  await db.schema.createIndex('media_text_lines_job_idx').on('media_text_lines').columns(['account_id', 'job_id', 'part_index']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('media_text_lines').execute();
  await db.schema.dropTable('media_faces').execute();
}
