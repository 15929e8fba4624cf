import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { allowedImageCounts } from '../../commands/submit-alarm.js';
import { identifierPattern } from '../../domain/identifiers.js';
import { jobStatuses } from '../../domain/job-kinds.js';
import { parseVendorTimestamp } from '../../domain/local-time.js';
import { detectionCategories, siteCategories } from '../../domain/types.js';
import { bearerAuth, errorResponses, idempotencyKeyHeader, isoDateTime, jsonResponse, maxProcessingTimeHeader, retryAfterHeader, tokenAuth, tokenQuery } from '../openapi-common.js';
import { jobIdParams } from '../owned-job.js';
import { emptyToUndefined, webhookUrlField } from '../validate.js';

const identifier = z.string().regex(identifierPattern, 'must be 1 to 64 characters of A-Z, a-z, 0-9, _, . or -');
const optionalText = (max: number) => z.preprocess(emptyToUndefined, z.string().trim().max(max).optional());

export const submitAlarmFields = z
  .object({
    group_id: identifier,
    site_id: identifier,
    zone_id: identifier,
    site_category: z
      .string()
      .transform((value) => value.trim().toLowerCase())
      .pipe(z.enum(siteCategories, { message: `must be one of ${siteCategories.join(', ')}` })),
    vendor_event_id: z.string().trim().min(1, 'must not be empty').max(128),
    site_address: optionalText(500),
    timestamp: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .trim()
        .refine((value) => parseVendorTimestamp(value) !== null, 'must be a real local time as YYYY-MM-DD HH:MM or YYYY-MM-DD HH:MM:SS')
        .optional(),
    ),
    group_name: optionalText(128),
    site_name: optionalText(128),
    zone_name: optionalText(128),
    detection_sensitive_level: z.preprocess(
      emptyToUndefined,
      z
        .enum(['0', '1', '2'], { message: 'must be 0, 1 or 2' })
        .default('2')
        .transform((value) => Number(value) as 0 | 1 | 2),
    ),
    token: z.string().optional(),
    webhook_url: z.preprocess(emptyToUndefined, webhookUrlField.optional()),
    webhook_secret: z.preprocess(emptyToUndefined, z.string().max(256).optional()),
  })
  .refine((fields) => fields.site_address !== undefined || fields.timestamp !== undefined, {
    path: ['site_address'],
    message: 'site_address or timestamp is required',
  })
  .refine((fields) => fields.webhook_secret === undefined || fields.webhook_url !== undefined, {
    path: ['webhook_secret'],
    message: 'webhook_secret needs webhook_url',
  });
export type SubmitAlarmFields = z.infer<typeof submitAlarmFields>;


export const exportQuery = z.object({
  // The documented integers written plainly: Number() would also take 0x1, 1e0 or ' 1'.
  media_type: z.preprocess(
    emptyToUndefined,
    z
      .enum(['0', '1'], { message: 'must be 0 (boxes) or 1 (boxes and annotated images)' })
      .default('0')
      .transform((value) => Number(value) as 0 | 1),
  ),
  token: z.string().optional(),
});

const jobError = z.object({ code: z.string().meta({ example: 'MAX_PROCESSING_TIME_EXCEEDED' }), message: z.string() });

export const acceptedAlarmData = z.object({
  job_id: z.string().meta({ example: 'raw_acme_g001_site01_zone01_3f9c0a1b2c4d' }),
  status: z.enum(jobStatuses).meta({ description: '`queued` for a new job; the existing job\'s status for a duplicate.' }),
  duplicate: z.literal(true).optional().meta({ description: 'Present when this vendor_event_id was already accepted for the camera.' }),
});

export const alarmStatusData = z.object({
  job_id: z.string(),
  status: z.enum(jobStatuses),
  stage: z.string().meta({ description: 'queued, tenancy, detect, analyse (decide and persist after it when a vision model decides), then finished, failed or cancelled.' }),
  created_at: isoDateTime,
  finished_at: isoDateTime.nullable(),
  error: jobError.nullable(),
});

/** `[x1, y1, x2, y2, confidence]` in the uploaded frame's pixels. */
const box = z.tuple([z.number(), z.number(), z.number(), z.number(), z.number().min(0).max(1)]);

export const alarmExportData = z.object({
  job_id: z.string(),
  vendor: z.object({
    vendor_time: z.string().nullable().meta({ description: 'Local time at the site, YYYY-MM-DD HH:MM:SS.' }),
    vendor_event_id: z.string(),
    dealer_group_id: z.string(),
    dealer_site_id: z.string(),
    dealer_zone_id: z.string(),
    group_name: z.string(),
    site_name: z.string(),
    camera_name: z.string(),
    site_category: z.enum(siteCategories),
    site_timezone: z.string().nullable().meta({ description: 'IANA zone; null when the address could not be resolved.' }),
  }),
  server: z.object({
    crime_rate: z.union([z.literal(0), z.literal(1), z.literal(2)]).meta({ description: '0 No, 1 Maybe, 2 Yes.' }),
    has_motion: z.boolean(),
    has_person: z.boolean(),
    has_vehicle: z.boolean(),
    ai_analysis_called: z.boolean(),
    ai_analysis_time: z.number().meta({ description: 'Seconds.' }),
    ai_engine: z.string(),
    ai_decision_method: z.enum(['Local', 'C1', 'C2', 'C21', 'Cbr']),
    ai_decision_time: isoDateTime,
    ai_description: z.string(),
    ai_decision: z.enum(['No', 'Maybe', 'Yes']),
    ai_decision_indicators: z.array(z.string()),
  }),
  media: z.object({
    type: z.literal('boxes'),
    frames: z.array(
      z.object({
        name: z.string().meta({ example: 'frame_00.jpg' }),
        box_file: z.string().meta({ example: 'frame_00_box.json' }),
        boxes: z.object(Object.fromEntries(detectionCategories.map((category) => [category, z.array(box)]))),
        image_base64: z.string().optional().meta({ description: 'The annotated JPEG, with media_type=1 (admin tokens).' }),
      }),
    ),
  }),
});

