import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { classificationImageCounts } from '../../commands/submit-classification.js';
import { risks } from '../../domain/classification/risk.js';
import { classificationClasses } from '../../domain/classification/scores.js';
import { bearerAuth, errorResponses, idempotencyKeyHeader, isoDateTime, maxProcessingTimeHeader, tokenAuth, tokenQuery } from '../openapi-common.js';
import { emptyToUndefined, webhookUrlField } from '../validate.js';

const optionalText = (max: number) => z.preprocess(emptyToUndefined, z.string().trim().min(1).max(max).optional());

/** `metadata`: a JSON object, echoed back as sent. */
const metadataField = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .max(16 * 1024)
    .transform((text, ctx) => {
      try {
        const value = JSON.parse(text) as unknown;
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
      } catch {
        // Reported below, as for a value that parses to something other than an object.
      }
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
      return z.NEVER;
    })
    .optional(),
);

export const classifyFields = z
  .object({
    tenant: z.string().trim().min(1, 'must not be empty').max(128),
    metadata: metadataField,
    camera_id: optionalText(128),
    analyse_id: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .regex(/^\d{1,15}$/, 'must be a whole number')
        .transform(Number)
        .optional(),
    ),
    parent_id: optionalText(64),
    token: z.string().optional(),
    webhook_url: z.preprocess(emptyToUndefined, webhookUrlField.optional()),
    webhook_secret: z.preprocess(emptyToUndefined, z.string().max(256).optional()),
  })
  .refine((fields) => fields.webhook_secret === undefined || fields.webhook_url !== undefined, {
    path: ['webhook_secret'],
    message: 'webhook_secret needs webhook_url',
  });
export type ClassifyFields = z.infer<typeof classifyFields>;

export const classifyQuery = z.object({
  sync: z.preprocess(emptyToUndefined, z.enum(['true', 'false'], { message: 'must be true or false' }).default('false').transform((v) => v === 'true')),
});

const stepStatus = z.enum(['accepted', 'in_progress', 'done', 'error', 'timeout']);

export const classificationDocument = z.object({
  id: z.string().meta({ description: '24 lower-case hex digits.', example: '664371916d24ab9cf81140ec' }),
  status: z.object({ classify: stepStatus, video: stepStatus }),
  parent_id: z.string().meta({ description: 'As sent; 24 zeros when none.' }),
  camera_id: z.string().meta({ description: 'metadata.camera_id, or the camera_id field; empty when neither.' }),
  analyse_id: z.number().int().meta({ description: 'As sent; 0 when none.' }),
  tenant: z.string(),
  duration: z.number().int().meta({ description: 'Milliseconds from acceptance to the result; 0 until it ends.' }),
  duration_seconds: z.number().int(),
  model: z.string(),
  version: z.string(),
  error_code: z.number().int().meta({ description: '0: no error; 1 analysis failed, 2 invalid image, 3 invalid video, 4 timeout, 5 cancelled.' }),
  error_msg: z.string(),
  risk: z.enum(risks).nullable().meta({ description: 'From the intrusion score and the account\'s or camera\'s thresholds; null until done.' }),
  labels: z.array(z.enum(classificationClasses)).meta({ description: 'Classes scoring 0.5 or more, highest first.' }),
  scores: z
    .object(Object.fromEntries(classificationClasses.map((name) => [name, z.number().min(0).max(1)])))
    .nullable()
    .meta({ description: 'One score in 0–1 for each of the 13 classes; null until done.' }),
  video: z.object({
    videoname: z.string().nullable().meta({ description: 'The clip\'s file name; null for images.' }),
    filesize: z.number().int().meta({ description: 'Bytes received (all images together).' }),
    specs: z.object({
      width: z.number().int().nullable(),
      height: z.number().int().nullable(),
      fps: z.number().nullable(),
      nframes: z.number().int().nullable(),
      duration: z.number().nullable(),
      'original.width': z.number().int(),
      'original.height': z.number().int(),
      'original.fps': z.number().nullable(),
      'original.nframes': z.number().int(),
    }),
  }),
  timing: z.object({ total: z.number().nullable().meta({ description: 'Milliseconds from the start of the analysis to its result.' }) }),
  metadata: z.record(z.string(), z.unknown()),
  created_at: isoDateTime,
  started_at: isoDateTime.nullable(),
});

const classifyForm = z.object({
  ...classifyFields.shape,
  video: z.string().meta({ format: 'binary', description: 'The clip (any container and codec ffmpeg decodes). Either video or images.' }),
  images: z
    .array(z.string().meta({ format: 'binary' }))
    .min(classificationImageCounts.min)
    .max(classificationImageCounts.max)
    .meta({ description: `${classificationImageCounts.min} to ${classificationImageCounts.max} frames in order: JPEG, PNG, BMP or WebP. Either video or images.` }),
});

const documentResponse = (description: string) => ({ description, content: { 'application/json': { schema: classificationDocument } } });

/** The classification routes in the OpenAPI document. */
export function registerClassificationPaths(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/api/classify',
    tags: ['Classification'],
    summary: 'Classify a clip',
    description:
      'Stores the clip or images and starts the classification. With sync=true the answer is the finished result when it ' +
      'comes within CLASSIFY_SYNC_WAIT_S (200), else the accepted document (202); without it, always the accepted document.',
    security: [...bearerAuth, {}],
    request: {
      query: z.object({ sync: z.enum(['true', 'false']).optional().meta({ description: 'true: answer the result once classified.' }) }),
      headers: z.object({
        'Max-Processing-Time': maxProcessingTimeHeader,
        'Idempotency-Key': idempotencyKeyHeader,
      }),
      body: { required: true, content: { 'multipart/form-data': { schema: classifyForm } } },
    },
    responses: {
      200: documentResponse('sync=true: the finished (or failed) result; or the job an earlier request under the same Idempotency-Key made.'),
      202: documentResponse('Accepted: poll GET /api/result/{id}.'),
      ...errorResponses({
        400: ['VALIDATION_ERROR', 'INVALID_IMAGE_COUNT', 'INVALID_IMAGE', 'INVALID_VIDEO'],
        401: ['UNAUTHENTICATED'],
        413: ['PAYLOAD_TOO_LARGE'],
        422: ['IDEMPOTENCY_KEY_REUSED'],
      }, 'bare'),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/result/{job_id}',
    tags: ['Classification'],
    summary: 'A classification\'s result',
    security: tokenAuth,
    request: { params: z.object({ job_id: z.string().meta({ description: 'The id the classification was answered with.' }) }), query: tokenQuery },
    responses: {
      200: documentResponse('The classification, in whatever state it is.'),
      ...errorResponses({ 400: ['VALIDATION_ERROR'], 401: ['UNAUTHENTICATED'], 404: ['NOT_FOUND'] }, 'bare'),
    },
  });
}
