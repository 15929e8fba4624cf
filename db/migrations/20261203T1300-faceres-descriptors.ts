import { sql, type Kysely } from 'kysely';

/**
 * Face descriptors of HSE FaceRes (1024 values) instead of the dlib ResNet's (128), which lie in another space:
 * - `face_allowlist_photos.descriptor_model` records the model of each photo's descriptor; photos from before
 *   are the dlib ResNet's and are no longer compared with faces (their people must be enrolled again).
 * - `faces` and `media_faces` take 1024 values from now on; rows from before keep their 128 until their job
 *   is erased (the checks are NOT VALID: they bind new rows only).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE face_allowlist_photos
      DROP CONSTRAINT face_allowlist_photos_descriptor_check,
      ADD COLUMN descriptor_model text NOT NULL DEFAULT 'dlib-resnet-128'
  `.execute(db);
  await sql`ALTER TABLE face_allowlist_photos ALTER COLUMN descriptor_model DROP DEFAULT`.execute(db);
  await sql`
    ALTER TABLE face_allowlist_photos ADD CONSTRAINT face_allowlist_photos_descriptor_check CHECK (
      (descriptor_model = 'dlib-resnet-128' AND cardinality(descriptor) = 128)
      OR (descriptor_model = 'hse-faceres-1024' AND cardinality(descriptor) = 1024)
    )
  `.execute(db);
  await sql`
    ALTER TABLE faces
      DROP CONSTRAINT faces_descriptor_check,
      ADD CONSTRAINT faces_descriptor_check CHECK (cardinality(descriptor) = 1024) NOT VALID
  `.execute(db);
  await sql`
    ALTER TABLE media_faces
      DROP CONSTRAINT media_faces_descriptor_check,
      ADD CONSTRAINT media_faces_descriptor_check CHECK (descriptor IS NULL OR cardinality(descriptor) = 1024) NOT VALID
  `.execute(db);
}

/** Back to 128 values: what FaceRes made cannot be kept. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DELETE FROM face_allowlist_photos WHERE descriptor_model <> 'dlib-resnet-128'`.execute(db);
  await sql`
    ALTER TABLE face_allowlist_photos
      DROP CONSTRAINT face_allowlist_photos_descriptor_check,
      DROP COLUMN descriptor_model,
      ADD CONSTRAINT face_allowlist_photos_descriptor_check CHECK (cardinality(descriptor) = 128)
  `.execute(db);
  await sql`DELETE FROM faces WHERE cardinality(descriptor) <> 128`.execute(db);
  await sql`ALTER TABLE faces DROP CONSTRAINT faces_descriptor_check, ADD CONSTRAINT faces_descriptor_check CHECK (cardinality(descriptor) = 128)`.execute(db);
  await sql`UPDATE media_faces SET descriptor = NULL WHERE cardinality(descriptor) <> 128`.execute(db);
  await sql`
    ALTER TABLE media_faces
      DROP CONSTRAINT media_faces_descriptor_check,
      ADD CONSTRAINT media_faces_descriptor_check CHECK (descriptor IS NULL OR cardinality(descriptor) = 128)
  `.execute(db);
}
