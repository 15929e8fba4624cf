import type { Context, Next } from 'koa';
import { isDataException } from '../db/database.js';
import type { Logger } from '../logging/logger.js';
import { MediaStoreUnavailableError } from '../media/store.js';

/** Stable error codes of the public API. */
export type ErrorCode =
  | 'VALIDATION_ERROR'
  | 'INVALID_IMAGE_COUNT'
  | 'INVALID_IMAGE'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'NOT_READY'
  | 'JOB_FAILED'
  | 'REQUEST_TIMEOUT'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'EXPORT_LOCKED'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'WEBHOOK_NOT_CONFIGURED'
  | 'NOT_A_VIDEO'
  | 'INVALID_VIDEO'
  | 'VIDEO_TOO_LONG'
  | 'RANGE_NOT_SATISFIABLE'
  | 'MEDIA_GENERATION_FAILED'
  | 'SERVICE_UNAVAILABLE'
  | 'FACE_ANALYSIS_DISABLED'
  | 'NO_FACE'
  | 'MULTIPLE_FACES'
  | 'INTERNAL_ERROR';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details: { field?: string; retryAfterSeconds?: number } = {},
  ) {
    super(message);
  }
}

export const validationError = (field: string, message: string) => new ApiError(400, 'VALIDATION_ERROR', message, { field });
export const notFound = (what = 'Resource') => new ApiError(404, 'NOT_FOUND', `${what} not found.`);

/** `{success, error, data}` on every response. */
export function envelope(data: unknown) {
  return { success: true, error: null, data };
}

/** The answer to a failure the client caused; undefined for one of ours. */
/** How soon a client may try again after the media store was unreachable. */
const mediaStoreRetryAfterSeconds = 5;

export function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  // The edge should have refused the value (control-characters.ts, the zod schemas); still the client's, not ours.
  if (isDataException(error)) return new ApiError(400, 'VALIDATION_ERROR', 'A value in the request cannot be stored.');
  const status = (error as { status?: unknown })?.status;
  if (status === 413) return new ApiError(413, 'PAYLOAD_TOO_LARGE', 'The request body is too large.');
  if (error instanceof MediaStoreUnavailableError) {
    return new ApiError(503, 'SERVICE_UNAVAILABLE', 'The media store cannot be reached; try again shortly.', { retryAfterSeconds: mediaStoreRetryAfterSeconds });
  }
  return undefined;
}

/** The error envelope's body. */
export function errorBody(failure: ApiError) {
  return { success: false, error: errorObject(failure), data: null };
}

/** `{"error": {"code", "message", "field"?}}`: errors of the families whose documents answer without the envelope. */
export function bareErrorBody(failure: ApiError) {
  return { error: errorObject(failure) };
}

function errorObject(failure: ApiError) {
  return { code: failure.code, message: failure.message, ...(failure.details.field ? { field: failure.details.field } : {}) };
}

/** Paths of the families whose documents answer without the envelope, errors included (every path under them). */
const bareBodyPaths: readonly RegExp[] = [
  /^\/api\/detections(?:\/|$)/,
  /^\/api\/v1\/(?:videos|images|latency)(?:\/|$)/,
  /^\/api\/(?:classify|result)(?:\/|$)/,
];

export const answersWithoutEnvelope = (path: string) => bareBodyPaths.some((pattern) => pattern.test(path));

/** Turns every failure, and every unmatched route, into the envelope (or the bare error) with a stable code. */
export function errorEnvelope(logger: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw notFound('Route');
      if (ctx.status === 405 && (ctx.body === undefined || typeof ctx.body === 'string')) {
        throw new ApiError(405, 'METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${ctx.path}.`);
      }
    } catch (error) {
      const request = { path: ctx.path, method: ctx.method };
      // The client hung up, or the server closed a request too slow to arrive (server.ts), before its body was read.
      const aborted = ctx.req.readableAborted;
      const apiError = toApiError(error) ?? (aborted ? validationError('body', 'The request ended before its body was complete.') : undefined);
      if (aborted) logger.info(request, 'request aborted before its body arrived');
      else if (!apiError) logger.error({ err: error, ...request }, 'unhandled API error');
      else if (error instanceof MediaStoreUnavailableError) logger.warn({ err: error, ...request }, 'the media store is unavailable');
      else if (isDataException(error)) logger.warn({ err: error, ...request }, 'PostgreSQL refused a value of the request');
      const failure = apiError ?? new ApiError(500, 'INTERNAL_ERROR', 'Internal server error.');
      ctx.status = failure.status;
      // What is left of a body refused unread stays unread: Node would otherwise read it all to keep the connection.
      if (!ctx.req.complete) ctx.set('Connection', 'close');
      if (failure.details.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(failure.details.retryAfterSeconds));
      ctx.body = answersWithoutEnvelope(ctx.path) ? bareErrorBody(failure) : errorBody(failure);
    }
  };
}
