import { Router } from '@koa/router';
import type { Db } from '../../db/database.js';
import type { AccountRepository } from '../../db/repositories/accounts.js';
import { LatencyRepository, type LatencyWindow } from '../../db/repositories/latency.js';
import type { JobKind } from '../../domain/job-kinds.js';
import { authenticateRequest } from '../auth.js';
import { parseInput } from '../validate.js';
import { latencyQuery } from './schema.js';

export interface LatencyRouteDeps {
  db: Db;
  accounts: AccountRepository;
  window: LatencyWindow;
}

/**
 * What each media type measures: the job kind, its unit, and where a job's request JSON holds its unit count
 * (an image batch's `image_count`, set at submission; a video's `duration_s`, set once it is probed).
 */
const measured: Record<'image' | 'video', { kind: JobKind; unit: 'image' | 'second'; unitField: string }> = {
  image: { kind: 'image_batch', unit: 'image', unitField: 'image_count' },
  video: { kind: 'video', unit: 'second', unitField: 'duration_s' },
};

const round1 = (value: number | null) => (value === null ? null : Math.round(value * 10) / 10);

export function latencyRoutes(deps: LatencyRouteDeps): Router {
  const router = new Router({ prefix: '/api/v1/latency' });
  const latency = new LatencyRepository(deps.db);

  router.get('/', async (ctx) => {
    const auth = await authenticateRequest(deps.accounts, ctx);
    const { media_type } = parseInput(latencyQuery, ctx.query);
    const { kind, unit, unitField } = measured[media_type];
    const found = await latency.perUnit(auth.accountId, kind, unitField, deps.window);
    ctx.body = {
      media_type,
      unit,
      latency_ms_per_unit: round1(found.msPerUnit),
      p95: round1(found.p95MsPerUnit),
      sample_size: found.jobs,
      units: found.units,
      window_hours: deps.window.hours,
    };
  });

  return router;
}
