import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { jobIdParams } from '../owned-job.js';
import { bearerAuth, errorResponses, isoDateTime, jsonResponse, tokenAuth, tokenQuery } from '../openapi-common.js';

export const deliveriesData = z.object({
  job_id: z.string(),
  deliveries: z.array(
    z.object({
      delivery_id: z.uuid(),
      webhook_id: z.string().meta({ description: 'X-Webhook-Id: the same for every attempt and redelivery of this outcome.', example: 'whk_0f1e2d3c4b5a69788796a5b4c3d2e1f0' }),
      type: z.enum(['alarm.finished', 'alarm.failed']),
      trigger: z.enum(['completion', 'redelivery']),
      status: z.enum(['pending', 'delivered', 'failed']),
      created_at: isoDateTime,
      finished_at: isoDateTime.nullable(),
      attempts: z.array(
        z.object({
          attempt: z.int().min(1),
          attempted_at: isoDateTime,
          url: z.string().nullable(),
          status_code: z.int().nullable().meta({ description: 'The receiver\'s answer; null when none came.' }),
          duration_ms: z.int().min(0),
          error: z.string().nullable(),
        }),
      ),
    }),
  ),
});

const redeliveryData = z.object({ job_id: z.string(), delivery_id: z.uuid(), status: z.literal('queued') });

/** Where a job's deliveries are served: every kind's under /jobs, and an alarm's also under /alarms, where they began. */
export const deliveryPrefixes = ['/api/v1/jobs', '/api/v1/alarms'] as const;

/** The webhook delivery routes in the OpenAPI document: a job's of any kind, and an alarm's. */
export function registerDeliveryPaths(registry: OpenAPIRegistry): void {
  for (const prefix of deliveryPrefixes) {
    registry.registerPath({
      method: 'get',
      path: `${prefix}/{job_id}/deliveries`,
      tags: ['Webhooks'],
      summary: 'Webhook deliveries of a job and every attempt',
      security: tokenAuth,
      request: { params: jobIdParams, query: tokenQuery },
      responses: {
        200: jsonResponse('Deliveries, oldest first; never the secret or the payload.', deliveriesData),
        ...errorResponses({ 400: ['VALIDATION_ERROR'], 401: ['UNAUTHENTICATED'], 404: ['NOT_FOUND'] }),
      },
    });
    registry.registerPath({
      method: 'post',
      path: `${prefix}/{job_id}/deliveries/redeliver`,
      tags: ['Webhooks'],
      summary: 'Send the final payload again',
      description: 'A new delivery with its own attempts and the same X-Webhook-Id, to the job\'s target or else the account\'s default.',
      security: bearerAuth,
      request: { params: jobIdParams },
      responses: {
        202: jsonResponse('The redelivery is queued.', redeliveryData, z.object({ Location: z.string().meta({ description: 'The job\'s deliveries.' }) })),
        ...errorResponses({ 400: ['VALIDATION_ERROR'], 401: ['UNAUTHENTICATED'], 404: ['NOT_FOUND'], 409: ['NOT_READY', 'WEBHOOK_NOT_CONFIGURED'] }),
      },
    });
  }
}
