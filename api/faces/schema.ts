import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { bearerAuth, errorResponses, isoDateTime, jsonResponse, tokenAuth, tokenQuery } from '../openapi-common.js';

/** A person in a video's scene or an image (spec 2 `person_ids`; domain/faces/cluster.ts). */
export const personIdDocument = z.object({
  age: z.number().meta({ description: 'Estimated age in years (median over the person\'s faces).' }),
  gender: z.enum(['male', 'female', 'unidentified']).meta({ description: '`unidentified` for grey or infrared faces and where the estimate is unsure.' }),
  face_embedding: z.array(z.number()).optional().meta({ description: '1024 values (mean HSE FaceRes descriptor); absent while the account\'s face analysis is off.' }),
  face_thumbnail: z.string().optional().meta({ description: 'Base64 JPEG of the person\'s best face; absent while face analysis is off.' }),
  allowlisted: z.boolean().meta({ description: 'A face of the person matches a photo on the account\'s face allowlist.' }),
  relative_prominence: z.number().min(0).max(1).meta({ description: 'Face size and screen time against the most prominent person.' }),
});

/** Text read (spec 2 `ocr_results`): on a video, merged over the sampled frames it was seen on. */
export const ocrResultDocument = z.object({
  language_code: z.string().optional().meta({ description: 'Where the characters tell it: ja, ko, zh, de, fr, es, en.' }),
  full_text: z.string(),
  time_segment: z.object({ start_seconds: z.number(), end_seconds: z.number() }).optional().meta({ description: 'Videos only: when the text was on screen.' }),
});

export const allowlistFields = z.object({
  name: z.string().trim().min(1).max(100).meta({ description: 'Who the person is, as the account calls them.', example: 'Night guard' }),
});

export const allowlistParams = z.object({ id: z.uuid().meta({ description: 'The allowlist entry.' }) });

const allowlistEntry = z.object({
  id: z.uuid(),
  name: z.string(),
  photo_count: z.int().min(0).max(10).meta({ description: 'Photos faces are compared with: those described by the current face model. Entries added before Vigil used HSE FaceRes count 0 and match no one until the person is added again.' }),
  created_at: isoDateTime,
});

const allowlistForm = z.object({
  name: allowlistFields.shape.name,
  photos: z.array(z.string().meta({ format: 'binary' })).min(1).max(10).meta({ description: '1 to 10 photos (JPEG, PNG, WebP or BMP), each of this one person\'s face alone; `photos` or `photos[]`.' }),
});

export function registerFacePaths(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/api/v1/faces/allowlist',
    tags: ['Faces'],
    summary: 'Add a person to the account\'s face allowlist',
    description:
      'Faces of this person in later jobs are reported `allowlisted: true`. Only the descriptors of the photos\' faces are kept, never the photos. ' +
      'Face analysis must have been turned on for the account by an operator.',
    security: bearerAuth,
    request: { body: { content: { 'multipart/form-data': { schema: allowlistForm } } } },
    responses: {
      201: jsonResponse('The person is on the allowlist.', allowlistEntry),
      ...errorResponses({
        400: ['VALIDATION_ERROR', 'INVALID_IMAGE', 'NO_FACE', 'MULTIPLE_FACES'],
        401: ['UNAUTHENTICATED'],
        403: ['FACE_ANALYSIS_DISABLED'],
        413: ['PAYLOAD_TOO_LARGE'],
      }),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/api/v1/faces/allowlist',
    tags: ['Faces'],
    summary: 'The account\'s face allowlist',
    security: tokenAuth,
    request: { query: tokenQuery },
    responses: {
      200: jsonResponse('Every person on the list, oldest first.', z.object({ items: z.array(allowlistEntry) })),
      ...errorResponses({ 401: ['UNAUTHENTICATED'] }),
    },
  });
  registry.registerPath({
    method: 'delete',
    path: '/api/v1/faces/allowlist/{id}',
    tags: ['Faces'],
    summary: 'Remove a person from the allowlist',
    description: 'The descriptors of their photos are erased with them.',
    security: bearerAuth,
    request: { params: allowlistParams },
    responses: {
      204: { description: 'Removed.' },
      ...errorResponses({ 400: ['VALIDATION_ERROR'], 401: ['UNAUTHENTICATED'], 404: ['NOT_FOUND'] }),
    },
  });
}
