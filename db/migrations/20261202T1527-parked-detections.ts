import { sql, type Kysely } from 'kysely';

/**
 * A parked vehicle is set aside from the decision but was really seen: `parked` marks it, and the
 * detections API serves kept and parked detections alike (its indexes cover both). Detections the
 * stationary-vehicle filter set aside before are marked, and the alarms that saw only parked vehicles
 * now say `has_vehicle: true`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE detections ADD COLUMN parked boolean NOT NULL DEFAULT false`.execute(db);
  await sql`ALTER TABLE detections DISABLE TRIGGER detections_index_row`.execute(db);
  await sql`UPDATE detections SET parked = true WHERE filtered_by = 'filtered_stationary_vehicle'`.execute(db);
  await sql`ALTER TABLE detections ENABLE TRIGGER detections_index_row`.execute(db);
  await sql`
    UPDATE jobs SET result = jsonb_set(result, '{has_vehicle}', 'true')
    WHERE kind = 'alarm' AND result IS NOT NULL AND (result ->> 'has_vehicle') = 'false'
      AND EXISTS (SELECT 1 FROM detections d WHERE d.job_id = jobs.id AND d.parked AND d.category = 'vehicle')
  `.execute(db);
  await servedIndexes(db, 'kept OR parked');
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await servedIndexes(db, 'kept');
  await sql`ALTER TABLE detections DROP COLUMN parked`.execute(db);
}

/** The detections API's indexes, over the rows it serves. */
async function servedIndexes(db: Kysely<unknown>, served: string): Promise<void> {
  for (const name of ['detections_account_detected_idx', 'detections_camera_detected_idx', 'detections_search_idx', 'detections_labels_idx']) {
    await sql`DROP INDEX ${sql.raw(name)}`.execute(db);
  }
  const where = sql.raw(`WHERE ${served}`);
  await sql`CREATE INDEX detections_account_detected_idx ON detections (account_id, detected_at DESC, public_id DESC) ${where}`.execute(db);
  await sql`CREATE INDEX detections_camera_detected_idx ON detections (camera_id, detected_at DESC, public_id DESC) ${where}`.execute(db);
  await sql`CREATE INDEX detections_search_idx ON detections USING gin (search) ${where}`.execute(db);
  await sql`CREATE INDEX detections_labels_idx ON detections USING gin (labels) ${where}`.execute(db);
}
