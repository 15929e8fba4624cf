import { sql, type Kysely } from 'kysely';

/**
 * Detections get the integer id the detections API shows (`public_id`, an identity column), numbered in
 * the order they were stored. The uuid stays the row's key: the images drawn for a detection are stored
 * under it, so every existing row keeps its thumbnails and overlays. The cursor order becomes
 * (detected_at, public_id), and the answers kept for `Idempotency-Key` replays of bulk creation name the
 * same detections by their new ids.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE detections ADD COLUMN public_id bigint`.execute(db);
  // Numbering touches every row; its labels and search document do not change, so the indexing trigger rests.
  await sql`ALTER TABLE detections DISABLE TRIGGER detections_index_row`.execute(db);
  await sql`
    UPDATE detections SET public_id = numbered.n
    FROM (SELECT id, row_number() OVER (ORDER BY created_at, detected_at, id) AS n FROM detections) AS numbered
    WHERE detections.id = numbered.id
  `.execute(db);
  await sql`ALTER TABLE detections ENABLE TRIGGER detections_index_row`.execute(db);
  await sql`ALTER TABLE detections ALTER COLUMN public_id SET NOT NULL`.execute(db);
  await sql`ALTER TABLE detections ALTER COLUMN public_id ADD GENERATED ALWAYS AS IDENTITY`.execute(db);
  await sql`SELECT setval(pg_get_serial_sequence('detections', 'public_id'), coalesce(max(public_id), 0) + 1, false) FROM detections`.execute(db);
  await sql`ALTER TABLE detections ADD CONSTRAINT detections_public_id_key UNIQUE (public_id)`.execute(db);

  await sql`DROP INDEX detections_account_detected_idx`.execute(db);
  await sql`DROP INDEX detections_camera_detected_idx`.execute(db);
  await sql`CREATE INDEX detections_account_detected_idx ON detections (account_id, detected_at DESC, public_id DESC) WHERE kept`.execute(db);
  await sql`CREATE INDEX detections_camera_detected_idx ON detections (camera_id, detected_at DESC, public_id DESC) WHERE kept`.execute(db);

  await renameAnsweredIds(db, sql`to_jsonb(d.public_id)`, sql`d.id::text = item ->> 'id'`);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await renameAnsweredIds(db, sql`to_jsonb(d.id::text)`, sql`d.public_id::text = item ->> 'id'`);
  await sql`DROP INDEX detections_account_detected_idx`.execute(db);
  await sql`DROP INDEX detections_camera_detected_idx`.execute(db);
  await sql`CREATE INDEX detections_account_detected_idx ON detections (account_id, detected_at DESC, id DESC) WHERE kept`.execute(db);
  await sql`CREATE INDEX detections_camera_detected_idx ON detections (camera_id, detected_at DESC, id DESC) WHERE kept`.execute(db);
  await sql`ALTER TABLE detections DROP COLUMN public_id`.execute(db);
}

/**
 * Bulk-creation answers are arrays of `{"id"}` (created) or `{"invalid"}` / `{"cameraNotFound"}` items: each
 * `id` becomes `newId` of the detection `match` finds; a detection deleted since keeps the id it had.
 */
async function renameAnsweredIds(db: Kysely<unknown>, newId: ReturnType<typeof sql>, match: ReturnType<typeof sql>): Promise<void> {
  await sql`
    UPDATE idempotency_keys SET answer = (
      SELECT jsonb_agg(
        CASE WHEN item ? 'id' THEN jsonb_set(item, '{id}', coalesce((SELECT ${newId} FROM detections d WHERE ${match}), item -> 'id')) ELSE item END
        ORDER BY position)
      FROM jsonb_array_elements(answer) WITH ORDINALITY AS items(item, position)
    )
    WHERE answer IS NOT NULL AND jsonb_typeof(answer) = 'array' AND jsonb_array_length(answer) > 0
  `.execute(db);
}
