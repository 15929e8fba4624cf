import { sql } from 'kysely';
import type { JobKind } from '../../domain/job-kinds.js';
import type { Db } from '../database.js';

export interface LatencyWindow {
  /** Jobs that finished within this many hours. */
  hours: number;
  /** At most this many of them, the most recent. */
  maxJobs: number;
}

export interface UnitLatency {
  /** Jobs measured. */
  jobs: number;
  /** Units (images, seconds of video) those jobs held. */
  units: number;
  /** Their processing time over their units, in milliseconds; null without jobs. */
  msPerUnit: number | null;
  /** 95th percentile of the jobs' own milliseconds per unit; null without jobs. */
  p95MsPerUnit: number | null;
}

/**
 * Processing latency per unit of the account's recently finished jobs of one kind. A job's processing time runs
 * from its start (`started_at`, or `created_at` when it never recorded one) to `finished_at`; its unit count is
 * the number at `request -> unitField` (e.g. `image_count` for image batches, `duration_s` for videos). Jobs
 * without a positive number there are left out.
 */
export class LatencyRepository {
  constructor(private readonly db: Db) {}

  async perUnit(accountId: string, kind: JobKind, unitField: string, window: LatencyWindow): Promise<UnitLatency> {
    const { rows } = await sql<{ jobs: string; units: number | null; ms_per_unit: number | null; p95: number | null }>`
      with finished as (
        select extract(epoch from (finished_at - coalesce(started_at, created_at))) * 1000 as ms,
               case when jsonb_typeof(request -> ${unitField}) = 'number' then (request ->> ${unitField})::float8 end as units,
               finished_at
          from jobs
         where account_id = ${accountId}
           and kind = ${kind}
           and status = 'finished'
           and finished_at > now() - make_interval(hours => ${window.hours})
      ), recent as (
        select ms, units from finished where units > 0 order by finished_at desc limit ${window.maxJobs}
      )
      select count(*) as jobs,
             sum(units) as units,
             sum(ms) / nullif(sum(units), 0) as ms_per_unit,
             percentile_cont(0.95) within group (order by ms / units) as p95
        from recent`.execute(this.db);
    const row = rows[0]!;
    return { jobs: Number(row.jobs), units: row.units ?? 0, msPerUnit: row.ms_per_unit, p95MsPerUnit: row.p95 };
  }
}
