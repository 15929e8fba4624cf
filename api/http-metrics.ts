import type { Context, Next } from 'koa';
import type { ApiMetrics } from '../observability/metrics.js';

/** Requests that matched no route share one label: raw paths would grow the series without bound. */
const unmatchedRoute = 'unmatched';

/**
 * Counts and times every request by method, route pattern (`/api/v1/alarms/:job_id`, never the path with
 * its ids) and final status. Runs outside the error envelope, so failures are counted with their status.
 */
export function httpMetrics(metrics: Pick<ApiMetrics, 'httpRequests' | 'httpRequestDuration'>) {
  return async (ctx: Context, next: Next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
      const labels = { method: ctx.method, route: typeof matched === 'string' ? matched : unmatchedRoute, status: String(ctx.status) };
      metrics.httpRequests.inc(labels);
      metrics.httpRequestDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}
