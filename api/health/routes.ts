import { Router } from '@koa/router';
import { sql } from 'kysely';
import type { Client } from '@temporalio/client';
import type { Db } from '../../db/database.js';
import type { MediaStore } from '../../media/store.js';
import { envelope } from '../errors.js';

const checkDeadlineMs = 2000;

/** `/healthz`: the process answers. `/readyz`: PostgreSQL, Temporal and the media store answer too. */
export function healthRoutes(deps: { db: Db; temporal: Client; media: MediaStore }): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.body = envelope({ status: 'ok' });
  });
  router.get('/readyz', async (ctx) => {
    const [database, temporal, media] = await Promise.all([
      probe(() => sql`select 1`.execute(deps.db)),
      probe(() => deps.temporal.withDeadline(Date.now() + checkDeadlineMs, () => deps.temporal.workflowService.getSystemInfo({}))),
      probe(() => deps.media.check()),
    ]);
    const ready = database === 'ok' && temporal === 'ok' && media === 'ok';
    ctx.status = ready ? 200 : 503;
    ctx.body = ready
      ? envelope({ status: 'ready', database, temporal, media })
      : { success: false, error: { code: 'SERVICE_UNAVAILABLE', message: 'A dependency is not reachable.' }, data: { status: 'not_ready', database, temporal, media } };
  });
  return router;
}

async function probe(check: () => Promise<unknown>): Promise<'ok' | 'unreachable'> {
  try {
    await Promise.race([check(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), checkDeadlineMs).unref())]);
    return 'ok';
  } catch {
    return 'unreachable';
  }
}
