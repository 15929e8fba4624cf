import { Router } from '@koa/router';
import type { Registry } from 'prom-client';

/** `GET /metrics`: this API process's registry in the Prometheus text format. */
export function metricsRoutes(registry: Registry): Router {
  const router = new Router();
  router.get('/metrics', async (ctx) => {
    ctx.set('Content-Type', registry.contentType);
    ctx.body = await registry.metrics();
  });
  return router;
}
