import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { identifierPattern } from '../../domain/identifiers.js';
import { objectTypes } from '../../domain/object-types.js';
import { parseCameraId } from './camera-id.js';
import { decodeCursor } from './cursor.js';
import { detectionFields, parseFieldList } from './fields.js';
import {
  bearerAuth,
  errorResponses as envelopedErrorResponses,
  idempotencyKeyHeader,
  isoDateTime,
  jsonResponse as envelopedJsonResponse,
  mediaResponses,
  retryAfterHeader,
  tokenAuth,
  tokenQuery,
} from '../openapi-common.js';
import { emptyToUndefined } from '../validate.js';
const optional = <S extends z.ZodType>(schema: S) => z.preprocess(emptyToUndefined, schema.optional());

const cameraId = z.string().transform((value, ctx) => {
  const ref = parseCameraId(value);
  if (!ref) {
    ctx.addIssue({ code: 'custom', message: 'must be <group_id>/<site_id>/<zone_id>' });
    return z.NEVER;
  }
  return ref;
});

const dateOnly = /^\d{4}-\d{2}-\d{2}$/;
const dateMessage = 'must be an ISO 8601 date (YYYY-MM-DD) or a date-time with Z or an offset';

/** A date alone is the whole UTC day: its first millisecond for a start, its last for an end. */
const dateBound = (edge: 'start' | 'end') =>
  z.union([z.iso.datetime({ offset: true }), z.iso.date()], { message: dateMessage }).transform((value) => {
    if (!dateOnly.test(value)) return new Date(value);
    const dayStart = Date.parse(`${value}T00:00:00Z`);
    return new Date(edge === 'start' ? dayStart : dayStart + 86_400_000 - 1);
  });

const confidence = z.coerce.number().min(0).max(1);

const commonFilters = {
  camera_id: optional(cameraId),
  start_date: optional(dateBound('start')),
  end_date: optional(dateBound('end')),
  min_confidence: optional(confidence),
  token: z.string().optional(),
};

const orderedDates = <T extends { start_date?: Date; end_date?: Date }>(query: T) =>
  !query.start_date || !query.end_date || query.start_date <= query.end_date;
const orderedDatesIssue = { path: ['start_date'], message: 'start_date must not be after end_date' };

export const listQuery = z
  .object({
    ...commonFilters,
    object_type: optional(z.string().trim().max(64)),
    limit: optional(z.coerce.number().int().min(1).max(100)).transform((value) => value ?? 50),
    offset: optional(z.coerce.number().int().min(0)),
    cursor: optional(
      z.string().transform((value, ctx) => {
        const position = decodeCursor(value);
        if (!position) {
          ctx.addIssue({ code: 'custom', message: 'is not a cursor this API issued' });
          return z.NEVER;
        }
        return position;
      }),
    ),
    fields: optional(
      z.string().transform((value, ctx) => {
        const parsed = parseFieldList(value);
        if ('unknown' in parsed) {
          ctx.addIssue({
            code: 'custom',
            message: parsed.unknown.length > 0
              ? `unknown field ${parsed.unknown.join(', ')}; fields are ${detectionFields.join(', ')}`
              : 'name at least one field',
          });
          return z.NEVER;
        }
        return parsed.fields;
      }),
    ),
  })
  .refine(orderedDates, orderedDatesIssue)
  .refine((query) => query.cursor === undefined || query.offset === undefined, {
    path: ['offset'],
    message: 'send either cursor or the deprecated offset, not both',
  });

/** `labels=a&labels=b` or `labels=a,b`. */
const labelList = z.preprocess(
  (value) => {
    const values = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
    const labels = values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v.length > 0);
    return labels.length > 0 ? labels : undefined;
  },
  z.array(z.string().max(64)).max(20).optional(),
);

export const searchQuery = z
  .object({
    ...commonFilters,
    q: z.string().trim().min(1, 'must not be empty').max(200),
    labels: labelList,
    limit: optional(z.coerce.number().int().min(1).max(1000)).transform((value) => value ?? 50),
    offset: optional(z.coerce.number().int().min(0)).transform((value) => value ?? 0),
  })
  .refine(orderedDates, orderedDatesIssue);

