import { sql } from 'kysely';
import type { Db } from '../database.js';

export interface CameraRef {
  groupId: string;
  siteId: string;
  zoneId: string;
}

export interface TenancyNames {
  groupName: string | null;
  siteName: string | null;
  zoneName: string | null;
  siteCategory: string;
  siteAddress: string | null;
}

export interface SiteContext {
  siteDbId: string;
  category: string;
  address: string | null;
  /** The zone resolved for the current address, when it was (null: it could not be resolved). */
  cachedTimezone: { timezone: string | null } | null;
}

export type CooldownClaim = { claimed: true } | { claimed: false; retryAfterSeconds: number };

/** Groups, sites and cameras of an account, keyed by the vendor's identifiers. */
export class TenancyRepository {
  constructor(private readonly db: Db) {}

  /**
   * Returns the camera's id, creating whichever of group, site and camera is missing (default names).
   * Inserts never lock existing rows (ON CONFLICT DO NOTHING, then read), and `applySubmission` locks
   * top-down like these inserts, so concurrent submissions and analyses cannot deadlock.
   */
  async ensureCamera(accountId: string, ref: CameraRef, category: string): Promise<string> {
    const existing = await this.findCamera(accountId, ref);
    if (existing) return existing;
    const now = new Date();
    const groupId = await this.insertOrSelect(
      this.db
        .insertInto('user_groups')
        .values({ account_id: accountId, external_id: ref.groupId, name: `group_${ref.groupId}`, updated_at: now })
        .onConflict((oc) => oc.columns(['account_id', 'external_id']).doNothing())
        .returning('id'),
      () => this.db.selectFrom('user_groups').select('id').where('account_id', '=', accountId).where('external_id', '=', ref.groupId),
    );
    const siteId = await this.insertOrSelect(
      this.db
        .insertInto('sites')
        .values({ account_id: accountId, group_id: groupId, external_id: ref.siteId, name: `site_${ref.siteId}`, category, updated_at: now })
        .onConflict((oc) => oc.columns(['group_id', 'external_id']).doNothing())
        .returning('id'),
      () => this.db.selectFrom('sites').select('id').where('group_id', '=', groupId).where('external_id', '=', ref.siteId),
    );
    return this.insertOrSelect(
      this.db
        .insertInto('cameras')
        .values({ account_id: accountId, site_id: siteId, external_id: ref.zoneId, name: `zone_${ref.zoneId}`, updated_at: now })
        .onConflict((oc) => oc.columns(['site_id', 'external_id']).doNothing())
        .returning('id'),
      () => this.db.selectFrom('cameras').select('id').where('site_id', '=', siteId).where('external_id', '=', ref.zoneId),
    );
  }

  private async insertOrSelect(
    insert: { executeTakeFirst(): Promise<{ id: string } | undefined> },
    select: () => { executeTakeFirstOrThrow(): Promise<{ id: string }> },
  ): Promise<string> {
    const inserted = await insert.executeTakeFirst();
    return inserted?.id ?? (await select().executeTakeFirstOrThrow()).id;
  }

  private async findCamera(accountId: string, ref: CameraRef): Promise<string | undefined> {
    return (await cameraIdOf(this.db, accountId, ref).executeTakeFirst())?.id;
  }

  /**
   * Locks the camera's row until the transaction ends, so submissions to one camera take turns: the next one
   * sees what this one committed (its job, its cooldown). Other cameras are not held up.
   */
  async lockCamera(accountId: string, cameraId: string): Promise<void> {
    await this.db.selectFrom('cameras').select('id').where('id', '=', cameraId).where('account_id', '=', accountId).forUpdate().execute();
  }

