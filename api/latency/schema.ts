import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { errorResponses, tokenAuth, tokenQuery } from '../openapi-common.js';

export const latencyQuery = z.object({
  media_type: z.enum(['video', 'image'], { message: 'must be video or image' }),
  token: z.string().optional(),
});

const latencyAnswer = z.object({
  media_type: z.enum(['video', 'image']),
  unit: z.enum(['second', 'image']).meta({ description: 'second: per second of video; image: per image of a batch.' }),
  latency_ms_per_unit: z.number().nullable().meta({ description: 'Processing time over units of the recent jobs; null without any.', example: 120 }),
  p95: z.number().nullable().meta({ description: '95th percentile of the jobs\' own milliseconds per unit.' }),
  sample_size: z.number().int().meta({ description: 'Jobs measured.' }),
  units: z.number().meta({ description: 'Units those jobs held.' }),
  window_hours: z.number().int(),
});

export function registerLatencyPaths(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/api/v1/latency',
    tags: ['Media analysis'],
    summary: 'Observed processing latency per unit',
    description:
      'From the account\'s jobs of that media type that finished within LATENCY_WINDOW_HOURS (at most the LATENCY_MAX_JOBS latest): ' +
      'each job\'s processing time (start to finish) over its units, per image of an image batch or per second of video.',
    security: tokenAuth,
    request: { query: latencyQuery.extend({ media_type: latencyQuery.shape.media_type, token: tokenQuery.shape.token }) },
    responses: {
      200: { description: 'The latency, bare JSON as spec 2 shows it.', content: { 'application/json': { schema: latencyAnswer } } },
      ...errorResponses({ 400: ['VALIDATION_ERROR'], 401: ['UNAUTHENTICATED'] }, 'bare'),
    },
  });
}