export const statsQuery = z.object({ camera_id: commonFilters.camera_id, token: commonFilters.token });

const detectionIdMessage = 'must be a detection id (a positive integer)';
/** Ids are numbered from 1; fifteen digits stay within what a JSON number holds exactly. */
export const detectionParams = z.object({
  detection_id: z.string().regex(/^[1-9][0-9]{0,14}$/, detectionIdMessage).transform(Number),
});
/** A detection id in a JSON body: a number, as the API writes it. */
const detectionId = z.int({ message: detectionIdMessage }).min(1, detectionIdMessage).max(999_999_999_999_999, detectionIdMessage);

export const imageQuery = z.object({
  full: optional(z.enum(['true', 'false', '1', '0'], { message: 'must be true or false' })).transform((value) => value === 'true' || value === '1'),
  token: z.string().optional(),
});

const bulkItems = <K extends string>(key: K) =>
  z.object({ [key]: z.array(z.unknown()).min(1, 'send at least one item').max(100, 'send at most 100 items') } as Record<K, z.ZodArray<z.ZodUnknown>>);

/** The body of bulk creation and of bulk update. */
export const bulkDetectionsBody = bulkItems('detections');
export const bulkDeleteBody = bulkItems('detection_ids');

const objectType = z.enum(objectTypes as [string, ...string[]], { message: `must be one of ${objectTypes.join(', ')}` });
const pixel = z.number().min(0).max(100_000);
const extent = z.number().positive().max(100_000);
const label = z.string().regex(identifierPattern, 'labels are 1 to 64 characters of A-Z, a-z, 0-9, _, . or -');

export const bulkCreateItem = z.strictObject({
  camera_id: cameraId,
  object_type: objectType,
  confidence: z.number().min(0).max(1),
  detected_at: z.iso.datetime({ offset: true, message: dateMessage }).transform((value) => new Date(value)).optional(),
  file_path: z.string().min(1).max(1024).optional(),
  file_type: z
    .string()
    .regex(/^(image|video)\/[a-z0-9.+-]+$/i, 'must be an image/* or video/* MIME type')
    .transform((value) => value.toLowerCase())
    .optional(),
  bbox_x: pixel,
  bbox_y: pixel,
  bbox_width: extent,
  bbox_height: extent,
  labels: z.array(label).max(20).optional(),
});

export const bulkUpdateItem = z
  .strictObject({
    id: detectionId,
    object_type: objectType.optional(),
    confidence: z.number().min(0).max(1).optional(),
    bbox_x: pixel.optional(),
    bbox_y: pixel.optional(),
    bbox_width: extent.optional(),
    bbox_height: extent.optional(),
  })
  .refine((item) => Object.keys(item).length > 1, { message: 'name at least one field to change besides id' });

export const bulkDeleteItem = detectionId;

const parkedField = z.boolean().meta({
  description: 'Parked: seen standing where it stood (all the event, or where the camera\'s previous event saw it); reported, not counted by the decision.',
});

const enrichmentSummary = z.object({
  vehicle: z
    .object({ vehicle_type: z.string(), vehicle_color: z.null(), has_damage: z.null(), is_commercial: z.null(), parked: parkedField })
    .nullable(),
  person: z
    .object({
      clothing_description: z.null(),
      action: z.null(),
      carrying: z.null(),
      is_suspicious: z.null(),
      frames_with_person: z.int().nullable().meta({ description: 'Frames of the alarm in which a person was seen.' }),
      event_frames: z.int().nullable(),
    })
    .nullable(),
  pet: z.null(),
  weather: z.null(),
  errors: z.array(z.string()),
});

const detectionData = z.object({
  id: z.int(),
  camera_id: z.string().nullable().meta({ description: '<group_id>/<site_id>/<zone_id>; null for a detection of an uploaded video', example: 'g001/site01/zone01' }),
  file_path: z.string().nullable(),
  file_type: z.string().nullable(),
  detected_at: isoDateTime,
  object_type: z.string().meta({ example: 'person' }),
  confidence: z.number().min(0).max(1),
  bbox_x: z.int(),
  bbox_y: z.int(),
  bbox_width: z.int(),
  bbox_height: z.int(),
  thumbnail_path: z.string().nullable(),
  media_type: z.enum(['image', 'video']),
  duration: z.number().nullable(),
  video_codec: z.string().nullable(),
  video_width: z.int().nullable(),
  video_height: z.int().nullable(),
  enrichment_data: enrichmentSummary,
});

