import { sql, type Kysely } from 'kysely';

/**
 * The detections API: detections created in bulk (no job or frame behind them), a detection
 * time kept to the millisecond so cursors round-trip exactly through JavaScript dates, event labels,
 * a search document that also covers camera and site names and the event's decision text, and the
 * PostgreSQL-held token buckets of the API rate limits.
 *
 * A generated column cannot read other tables, so `labels` and `search` are kept by triggers: on the
 * detection itself, and on the job, camera and site rows whose text they copy.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE detections
      ALTER COLUMN job_id DROP NOT NULL,
      ALTER COLUMN frame_id DROP NOT NULL,
      ADD COLUMN detected_at timestamptz(3) NOT NULL DEFAULT now(),
      ADD COLUMN media_type text NOT NULL DEFAULT 'image' CHECK (media_type IN ('image', 'video')),
      ADD COLUMN file_path text,
      ADD COLUMN file_type text,
      ADD COLUMN labels text[] NOT NULL DEFAULT '{}',
      DROP COLUMN search,
      ADD COLUMN search tsvector NOT NULL DEFAULT ''::tsvector
  `.execute(db);
  await sql`UPDATE detections SET detected_at = created_at`.execute(db);

  // An alarm detection's labels are its event's decision indicators; a bulk detection keeps the labels it was given.
  await sql`
    CREATE FUNCTION detection_event_labels(event_id text) RETURNS text[] LANGUAGE sql STABLE AS $$
      SELECT coalesce(array_agg(DISTINCT indicator ORDER BY indicator), '{}')
      FROM jobs, jsonb_array_elements_text(coalesce(jobs.result -> 'ai_decision_indicators', '[]')) AS indicator
      WHERE jobs.id = event_id
    $$
  `.execute(db);

  // Weights rank an object-type match (A) above a camera or site name (B) above the event's text (C).
  await sql`
    CREATE FUNCTION detection_search_document(category text, label text, camera uuid, event_id text, labels text[])
    RETURNS tsvector LANGUAGE sql STABLE AS $$
      SELECT setweight(to_tsvector('english', category || ' ' || label), 'A')
        || setweight(to_tsvector('english', coalesce((
             SELECT cameras.name || ' ' || sites.name
             FROM cameras JOIN sites ON sites.id = cameras.site_id
             WHERE cameras.id = camera), '')), 'B')
        || setweight(to_tsvector('english', coalesce((
             SELECT jobs.result ->> 'ai_description' FROM jobs WHERE jobs.id = event_id), '')), 'C')
        || setweight(to_tsvector('english', replace(array_to_string(labels, ' '), '_', ' ')), 'C')
    $$
  `.execute(db);

  await sql`
    CREATE FUNCTION detections_index_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.job_id IS NOT NULL THEN
        NEW.labels := detection_event_labels(NEW.job_id);
      END IF;
      NEW.search := detection_search_document(NEW.category, NEW.label, NEW.camera_id, NEW.job_id, NEW.labels);
      RETURN NEW;
    END
    $$
  `.execute(db);
  await sql`
    CREATE TRIGGER detections_index_row BEFORE INSERT OR UPDATE ON detections
    FOR EACH ROW EXECUTE FUNCTION detections_index_row()
  `.execute(db);

  // Touching a row re-runs detections_index_row, which rebuilds its labels and search document.
  await sql`
    CREATE FUNCTION detections_reindex_job() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE detections SET labels = labels WHERE job_id = NEW.id;
      RETURN NULL;
    END
    $$
  `.execute(db);
  await sql`
    CREATE TRIGGER detections_reindex_job AFTER UPDATE OF result ON jobs
    FOR EACH ROW WHEN (OLD.result IS DISTINCT FROM NEW.result) EXECUTE FUNCTION detections_reindex_job()
  `.execute(db);

  await sql`
    CREATE FUNCTION detections_reindex_camera() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE detections SET labels = labels WHERE camera_id = NEW.id;
      RETURN NULL;
    END
    $$
  `.execute(db);
  await sql`
    CREATE TRIGGER detections_reindex_camera AFTER UPDATE OF name ON cameras
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION detections_reindex_camera()
  `.execute(db);

  await sql`
    CREATE FUNCTION detections_reindex_site() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE detections SET labels = labels WHERE camera_id IN (SELECT id FROM cameras WHERE site_id = NEW.id);
      RETURN NULL;
    END
    $$
  `.execute(db);
  await sql`
    CREATE TRIGGER detections_reindex_site AFTER UPDATE OF name ON sites
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION detections_reindex_site()
  `.execute(db);

  // Existing rows get their labels and search document.
  await sql`UPDATE detections SET labels = labels`.execute(db);

  // Only kept detections are served, newest first with the id as tie-breaker: the cursor order.
  await sql`CREATE INDEX detections_account_detected_idx ON detections (account_id, detected_at DESC, id DESC) WHERE kept`.execute(db);
  await sql`CREATE INDEX detections_camera_detected_idx ON detections (camera_id, detected_at DESC, id DESC) WHERE kept`.execute(db);
  await sql`CREATE INDEX detections_search_idx ON detections USING gin (search) WHERE kept`.execute(db);
  await sql`CREATE INDEX detections_labels_idx ON detections USING gin (labels) WHERE kept`.execute(db);

  await db.schema
    .createTable('rate_limits')
    .addColumn('key', 'text', (c) => c.primaryKey())
    /** The token bucket as GCRA keeps it: when the bucket would be full again. */
    .addColumn('theoretical_arrival', 'timestamptz', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('rate_limits').ifExists().execute();
  await sql`DROP TRIGGER IF EXISTS detections_reindex_site ON sites`.execute(db);
  await sql`DROP TRIGGER IF EXISTS detections_reindex_camera ON cameras`.execute(db);
  await sql`DROP TRIGGER IF EXISTS detections_reindex_job ON jobs`.execute(db);
  await sql`DROP TRIGGER IF EXISTS detections_index_row ON detections`.execute(db);
  for (const fn of ['detections_reindex_site()', 'detections_reindex_camera()', 'detections_reindex_job()', 'detections_index_row()',
    'detection_search_document(text, text, uuid, text, text[])', 'detection_event_labels(text)']) {
    await sql.raw(`DROP FUNCTION IF EXISTS ${fn}`).execute(db);
  }
  await sql`DELETE FROM detections WHERE job_id IS NULL`.execute(db);
  await sql`
    ALTER TABLE detections
      DROP COLUMN search,
      DROP COLUMN labels,
      DROP COLUMN file_type,
      DROP COLUMN file_path,
      DROP COLUMN media_type,
      DROP COLUMN detected_at,
      ALTER COLUMN job_id SET NOT NULL,
      ALTER COLUMN frame_id SET NOT NULL,
      ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', category || ' ' || label)) STORED
  `.execute(db);
  await sql`CREATE INDEX detections_search_idx ON detections USING gin (search)`.execute(db);
}
