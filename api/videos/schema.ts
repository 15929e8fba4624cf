import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { jobStatuses } from '../../domain/job-kinds.js';
import { bareJsonResponse, bearerAuth, errorResponses, idempotencyKeyHeader, maxProcessingTimeHeader, tokenAuth, tokenQuery } from '../openapi-common.js';
import { jobIdParams } from '../owned-job.js';
import { ocrResultDocument, personIdDocument } from '../faces/schema.js';
import { emptyToUndefined, webhookUrlField } from '../validate.js';

const webhookSecret = z.string().max(256);

/** The webhook of a video submission: multipart fields `webhook.url`, `webhook.secret`, or headers `Webhook-Url`, `Webhook-Secret`. */
export const videoWebhookFields = z
  .object({
    'webhook.url': z.preprocess(emptyToUndefined, webhookUrlField.optional()),
    'webhook.secret': z.preprocess(emptyToUndefined, webhookSecret.optional()),
  })
  .refine((fields) => fields['webhook.secret'] === undefined || fields['webhook.url'] !== undefined, {
    path: ['webhook.secret'],
    message: 'webhook.secret needs webhook.url',
  });

export const videoJobPath = z.object({ job_id: jobIdParams.shape.job_id.meta({ description: 'The job id returned on submission.', example: 'video_5d41402abc4b2a76b9719d91' }) });
export const sectionThumbnailPath = videoJobPath.extend({
  n: z
    .string()
    .regex(/^\d{1,5}$/, 'must be a section number from 0')
    .transform(Number)
    .meta({ description: 'The section\'s position in `result.sections`, from 0.' }),
});

const timeSegment = z.object({ start_seconds: z.number(), end_seconds: z.number() });

export const videoDocument = z.object({
  job_id: z.string().meta({ example: 'video_5d41402abc4b2a76b9719d91' }),
  status: z.enum(jobStatuses),
  progress: z.number().min(0).max(1).optional().meta({ description: 'While queued or running: the fraction of the analysis done.' }),
  stage: z.string().optional().meta({ description: 'While queued or running: queued, probe, motion, detect, faces_text, summarise.' }),
  result: z
    .object({
      raw_scenes: z.array(timeSegment).meta({ description: 'Shots between hard cuts, covering the whole video.' }),
      frame_activity_diffs: z.array(z.number().min(0).max(1)).meta({ description: 'One value per sampled frame (VIDEO_SAMPLE_FPS): the share of the picture that moved.' }),
      person_constellation_scenes: z
        .array(z.object({ time_segment: timeSegment, person_ids: z.array(personIdDocument) }))
        .meta({ description: 'Per scene of raw_scenes, the people whose faces were seen in it (one embedding per person across the video).' }),
      ocr_results: z.array(ocrResultDocument).meta({ description: 'Text read on scene keyframes, frames where activity starts and every 10 s; one result per text while it stays on screen.' }),
      sections: z.array(
        z.object({
          section_tag: z.string().meta({ example: 'people' }),
          time_segments: z.array(timeSegment),
          thumbnail_timestamp: z.number().meta({ description: 'Seconds: the section\'s best frame (GET …/sections/{n}/thumbnail).' }),
          confidence: z.number().min(0).max(1),
          is_critical: z.boolean(),
          relative_activity: z.number().min(0).max(1),
        }),
      ),
    })
    .optional()
    .meta({ description: 'Once finished.' }),
  error: z.object({ code: z.string().meta({ example: 'MAX_PROCESSING_TIME_EXCEEDED' }), message: z.string() }).optional().meta({ description: 'Once failed or cancelled.' }),
});


const webhookHeaders = {
  'Webhook-Url': z.string().optional().meta({ description: 'With a raw body: where the result is POSTed when the job ends.' }),
  'Webhook-Secret': z.string().optional().meta({ description: 'With a raw body: signs the webhook (X-Webhook-Signature); needs Webhook-Url. Never returned.' }),
};

/** The video routes in the OpenAPI document. */
export function registerVideoPaths(registry: OpenAPIRegistry): void {
  const binary = z.string().meta({ format: 'binary' });
  registry.registerPath({
    method: 'post',
    path: '/api/v1/videos',
    tags: ['Videos'],
    summary: 'Submit a video',
    description:
      'The body is the video itself (`video/*` or `application/octet-stream`), or a multipart form with a `video` file and ' +
      '`webhook.url`, `webhook.secret` fields. The upload streams to storage (MAX_VIDEO_BYTES, 413 as soon as passed), is probed ' +
      'and its first and last frames decoded before the answer: what does not decode is 400 INVALID_VIDEO, longer than ' +
      'MAX_VIDEO_SECONDS is 413 VIDEO_TOO_LONG, and nothing of it is kept. The same request under the same Idempotency-Key ' +
      'within 24 hours answers the existing job (200).',
    security: bearerAuth,
    request: {
      headers: z.object({
        'Max-Processing-Time': maxProcessingTimeHeader,
        'Idempotency-Key': idempotencyKeyHeader,
        ...webhookHeaders,
      }),
      body: {
        required: true,
        content: {
          'video/*': { schema: binary },
          'application/octet-stream': { schema: binary },
          'multipart/form-data': { schema: z.object({ video: binary, 'webhook.url': z.string().optional(), 'webhook.secret': z.string().optional() }) },
        },
      },
    },
    responses: {
      202: bareJsonResponse('Accepted: the job is queued.', z.object({ job_id: z.string() }), z.object({
        Location: z.string().meta({ example: '/api/v1/videos/video_5d41402abc4b2a76b9719d91' }),
        'Retry-After': z.string().meta({ description: 'Seconds before the first poll is worth it.' }),
      })),
      200: bareJsonResponse('The job an earlier identical request under the same Idempotency-Key created.', z.object({ job_id: z.string() })),
      ...errorResponses({
        400: ['VALIDATION_ERROR', 'INVALID_VIDEO'],
        401: ['UNAUTHENTICATED'],
        408: ['REQUEST_TIMEOUT'],
        413: ['PAYLOAD_TOO_LARGE', 'VIDEO_TOO_LONG'],
        422: ['IDEMPOTENCY_KEY_REUSED'],
      }, 'bare'),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/videos/{job_id}',
    tags: ['Videos'],
    summary: 'A video job: status, progress, result',
    description: 'Another account\'s job, or a job of another kind, is 404.',
    security: tokenAuth,
    request: { params: videoJobPath, query: tokenQuery },
    responses: { 200: bareJsonResponse('The job.', videoDocument), ...errorResponses({ 400: ['VALIDATION_ERROR'], 401: ['UNAUTHENTICATED'], 404: ['NOT_FOUND'] }, 'bare') },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/videos/{job_id}/sections/{n}/thumbnail',
    tags: ['Videos'],
    summary: 'A section\'s thumbnail',
    description: 'The JPEG of the frame at the section\'s `thumbnail_timestamp`, at most 640 px wide.',
    security: tokenAuth,
    request: { params: sectionThumbnailPath, query: tokenQuery },
    responses: {
      200: { description: 'The JPEG.', content: { 'image/jpeg': { schema: binary } } },
      ...errorResponses({ 400: ['VALIDATION_ERROR'], 401: ['UNAUTHENTICATED'], 404: ['NOT_FOUND'], 409: ['NOT_READY'] }, 'bare'),
    },
  });
}