const detectionPageData = z.object({
  items: z.array(detectionData.partial()).meta({ description: 'Newest first; with `fields`, only those fields.' }),
  pagination: z.object({
    total: z.int(),
    limit: z.int(),
    offset: z.int(),
    next_cursor: z.string().nullable(),
    has_more: z.boolean(),
  }),
  deprecation_warning: z.string().nullable(),
});

const detectionStatsData = z.object({
  total_detections: z.int(),
  detections_by_class: z.record(z.string(), z.int()),
  object_class_distribution: z.array(z.object({ object_class: z.string(), count: z.int() })),
  average_confidence: z.number().nullable(),
  trends: z.array(z.object({ timestamp: z.int().meta({ description: 'Epoch milliseconds of the UTC day.' }), detection_count: z.int() })),
});

const detectionSearchData = z.object({
  results: z.array(
    detectionData
      .pick({
        id: true,
        camera_id: true,
        object_type: true,
        confidence: true,
        detected_at: true,
        file_path: true,
        thumbnail_path: true,
        bbox_x: true,
        bbox_y: true,
        bbox_width: true,
        bbox_height: true,
        enrichment_data: true,
      })
      .extend({ relevance_score: z.number(), labels: z.array(z.string()) }),
  ),
  total_count: z.int(),
  limit: z.int(),
  offset: z.int(),
});

const labelCountsData = z.object({ labels: z.array(z.object({ label: z.string(), count: z.int() })) });

const bulkResultsData = z.object({
  total: z.int(),
  succeeded: z.int(),
  failed: z.int(),
  skipped: z.int(),
  results: z.array(
    z.object({
      index: z.int(),
      status: z.enum(['success', 'failed', 'skipped']),
      id: z.int().nullable(),
      error: z.string().nullable(),
    }),
  ),
});

const nullableObject = z.record(z.string(), z.unknown()).nullable();

const enrichmentData = z.object({
  detection_id: z.int(),
  enriched_at: isoDateTime.nullable(),
  license_plate: z
    .object({ detected: z.boolean(), text: z.string().nullable(), confidence: z.number().nullable(), ocr_confidence: z.number().nullable() })
    .nullable()
    .meta({ description: 'Vehicles with a stored frame: a plate PP-OCR reads on the vehicle\'s crop (text, the detector\'s and the reading\'s confidence).' }),
  face: z
    .object({ detected: z.boolean(), count: z.int(), confidence: z.number().nullable() })
    .nullable()
    .meta({ description: 'People with a stored frame: the faces YuNet finds inside the box (count, best score).' }),
  vehicle: z
    .object({
      type: z.string(),
      color: z.null(),
      confidence: z.number(),
      is_commercial: z.null(),
      damage_detected: z.null(),
      damage_types: z.null(),
      parked: parkedField,
    })
    .nullable(),
  person: z.object({ frames_with_person: z.int().nullable(), event_frames: z.int().nullable() }).nullable(),
  clothing: z.null(),
  violence: z.null(),
  weather: z.null(),
  pose: z.null(),
  depth: z.null(),
  image_quality: z
    .object({
      score: z.null(),
      width: z.int(),
      height: z.int(),
      is_blurry: z.boolean().nullable(),
      is_low_quality: z.boolean().nullable(),
      quality_issues: z.array(z.string()).nullable(),
    })
    .nullable(),
  pet: z.null(),
  decision: nullableObject.meta({ description: 'The alarm\'s decision and its context; null for bulk-created detections.' }),
  processing_time_ms: z.int().nullable(),
  errors: z.array(z.string()),
});

