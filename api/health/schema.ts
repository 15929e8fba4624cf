import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { errorResponses, jsonResponse } from '../openapi-common.js';

const dependency = z.enum(['ok', 'unreachable']);
export const readinessData = z.object({ status: z.enum(['ready', 'not_ready']), database: dependency, temporal: dependency, media: dependency });

/** `/healthz` and `/readyz` in the OpenAPI document. */
export function registerHealthPaths(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/healthz',
    tags: ['Operations'],
    summary: 'Liveness: the process answers',
    responses: { 200: jsonResponse('Alive.', z.object({ status: z.literal('ok') })), ...errorResponses({}) },
  });
  registry.registerPath({
    method: 'get',
    path: '/readyz',
    tags: ['Operations'],
    summary: 'Readiness: PostgreSQL, Temporal and the media store answer too',
    responses: {
      200: jsonResponse('Ready.', readinessData),
      503: {
        description: 'SERVICE_UNAVAILABLE: a dependency is unreachable; data says which.',
        content: {
          'application/json': {
            schema: z.object({
              success: z.literal(false),
              error: z.object({ code: z.literal('SERVICE_UNAVAILABLE'), message: z.string() }),
              data: readinessData,
            }),
          },
        },
      },
      ...errorResponses({}),
    },
  });
}
