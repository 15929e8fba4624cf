import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { errorResponses } from '../openapi-common.js';

/** `/metrics` in the OpenAPI document. */
export function registerMetricsPaths(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/metrics',
    tags: ['Operations'],
    summary: 'Prometheus metrics of this API process',
    description: 'The workers serve theirs on WORKER_METRICS_PORT and GPU_WORKER_METRICS_PORT. The README lists every metric.',
    responses: {
      200: {
        description: 'The Prometheus text exposition format.',
        content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: z.string() } },
      },
      ...errorResponses({}),
    },
  });
}