const detectionPath = z.object({ detection_id: detectionId.meta({ description: 'The detection\'s id.', example: 1 }) });
/** Spec 5's bodies are bare: no envelope, errors as `{"error": {"code", "message", "field"?}}`. */
const jsonResponse = (description: string, data: z.ZodType) => envelopedJsonResponse(description, data, undefined, 'bare');
const errorResponses: typeof envelopedErrorResponses = (byStatus) => envelopedErrorResponses(byStatus, 'bare');
const commonFilterDocs = {
  camera_id: commonFilters.camera_id.meta({ description: '<group_id>/<site_id>/<zone_id>' }),
  start_date: commonFilters.start_date.meta({ description: 'ISO 8601 date-time with Z or an offset; a date alone is the start of its UTC day.' }),
  end_date: commonFilters.end_date.meta({ description: 'ISO 8601 date-time with Z or an offset; a date alone is the end of its UTC day.' }),
  min_confidence: commonFilters.min_confidence.meta({ type: 'number' }),
  ...tokenQuery.shape,
};
const readErrors = errorResponses({ 400: ['VALIDATION_ERROR'], 401: ['UNAUTHENTICATED'], 404: ['NOT_FOUND'] });
const mediaErrors = errorResponses({
  400: ['VALIDATION_ERROR'],
  401: ['UNAUTHENTICATED'],
  404: ['NOT_FOUND'],
  416: ['RANGE_NOT_SATISFIABLE'],
  429: { codes: ['RATE_LIMITED'], headers: retryAfterHeader },
});
const bulkErrors = errorResponses({
  400: ['VALIDATION_ERROR'],
  401: ['UNAUTHENTICATED'],
  413: ['PAYLOAD_TOO_LARGE'],
  429: { codes: ['RATE_LIMITED'], headers: retryAfterHeader },
});
const bulkBody = (items: z.ZodType, key: 'detections' | 'detection_ids') => ({
  required: true,
  content: { 'application/json': { schema: z.object({ [key]: z.array(items).min(1).max(100) }) } },
});
const bulkResponse = { 207: jsonResponse('One result per item, in request order.', bulkResultsData) };

