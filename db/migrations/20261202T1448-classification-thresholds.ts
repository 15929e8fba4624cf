import { sql, type Kysely } from 'kysely';

/**
 * Risk thresholds of clip classifications (`low`, `high`) an operator sets for an account (`camera_id` '') or for
 * one of its cameras, as the classification request names it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('classification_thresholds')
    .addColumn('account_id', 'uuid', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
    .addColumn('camera_id', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('low', 'real', (c) => c.notNull())
    .addColumn('high', 'real', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('classification_thresholds_pkey', ['account_id', 'camera_id'])
    .addCheckConstraint('classification_thresholds_range', sql`0 <= low AND low <= high AND high <= 1`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('classification_thresholds').execute();
}
