import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { webhookUrlField } from '../validate.js';
import { jobStatuses } from '../../domain/job-kinds.js';
import { bareJsonResponse, bearerAuth, errorResponses, idempotencyKeyHeader, maxProcessingTimeHeader, retryAfterHeader, tokenAuth, tokenQuery } from '../openapi-common.js';
import { jobIdParams } from '../owned-job.js';
import { ocrResultDocument, personIdDocument } from '../faces/schema.js';

/** Raw base64 (RFC 4648 alphabet, padded): no data-URI prefix, no line breaks. */
export const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const imageItem = z.object({
  external_id: z.string().trim().min(1, 'must not be empty').max(255).meta({ description: 'Your id of the image; unique within the batch.' }),
  data_base64: z
    .string()
    .min(1, 'must not be empty')
    .regex(base64Pattern, 'must be raw base64 (no data: URI prefix, no line breaks)')
    .meta({ description: 'The image (JPEG, PNG, BMP or WebP) in raw base64.' }),
});

export const submitImagesBody = z
  .object({
    images: z.array(imageItem).meta({ description: 'One to MAX_BATCH_IMAGES (default 100) images.' }),
    webhook: z
      .object({
        url: webhookUrlField,
        secret: z.string().min(1).max(256).optional().meta({ description: 'Signs the webhook (X-Webhook-Signature, HMAC-SHA256); unsigned without it.' }),
      })
      .optional()
      .meta({ description: 'Where the result goes once the batch has ended (`image_batch.finished` or `image_batch.failed`).' }),
  })
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.images.forEach((image, index) => {
      if (seen.has(image.external_id)) ctx.addIssue({ code: 'custom', path: ['images', index, 'external_id'], message: 'must be unique within the batch' });
      seen.add(image.external_id);
    });
  });
export type SubmitImagesBody = z.infer<typeof submitImagesBody>;

const acceptedImages = z.object({ job_id: z.string().meta({ example: 'image_batch_0f3c2a9b8d7e6f5a4b3c2d1e' }) });

const jobError = z.object({ code: z.string(), message: z.string() });

const imageTag = z.object({
  tag: z.string().meta({ example: 'person' }),
  probability: z.number().min(0).max(1).meta({ description: 'Calibrated on labelled pictures for person, vehicle, animal and their kinds: 0.5 is even odds.' }),
  is_critical: z.boolean().meta({ description: 'A person in a low-light (night, IR) picture, or a weapon.' }),
});

const imageBatchStatus = z.object({
  job_id: z.string(),
  status: z.enum(jobStatuses),
  items: z.array(
    z.object({
      external_id: z.string(),
      status: z.enum(['queued', 'finished', 'failed']),
      result: z
        .object({
          tags: z.array(imageTag),
          person_ids: z.array(personIdDocument).meta({ description: 'The people whose faces are in the image.' }),
          ocr_results: z.array(ocrResultDocument).meta({ description: 'Text read in the image, one result per line.' }),
        })
        .optional()
        .meta({ description: 'Once the item is analysed.' }),
      error: jobError.optional().meta({ description: 'Why the item failed: INVALID_IMAGE (does not decode) or IMAGE_TOO_LARGE.' }),
    }),
  ),
  error: jobError.optional().meta({ description: 'Why the whole batch failed (e.g. MAX_PROCESSING_TIME_EXCEEDED).' }),
});


const jobPath = z.object({ job_id: jobIdParams.shape.job_id.meta({ description: 'The job id returned on submission.' }) });

export function registerImagePaths(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/api/v1/images',
    tags: ['Media analysis'],
    summary: 'Submit a batch of images',
    description:
      'Stores every image and starts the analysis (tags from the COCO detector and the ImageNet classifier); answers once the workflow ' +
      'is started. An image that does not decode is a failed item with its reason while the others are analysed. The same request ' +
      'under the same Idempotency-Key within 24 hours answers the existing job (200).',
    security: bearerAuth,
    request: {
      headers: z.object({
        'Max-Processing-Time': maxProcessingTimeHeader,
        'Idempotency-Key': idempotencyKeyHeader,
      }),
      body: { required: true, content: { 'application/json': { schema: submitImagesBody } } },
    },
    responses: {
      202: bareJsonResponse(
        'Accepted: the batch is queued.',
        acceptedImages,
        z.object({ Location: z.string().meta({ description: 'The status URL of the job.' }), 'Retry-After': retryAfterHeader.shape['Retry-After'] }),
      ),
      200: bareJsonResponse('The job already accepted for this Idempotency-Key.', acceptedImages),
      ...errorResponses({
        400: ['VALIDATION_ERROR', 'INVALID_IMAGE_COUNT'],
        401: ['UNAUTHENTICATED'],
        413: ['PAYLOAD_TOO_LARGE'],
        422: ['IDEMPOTENCY_KEY_REUSED'],
      }, 'bare'),
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/api/v1/images/{job_id}',
    tags: ['Media analysis'],
    summary: 'Image batch status and per-item results',
    security: tokenAuth,
    request: { params: jobPath, query: tokenQuery },
    responses: {
      200: bareJsonResponse('The batch\'s status and each item\'s tags, people and text, or its error.', imageBatchStatus),
      ...errorResponses({ 400: ['VALIDATION_ERROR'], 401: ['UNAUTHENTICATED'], 404: ['NOT_FOUND'] }, 'bare'),
    },
  });
}
