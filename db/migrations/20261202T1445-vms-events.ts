import { sql, type Kysely } from 'kysely';

/**
 * VMS events (Ultinous AI Suite schema): the events as received, de-duplicated by their id; incidents (one
 * `vms_incident` job each) and the events that opened or joined them; the VMS's cameras beside the account's
 * cameras; snapshots that arrived before their event; the header an account's VMS sends its token in.
 * (Where confirmed incidents are forwarded is a webhook target of the account, see activities/vms.ts.)
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE accounts ADD COLUMN vms_token_header text`.execute(db);

  await sql`
    CREATE TABLE vms_cameras (
      camera_id uuid PRIMARY KEY REFERENCES cameras(id) ON DELETE CASCADE,
      account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      vms_camera_id text NOT NULL,
      technical_name text NOT NULL,
      display_name text NOT NULL,
      last_seen_at timestamptz NOT NULL,
      status text NOT NULL DEFAULT 'online' CHECK (status IN ('online', 'offline')),
      status_changed_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (account_id, vms_camera_id)
    )
  `.execute(db);

  await sql`
    CREATE TABLE vms_events (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      event_id text NOT NULL,
      type text NOT NULL,
      display_name text NOT NULL,
      config_id text NOT NULL,
      end_of_event boolean NOT NULL,
      event_time timestamptz,
      payload jsonb NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (account_id, event_id)
    )
  `.execute(db);

  await sql`
    CREATE TABLE vms_incidents (
      id text PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,
      account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      camera_id uuid NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
      vms_camera_id text NOT NULL,
      config_id text NOT NULL,
      type text NOT NULL,
      display_name text NOT NULL,
      status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
      verdict text NOT NULL DEFAULT 'pending' CHECK (verdict IN ('pending', 'real', 'suppressed', 'unverified')),
      -- Millisecond precision: a page cursor holding it round-trips through a JavaScript Date.
      opened_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
      last_event_at timestamptz NOT NULL DEFAULT now(),
      verified_at timestamptz,
      verified_frames integer NOT NULL DEFAULT 0,
      closed_at timestamptz
    )
  `.execute(db);
  // One open incident per key; a closed one makes room for the next.
  await sql`
    CREATE UNIQUE INDEX vms_incidents_open_key ON vms_incidents (account_id, camera_id, config_id, type) WHERE status = 'open'
  `.execute(db);
  await sql`CREATE INDEX vms_incidents_account_opened ON vms_incidents (account_id, opened_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX vms_incidents_closing ON vms_incidents (account_id, display_name, type) WHERE status = 'open'`.execute(db);

  await sql`
    CREATE TABLE vms_incident_events (
      incident_id text NOT NULL REFERENCES vms_incidents(id) ON DELETE CASCADE,
      event_id uuid NOT NULL REFERENCES vms_events(id) ON DELETE CASCADE,
      account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      technical_name text NOT NULL,
      frame_timestamp timestamptz,
      width integer,
      height integer,
      vms_detections jsonb NOT NULL,
      frame_index integer,
      PRIMARY KEY (incident_id, event_id)
    )
  `.execute(db);

  await sql`
    CREATE TABLE vms_pending_snapshots (
      account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      event_id text NOT NULL,
      technical_name text NOT NULL,
      media_key text NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_id, event_id, technical_name)
    )
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE vms_pending_snapshots, vms_incident_events, vms_incidents, vms_events, vms_cameras`.execute(db);
  await sql`DELETE FROM jobs WHERE kind = 'vms_incident'`.execute(db);
  await sql`ALTER TABLE accounts DROP COLUMN vms_token_header`.execute(db);
}
