import type { ResponseConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { maxProcessingSecondsLimit } from '../domain/processing-time.js';
import type { ErrorCode } from './errors.js';

/**
 * Pieces every resource's OpenAPI registration shares: the `{success, error, data}` envelope, error
 * responses with their stable codes, the token schemes. api/openapi.ts assembles the document.
 */

/** Security scheme names, registered by api/openapi.ts. */
export const securitySchemes = {
  bearer: 'bearerToken',
  query: 'queryToken',
} as const;

type SecurityRequirements = Record<string, string[]>[];

/** Token in `Authorization: Bearer`, or in `?token=`: GET routes only (api/auth.ts refuses it on every other method). */
export const tokenAuth: SecurityRequirements = [{ [securitySchemes.bearer]: [] }, { [securitySchemes.query]: [] }];
/** Token in `Authorization: Bearer` only. */
export const bearerAuth: SecurityRequirements = [{ [securitySchemes.bearer]: [] }];

export const isoDateTime = z.iso.datetime({ offset: true });

/** The `?token=` query parameter of the GET routes that accept it (tokenAuth). */
export const tokenQuery = z.object({ token: z.string().optional().meta({ description: 'The API token, instead of Authorization: Bearer.' }) });

function envelopeOf<T extends z.ZodType>(data: T) {
  return z.object({ success: z.literal(true), error: z.null(), data });
}

function errorObjectOf(codes: readonly [ErrorCode, ...ErrorCode[]]) {
  return z.object({
    code: z.enum(codes),
    message: z.string(),
    field: z.string().optional().meta({ description: 'The input at fault: a form field, query parameter, header or body path.' }),
  });
}

function errorEnvelopeOf(codes: readonly [ErrorCode, ...ErrorCode[]]) {
  return z.object({ success: z.literal(false), error: errorObjectOf(codes), data: z.null() });
}

/** How a family answers: in the envelope, or bare as its reference document shows (api/errors.ts `answersWithoutEnvelope`). */
export type BodyStyle = 'envelope' | 'bare';

export const retryAfterHeader = z.object({
  'Retry-After': z.string().meta({ description: 'Whole seconds to wait before trying again.', example: '30' }),
});

export function jsonResponse(description: string, data: z.ZodType, headers?: z.ZodObject, style: BodyStyle = 'envelope'): ResponseConfig {
  const schema = style === 'envelope' ? envelopeOf(data) : data;
  return { description, ...(headers ? { headers } : {}), content: { 'application/json': { schema } } };
}

/** A body answered bare, as the families of api/errors.ts `answersWithoutEnvelope` answer. */
export function bareJsonResponse(description: string, data: z.ZodType, headers?: z.ZodObject): ResponseConfig {
  return jsonResponse(description, data, headers, 'bare');
}

type ErrorCodes = readonly [ErrorCode, ...ErrorCode[]];
type ErrorSpec = ErrorCodes | { codes: ErrorCodes; headers: z.ZodObject };

/** Error responses by status, each with the codes it can carry; 500 INTERNAL_ERROR unless given is added to every operation. */
export function errorResponses(byStatus: Record<number, ErrorSpec>, style: BodyStyle = 'envelope'): Record<number, ResponseConfig> {
  const responses: Record<number, ResponseConfig> = {};
  const specs: Record<number, ErrorSpec> = { 500: ['INTERNAL_ERROR'], ...byStatus };
  for (const [status, spec] of Object.entries(specs)) {
    const { codes, headers } = 'codes' in spec ? spec : { codes: spec, headers: undefined };
    responses[Number(status)] = {
      description: codes.join(' or '),
      ...(headers ? { headers } : {}),
      content: { 'application/json': { schema: style === 'envelope' ? errorEnvelopeOf(codes) : z.object({ error: errorObjectOf(codes) }) } },
    };
  }
  return responses;
}

/** A stored image or video answered by the media routes (ranges, ETag, private caching). */
export function mediaResponses(contentTypes: string[]): Record<number, ResponseConfig> {
  const binary = z.string().meta({ format: 'binary' });
  const headers = z.object({
    ETag: z.string(),
    'Cache-Control': z.string().meta({ example: 'private, max-age=3600' }),
    'Accept-Ranges': z.literal('bytes'),
  });
  const content = Object.fromEntries(contentTypes.map((type) => [type, { schema: binary }]));
  return {
    200: { description: 'The whole file.', headers, content },
    206: { description: 'The requested byte range (`Range: bytes=…`).', headers, content },
    304: { description: 'Not modified (`If-None-Match` matched the ETag).' },
  };
}

/** The `Max-Processing-Time` request header of every create endpoint (api/job-options.ts reads it). */
export const maxProcessingTimeHeader = z
  .string()
  .regex(/^\d+$/)
  .optional()
  .meta({ description: `Whole seconds, 0 (no limit) to ${maxProcessingSecondsLimit}, the analysis may take before it fails MAX_PROCESSING_TIME_EXCEEDED.` });

/** The `Idempotency-Key` request header of every create endpoint: printable ASCII without spaces (UUIDs, ULIDs, hashes). */
export const idempotencyKeyHeader = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/)
  .optional()
  .meta({
    description:
      'Makes a retried create safe: the same key and the same request within 24 hours answer the job already created; ' +
      'the same key with a different request is 422 IDEMPOTENCY_KEY_REUSED.',
  });
