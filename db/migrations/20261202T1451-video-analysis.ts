import { sql, type Kysely } from 'kysely';

/**
 * Video jobs: the per-frame data their analysis builds up, kept in PostgreSQL rather than in workflow
 * history. `video_chunks` records each finished detection chunk (a retry skips it), `video_frames` one row per
 * sampled frame with its detections, `video_motion` the shot cuts and activity of the whole video. Each goes
 * with its job (on delete cascade). Detections may now come from a video: no camera, the clip's duration,
 * codec and size, and the time of the frame that shows the detection best.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('video_chunks')
    .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('chunk_index', 'integer', (c) => c.notNull())
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('start_s', 'real', (c) => c.notNull())
    .addColumn('end_s', 'real', (c) => c.notNull())
    .addColumn('frame_count', 'integer', (c) => c.notNull())
    .addColumn('detection_count', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('video_chunks_pkey', ['job_id', 'chunk_index'])
    .execute();

  await db.schema
    .createTable('video_frames')
    .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('timestamp_s', 'real', (c) => c.notNull())
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('chunk_index', 'integer', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('mean_luma', 'real', (c) => c.notNull())
    .addColumn('detections', 'jsonb', (c) => c.notNull())
    .addPrimaryKeyConstraint('video_frames_pkey', ['job_id', 'timestamp_s'])
    .execute();

  await db.schema
    .createTable('video_motion')
    .addColumn('job_id', 'text', (c) => c.primaryKey().references('jobs.id').onDelete('cascade'))
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('scenes', 'jsonb', (c) => c.notNull())
    .addColumn('activity', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await sql`
    ALTER TABLE detections
      ALTER COLUMN camera_id DROP NOT NULL,
      ADD COLUMN video_timestamp_s real,
      ADD COLUMN video_duration_s real,
      ADD COLUMN video_codec text,
      ADD COLUMN video_bytes bigint
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM detections WHERE camera_id IS NULL`.execute(db);
  await sql`
    ALTER TABLE detections
      DROP COLUMN video_bytes,
      DROP COLUMN video_codec,
      DROP COLUMN video_duration_s,
      DROP COLUMN video_timestamp_s,
      ALTER COLUMN camera_id SET NOT NULL
  `.execute(db);
  for (const table of ['video_motion', 'video_frames', 'video_chunks']) await db.schema.dropTable(table).execute();
}
