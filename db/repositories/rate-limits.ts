import { sql } from 'kysely';
import type { Db } from '../database.js';

export interface RateLimit {
  /** Sustained rate. */
  perMinute: number;
  /** Requests that may arrive back to back before the sustained rate applies. */
  burst: number;
}

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Token buckets in PostgreSQL, so every API instance enforces the same limit. GCRA keeps one timestamp
 * per key, the theoretical arrival time: each request pushes it one emission interval (60 s / rate)
 * later, and a request is refused while it lies more than burst − 1 intervals ahead of now. The upsert
 * takes the row lock, so concurrent requests on different instances queue on it; PostgreSQL's clock
 * is the only one used.
 */
export class RateLimitRepository {
  constructor(private readonly db: Db) {}

  async consume(key: string, limit: RateLimit): Promise<RateLimitDecision> {
    const interval = 60 / limit.perMinute;
    const tolerance = interval * (limit.burst - 1);
    const taken = await this.db
      .insertInto('rate_limits')
      .values({ key, theoretical_arrival: sql`now() + make_interval(secs => ${interval})` })
      .onConflict((oc) =>
        oc
          .column('key')
          .doUpdateSet({ theoretical_arrival: sql`greatest(rate_limits.theoretical_arrival, now()) + make_interval(secs => ${interval})` })
          .where(sql<boolean>`greatest(rate_limits.theoretical_arrival, now()) <= now() + make_interval(secs => ${tolerance})`),
      )
      .returning('key')
      .executeTakeFirst();
    if (taken) return { allowed: true };
    const row = await this.db
      .selectFrom('rate_limits')
      .select(sql<number>`extract(epoch from (theoretical_arrival - now())) - ${tolerance}`.as('wait'))
      .where('key', '=', key)
      .executeTakeFirstOrThrow();
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(Number(row.wait))) };
  }
}
