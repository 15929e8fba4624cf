import { sql, type Kysely } from 'kysely';

/**
 * An alarm's detections (84 rows on average) share their event's part of the search document: the camera and
 * site names, the event's description and its labels. The per-row trigger built it again for every row (3
 * lookups and 3 `to_tsvector` each: 11–30 ms of an alarm's 8-frame insert). That part is now its own function, so
 * an insert can build it once for all its rows and give each row its labels and search document; the insert
 * trigger then runs only for rows inserted without a document, and the update trigger, which the reindexing
 * triggers rely on, on every update as before. `detection_search_document` gives the same document as before:
 * tsvector concatenation shifts the right side's positions by the left side's largest, so A || (B || C || D)
 * equals ((A || B) || C) || D.
 */
/** The event's part of a detection's document (camera and site names, description, labels), as the 20261122T1610 migration wrote it. */
const eventPart = sql.raw(`
  setweight(to_tsvector('english', coalesce((
    SELECT cameras.name || ' ' || sites.name
    FROM cameras JOIN sites ON sites.id = cameras.site_id
    WHERE cameras.id = camera), '')), 'B')
  || setweight(to_tsvector('english', coalesce((
    SELECT jobs.result ->> 'ai_description' FROM jobs WHERE jobs.id = event_id), '')), 'C')
  || setweight(to_tsvector('english', replace(array_to_string(labels, ' '), '_', ' ')), 'C')`);

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE FUNCTION detection_event_document(camera uuid, event_id text, labels text[])
    RETURNS tsvector LANGUAGE sql STABLE AS $$
      SELECT ${eventPart}
    $$
  `.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION detection_search_document(category text, label text, camera uuid, event_id text, labels text[])
    RETURNS tsvector LANGUAGE sql STABLE AS $$
      SELECT setweight(to_tsvector('english', category || ' ' || label), 'A') || detection_event_document(camera, event_id, labels)
    $$
  `.execute(db);
  await sql`DROP TRIGGER detections_index_row ON detections`.execute(db);
  await sql`
    CREATE TRIGGER detections_index_row BEFORE INSERT ON detections
    FOR EACH ROW WHEN (NEW.search = ''::tsvector) EXECUTE FUNCTION detections_index_row()
  `.execute(db);
  await sql`
    CREATE TRIGGER detections_reindex_row BEFORE UPDATE ON detections
    FOR EACH ROW EXECUTE FUNCTION detections_index_row()
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER detections_reindex_row ON detections`.execute(db);
  await sql`DROP TRIGGER detections_index_row ON detections`.execute(db);
  await sql`
    CREATE TRIGGER detections_index_row BEFORE INSERT OR UPDATE ON detections
    FOR EACH ROW EXECUTE FUNCTION detections_index_row()
  `.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION detection_search_document(category text, label text, camera uuid, event_id text, labels text[])
    RETURNS tsvector LANGUAGE sql STABLE AS $$
      SELECT setweight(to_tsvector('english', category || ' ' || label), 'A') || ${eventPart}
    $$
  `.execute(db);
  await sql`DROP FUNCTION detection_event_document(uuid, text, text[])`.execute(db);
}
