import { sql, type Kysely } from 'kysely';

/**
 * What lets a VMS event be stored in a few statements and tell Temporal only what it must, after the commit:
 * - `vms_incidents.snapshots` numbers an incident's snapshots (the next frame index) without reading its frames;
 *   `snapshots_signalled` is the count when its workflow was last told of new ones and `snapshots_read` the count
 *   its last verification read, so only the first snapshot after a read signals the workflow.
 * - `vms_owed_signals`: a signal a committed event owes a workflow, deleted once sent; what an API killed
 *   between its commit and its signal left behind is sent again by the API's sweep.
 * - `vms_incidents.verification_error`: why the last verification failed, until one succeeds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE vms_incidents
      ADD COLUMN snapshots integer NOT NULL DEFAULT 0,
      ADD COLUMN snapshots_signalled integer NOT NULL DEFAULT 0,
      ADD COLUMN snapshots_read integer NOT NULL DEFAULT 0,
      ADD COLUMN verification_error jsonb
  `.execute(db);
  // Incidents from before: every snapshot counted, and counted as told (their workflows heard of each event).
  await sql`
    UPDATE vms_incidents i SET snapshots = f.n, snapshots_signalled = f.n, snapshots_read = f.n
    FROM (SELECT job_id, max(frame_index) + 1 AS n FROM frames GROUP BY job_id) f
    WHERE f.job_id = i.id
  `.execute(db);

  await sql`
    CREATE TABLE vms_owed_signals (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      -- The incident's id, or the camera's (cameras.id) for its watch.
      subject_id text NOT NULL,
      signal text NOT NULL CHECK (signal IN ('vmsIncidentUpdated', 'vmsIncidentClose', 'vmsCameraHeard')),
      owed_at timestamptz NOT NULL DEFAULT now()
    )
  `.execute(db);
  await sql`CREATE INDEX vms_owed_signals_owed_at ON vms_owed_signals (owed_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE vms_owed_signals`.execute(db);
  await sql`
    ALTER TABLE vms_incidents DROP COLUMN snapshots, DROP COLUMN snapshots_signalled, DROP COLUMN snapshots_read, DROP COLUMN verification_error
  `.execute(db);
}