/** The detection routes in the OpenAPI document. */
export function registerDetectionPaths(registry: OpenAPIRegistry): void {
  const get = (path: string, summary: string, request: Parameters<OpenAPIRegistry['registerPath']>[0]['request'], responses: Parameters<OpenAPIRegistry['registerPath']>[0]['responses']) =>
    registry.registerPath({ method: 'get', path, tags: ['Detections'], summary, security: tokenAuth, request, responses });

  get(
    '/api/detections',
    'List detections',
    {
      query: z.object({
        ...commonFilterDocs,
        object_type: listQuery.shape.object_type.meta({ description: 'A class (car, knife, …) or a category (person, vehicle, weapon).' }),
        limit: listQuery.shape.limit.meta({ type: 'integer', minimum: 1, maximum: 100, default: 50 }),
        offset: listQuery.shape.offset.meta({ type: 'integer', minimum: 0, deprecated: true, description: 'Deprecated: use cursor.' }),
        cursor: listQuery.shape.cursor.meta({ description: 'pagination.next_cursor of the previous page.' }),
        fields: listQuery.shape.fields.meta({ description: `Comma-separated: ${detectionFields.join(', ')}.` }),
      }),
    },
    { 200: jsonResponse('A page of detections.', detectionPageData), ...readErrors },
  );
  get('/api/detections/stats', 'Detection statistics', { query: z.object({ camera_id: commonFilterDocs.camera_id, ...tokenQuery.shape }) }, {
    200: jsonResponse('Totals, per class, average confidence and daily trends.', detectionStatsData),
    ...readErrors,
  });
  get(
    '/api/detections/search',
    'Full-text search',
    {
      query: z.object({
        ...commonFilterDocs,
        q: searchQuery.shape.q.meta({ description: 'PostgreSQL websearch syntax: "loading dock", or, -car.' }),
        labels: searchQuery.shape.labels.meta({ description: 'Labels that must all be present: labels=a&labels=b or labels=a,b.' }),
        limit: searchQuery.shape.limit.meta({ type: 'integer', minimum: 1, maximum: 1000, default: 50 }),
        offset: searchQuery.shape.offset.meta({ type: 'integer', minimum: 0, default: 0 }),
      }),
    },
    { 200: jsonResponse('Ranked results.', detectionSearchData), ...readErrors },
  );
  get('/api/detections/labels', 'Labels with counts', { query: tokenQuery }, { 200: jsonResponse('Labels, most used first.', labelCountsData), ...readErrors });
  get('/api/detections/{detection_id}', 'One detection', { params: detectionPath, query: tokenQuery }, {
    200: jsonResponse('The detection.', detectionData),
    ...readErrors,
  });
  get('/api/detections/{detection_id}/enrichment', 'What Vigil knows about a detection', { params: detectionPath, query: tokenQuery }, {
    200: jsonResponse('Enrichment; what Vigil has no model for is null.', enrichmentData),
    ...readErrors,
  });
  get('/api/detections/{detection_id}/thumbnail', 'JPEG crop around the box', { params: detectionPath, query: tokenQuery }, {
    ...mediaResponses(['image/jpeg']),
    ...mediaErrors,
    ...errorResponses({ 500: ['MEDIA_GENERATION_FAILED', 'INTERNAL_ERROR'] }),
  });
  get(
    '/api/detections/{detection_id}/image',
    'The frame with the box drawn, or the original upload',
    { params: detectionPath, query: z.object({ full: imageQuery.shape.full.meta({ type: 'string', enum: ['true', 'false', '1', '0'], description: 'true: the original upload.' }), ...tokenQuery.shape }) },
    {
      ...mediaResponses(['image/jpeg', 'image/png', 'image/bmp', 'image/webp']),
      ...mediaErrors,
      ...errorResponses({ 500: ['MEDIA_GENERATION_FAILED', 'INTERNAL_ERROR'] }),
    },
  );
  for (const [path, summary] of [
    ['/api/detections/{detection_id}/video', 'The video of a detection'],
    ['/api/detections/{detection_id}/video/thumbnail', 'A still of the video of a detection'],
  ] as const) {
    get(path, summary, { params: detectionPath, query: tokenQuery }, {
      ...mediaErrors,
      ...errorResponses({ 400: ['NOT_A_VIDEO', 'VALIDATION_ERROR'] }),
    });
  }

  registry.registerPath({
    method: 'post',
    path: '/api/detections/bulk',
    tags: ['Detections'],
    summary: 'Create detections',
    description:
      'The camera must be one of the account\'s (an alarm created it). Items that fail are answered as such; the others are ' +
      'created together or, when the request fails, not at all.',
    security: bearerAuth,
    request: {
      headers: z.object({
        'Idempotency-Key': idempotencyKeyHeader.meta({
          description:
            'Makes a retried request safe: the same key and the same body within 24 hours answer the first request\'s results ' +
            'again without creating anything; the same key with a different body is 422 IDEMPOTENCY_KEY_REUSED.',
        }),
      }),
      body: bulkBody(
        // The generator would write the case-insensitive regex with its flag glued on.
        bulkCreateItem.extend({
          file_type: bulkCreateItem.shape.file_type.meta({ pattern: '^(image|video)/[A-Za-z0-9.+-]+$', description: 'An image/* or video/* MIME type (any case).' }),
        }),
        'detections',
      ),
    },
    responses: { ...bulkResponse, ...bulkErrors, ...errorResponses({ 422: ['IDEMPOTENCY_KEY_REUSED'] }) },
  });
  registry.registerPath({
    method: 'patch',
    path: '/api/detections/bulk',
    tags: ['Detections'],
    summary: 'Update detections',
    description: 'A box field left out keeps its value.',
    security: bearerAuth,
    request: { body: bulkBody(bulkUpdateItem, 'detections') },
    responses: { ...bulkResponse, ...bulkErrors },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/detections/bulk',
    tags: ['Detections'],
    summary: 'Delete detections',
    description: 'Permanent: the drawn thumbnails and images go too.',
    security: bearerAuth,
    request: { body: bulkBody(bulkDeleteItem, 'detection_ids') },
    responses: { ...bulkResponse, ...bulkErrors },
  });
}