  /**
   * Takes the camera's cooldown slot. The row lock taken by UPDATE serialises concurrent
   * submissions across API instances: the second one re-reads the committed timestamp and loses.
   */
  async claimCooldown(accountId: string, cameraId: string, cooldownSeconds: number): Promise<CooldownClaim> {
    const claimed = await this.db
      .updateTable('cameras')
      .set({ last_alarm_at: sql`now()` })
      .where('id', '=', cameraId)
      .where('account_id', '=', accountId)
      .where((eb) =>
        eb.or([
          eb('last_alarm_at', 'is', null),
          eb('last_alarm_at', '<=', sql<Date>`now() - make_interval(secs => ${cooldownSeconds})`),
        ]),
      )
      .returning('id')
      .executeTakeFirst();
    if (claimed) return { claimed: true };
    const row = await this.db
      .selectFrom('cameras')
      .select(sql<number>`ceil(extract(epoch from (last_alarm_at + make_interval(secs => ${cooldownSeconds}) - now())))`.as('wait'))
      .where('id', '=', cameraId)
      .executeTakeFirstOrThrow();
    return { claimed: false, retryAfterSeconds: Math.max(1, Number(row.wait)) };
  }

  /**
   * Applies a submission's names, category and address, and returns what analysis needs of the site.
   * Rows are updated group, site, camera: the order in which submissions create them.
   */
  async applySubmission(accountId: string, cameraId: string, names: TenancyNames): Promise<SiteContext> {
    return this.db.transaction().execute(async (trx) => {
      const now = new Date();
      const ids = await trx
        .selectFrom('cameras')
        .innerJoin('sites', 'sites.id', 'cameras.site_id')
        .select(['cameras.site_id', 'sites.group_id'])
        .where('cameras.id', '=', cameraId)
        .where('cameras.account_id', '=', accountId)
        .executeTakeFirstOrThrow();
      await trx
        .updateTable('user_groups')
        .set((eb) => ({ name: names.groupName ?? eb.ref('name'), updated_at: now }))
        .where('id', '=', ids.group_id)
        .where('account_id', '=', accountId)
        .execute();
      const site = await trx
        .updateTable('sites')
        .set((eb) => ({
          name: names.siteName ?? eb.ref('name'),
          category: names.siteCategory,
          address: names.siteAddress ?? eb.ref('address'),
          updated_at: now,
        }))
        .where('id', '=', ids.site_id)
        .where('account_id', '=', accountId)
        .returning(['id', 'category', 'address', 'timezone', 'timezone_address'])
        .executeTakeFirstOrThrow();
      await trx
        .updateTable('cameras')
        .set((eb) => ({ name: names.zoneName ?? eb.ref('name'), updated_at: now }))
        .where('id', '=', cameraId)
        .where('account_id', '=', accountId)
        .execute();
      return {
        siteDbId: site.id,
        category: site.category,
        address: site.address,
        cachedTimezone: site.timezone_address === site.address ? { timezone: site.timezone } : null,
      };
    });
  }

  async cacheTimezone(accountId: string, siteDbId: string, address: string, timezone: string | null): Promise<void> {
    await this.db
      .updateTable('sites')
      .set({ timezone, timezone_address: address })
      .where('id', '=', siteDbId)
      .where('account_id', '=', accountId)
      .execute();
  }
}

/** An account's cameras with their site and group, to match the vendor's group / site / zone ids. */
export function accountCameras(db: Db, accountId: string) {
  return db
    .selectFrom('cameras')
    .innerJoin('sites', 'sites.id', 'cameras.site_id')
    .innerJoin('user_groups', 'user_groups.id', 'sites.group_id')
    .where('cameras.account_id', '=', accountId);
}

/** The database id of the account's camera `ref` (a query, usable as a subquery). */
export function cameraIdOf(db: Db, accountId: string, ref: CameraRef) {
  return accountCameras(db, accountId)
    .select('cameras.id')
    .where('user_groups.external_id', '=', ref.groupId)
    .where('sites.external_id', '=', ref.siteId)
    .where('cameras.external_id', '=', ref.zoneId);
}
