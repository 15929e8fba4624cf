import { sql } from 'kysely';
import type { RiskThresholds } from '../../domain/classification/risk.js';
import type { Db } from '../database.js';

/** The account's row has camera_id ''. */
const accountWide = '';

/** Risk thresholds set by an operator for an account and for its cameras. */
export class ClassificationThresholdRepository {
  constructor(private readonly db: Db) {}

  /** Sets the account's thresholds, or one camera's when `cameraId` is given. */
  async set(accountId: string, cameraId: string | undefined, thresholds: RiskThresholds): Promise<void> {
    await this.db
      .insertInto('classification_thresholds')
      .values({ account_id: accountId, camera_id: cameraId ?? accountWide, low: thresholds.low, high: thresholds.high })
      .onConflict((oc) => oc.columns(['account_id', 'camera_id']).doUpdateSet({ low: thresholds.low, high: thresholds.high, updated_at: sql`now()` }))
      .execute();
  }

  /** Removes the account's thresholds, or one camera's; returns whether there were any. */
  async clear(accountId: string, cameraId: string | undefined): Promise<boolean> {
    const result = await this.db
      .deleteFrom('classification_thresholds')
      .where('account_id', '=', accountId)
      .where('camera_id', '=', cameraId ?? accountWide)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /** The account's thresholds and, for a camera, that camera's; each undefined when not set. */
  async find(accountId: string, cameraId: string | null): Promise<{ account?: RiskThresholds; camera?: RiskThresholds }> {
    const rows = await this.db
      .selectFrom('classification_thresholds')
      .select(['camera_id', 'low', 'high'])
      .where('account_id', '=', accountId)
      .where('camera_id', 'in', cameraId ? [accountWide, cameraId] : [accountWide])
      .execute();
    const of = (id: string) => {
      const row = rows.find((r) => r.camera_id === id);
      return row ? { low: row.low, high: row.high } : undefined;
    };
    return { account: of(accountWide), camera: cameraId ? of(cameraId) : undefined };
  }
}
