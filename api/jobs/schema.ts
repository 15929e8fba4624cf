import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { jobIdParams } from '../owned-job.js';
import { bearerAuth, errorResponses } from '../openapi-common.js';

const jobPath = z.object({ job_id: jobIdParams.shape.job_id.meta({ description: 'The job id returned on submission, of any kind of job.' }) });

/** The routes of jobs of every kind in the OpenAPI document. */
export function registerJobPaths(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'delete',
    path: '/api/v1/jobs/{job_id}',
    tags: ['Jobs'],
    summary: 'Erase a job',
    description:
      'Cancels the job if it is still queued or running and waits for its workflow to close, then erases the job at once: ' +
      'its result, frames and drawn images, detections, export locks, webhook target and deliveries. Permanent; owner only.',
    security: bearerAuth,
    request: { params: jobPath },
    responses: {
      204: { description: 'Erased; no body.' },
      ...errorResponses({ 400: ['VALIDATION_ERROR'], 401: ['UNAUTHENTICATED'], 404: ['NOT_FOUND'] }),
    },
  });
}
