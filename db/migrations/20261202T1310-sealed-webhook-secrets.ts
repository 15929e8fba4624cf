import { sql, type Kysely } from 'kysely';

/**
 * Webhook secrets are sealed at rest (domain/secret-keyring.ts): `secret_key_id` names the key that sealed
 * `secret`. Migrations run without the keys, so the secrets stored before stay plain text, marked by having no
 * key id, until the next start of an analysis worker (or `npm run vigil -- secrets rotate`) seals them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE webhook_targets ADD COLUMN secret_key_id text`.execute(db);
}

/** Sealed secrets cannot be opened here: their targets keep their URLs and lose their secrets. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`UPDATE webhook_targets SET secret = NULL WHERE secret_key_id IS NOT NULL`.execute(db);
  await sql`ALTER TABLE webhook_targets DROP COLUMN secret_key_id`.execute(db);
}