/** `images` and the fields of submitAlarmFields, as the multipart form carries them. */
const alarmForm = z.object({
  ...submitAlarmFields.shape,
  site_category: submitAlarmFields.shape.site_category.meta({ enum: [...siteCategories], description: 'Case-insensitive.' }),
  timestamp: submitAlarmFields.shape.timestamp.meta({
    description:
      'Local time at the site, YYYY-MM-DD HH:MM[:SS]. Wins over site_address; one of the two is required. ' +
      'With a site_address that resolves to a time zone, a time its clocks skip (a daylight-saving gap) is refused.',
    example: '2026-11-20 23:15:00',
  }),
  site_address: submitAlarmFields.shape.site_address.meta({ description: 'Resolved offline to the site\'s time zone when no timestamp is given.' }),
  detection_sensitive_level: submitAlarmFields.shape.detection_sensitive_level.meta({
    description: '0: any person or vehicle is Maybe; 1: no quality filters; 2: filters, then the decision.',
  }),
  token: submitAlarmFields.shape.token.meta({
    description: 'The API token, when no Authorization header is sent; it must come before the first image, or the request is refused 401 unread.',
  }),
  webhook_url: submitAlarmFields.shape.webhook_url.meta({ description: 'Where the result is POSTed when the job ends (http or https, public address).' }),
  webhook_secret: submitAlarmFields.shape.webhook_secret.meta({ description: 'Signs the webhook (X-Webhook-Signature); needs webhook_url. Never returned.' }),
  images: z
    .array(z.string().meta({ format: 'binary' }))
    .min(allowedImageCounts[0])
    .max(allowedImageCounts.at(-1)!)
    .meta({ description: 'Exactly 4, 6 or 8 frames in event order: JPEG, PNG, BMP or WebP (the content is checked), at most 4096×4096.' }),
});

const jobPath = z.object({ job_id: jobIdParams.shape.job_id.meta({ description: 'The job id returned on submission.' }) });

/** The alarm routes in the OpenAPI document. */
export function registerAlarmPaths(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/api/v1/alarms',
    tags: ['Alarms'],
    summary: 'Submit an alarm',
    description:
      'Stores the frames and starts the analysis; answers once the workflow is started, never waiting for it. ' +
      'The token is checked before the images are read; a body that does not arrive within the server\'s request timeout is 408. ' +
      'One alarm per camera (account + group + site + zone) per cooldown; the same vendor_event_id again, or the same request ' +
      'under the same Idempotency-Key within 24 hours, answers the existing job.',
    // Or the form's token field, which no security scheme can describe.
    security: [...bearerAuth, {}],
    request: {
      headers: z.object({
        'Max-Processing-Time': maxProcessingTimeHeader,
        'Idempotency-Key': idempotencyKeyHeader,
      }),
      body: { required: true, content: { 'multipart/form-data': { schema: alarmForm } } },
    },
    responses: {
      202: jsonResponse(
        'Accepted: the job is queued.',
        acceptedAlarmData,
        z.object({ Location: z.string().meta({ description: 'The status URL of the job.' }) }),
      ),
      200: jsonResponse('A duplicate: the job already accepted for this vendor_event_id or Idempotency-Key.', acceptedAlarmData),
      ...errorResponses({
        400: ['VALIDATION_ERROR', 'INVALID_IMAGE_COUNT', 'INVALID_IMAGE'],
        401: ['UNAUTHENTICATED'],
        408: ['REQUEST_TIMEOUT'],
        413: ['PAYLOAD_TOO_LARGE'],
        422: ['IDEMPOTENCY_KEY_REUSED'],
        429: { codes: ['RATE_LIMITED'], headers: retryAfterHeader },
        503: { codes: ['SERVICE_UNAVAILABLE'], headers: retryAfterHeader },
      }),
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/api/v1/alarms/{job_id}',
    tags: ['Alarms'],
    summary: 'Job status',
    security: tokenAuth,
    request: { params: jobPath, query: tokenQuery },
    responses: {
      200: jsonResponse('The job\'s status and current stage.', alarmStatusData),
      ...errorResponses({ 400: ['VALIDATION_ERROR'], 401: ['UNAUTHENTICATED'], 404: ['NOT_FOUND'] }),
    },
  });

  registry.registerPath({
    method: 'get',
    path: '/api/v1/alarms/{job_id}/export',
    tags: ['Alarms'],
    summary: 'Export the verdict',
    description:
      'Once per token and job every 10 minutes; keep the first response. A HEAD answers with the status a GET would have now ' +
      '(200, 409, 429 EXPORT_LOCKED with Retry-After, …), without a body and without taking the lock.',
    security: tokenAuth,
    request: {
      params: jobPath,
      query: exportQuery.extend({
        media_type: exportQuery.shape.media_type.meta({ type: 'integer', enum: [0, 1], description: '0: boxes; 1: boxes and annotated images (admin tokens).' }),
        token: tokenQuery.shape.token,
      }),
    },
    responses: {
      200: jsonResponse('The verdict, the vendor\'s identifiers and the boxes per frame.', alarmExportData),
      ...errorResponses({
        400: ['VALIDATION_ERROR'],
        401: ['UNAUTHENTICATED'],
        403: ['FORBIDDEN'],
        404: ['NOT_FOUND'],
        409: ['NOT_READY', 'JOB_FAILED'],
        429: { codes: ['EXPORT_LOCKED'], headers: retryAfterHeader },
      }),
    },
  });
}
