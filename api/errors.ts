import type { Context, Next } from 'koa';
import type { Logger } from '../logging/logger.js';

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
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'EXPORT_LOCKED'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'WEBHOOK_NOT_CONFIGURED'
  | 'NOT_A_VIDEO'
  | 'RANGE_NOT_SATISFIABLE'
  | 'MEDIA_GENERATION_FAILED'
  | 'SERVICE_UNAVAILABLE'
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

/** Multer reports upload limits as errors with these codes. */
const uploadLimitErrors: Record<string, () => ApiError> = {
  LIMIT_FILE_SIZE: () => new ApiError(413, 'PAYLOAD_TOO_LARGE', 'An uploaded file is larger than the allowed size.', { field: 'images' }),
  LIMIT_FILE_COUNT: () => new ApiError(400, 'INVALID_IMAGE_COUNT', 'Send exactly 4, 6 or 8 images.', { field: 'images' }),
  LIMIT_FIELD_VALUE: () => validationError('body', 'A form field is too long.'),
  LIMIT_FIELD_COUNT: () => validationError('body', 'Too many form fields.'),
  LIMIT_PART_COUNT: () => validationError('body', 'Too many form parts.'),
};

function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && code in uploadLimitErrors) return uploadLimitErrors[code]!();
  const message = (error as { message?: unknown })?.message;
  if (typeof message === 'string' && /Multipart|Unexpected end of form|Malformed part header/i.test(message)) {
    return validationError('body', 'The multipart body could not be parsed.');
  }
  const status = (error as { status?: unknown })?.status;
  if (status === 413) return new ApiError(413, 'PAYLOAD_TOO_LARGE', 'The request body is too large.');
  return undefined;
}

/** Turns every failure, and every unmatched route, into the envelope with a stable code. */
export function errorEnvelope(logger: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw notFound('Route');
      if (ctx.status === 405 && (ctx.body === undefined || typeof ctx.body === 'string')) {
        throw new ApiError(405, 'METHOD_NOT_ALLOWED', `${ctx.method} is not allowed on ${ctx.path}.`);
      }
    } catch (error) {
      const apiError = toApiError(error);
      if (!apiError) {
        logger.error({ err: error, path: ctx.path, method: ctx.method }, 'unhandled API error');
      }
      const failure = apiError ?? new ApiError(500, 'INTERNAL_ERROR', 'Internal server error.');
      ctx.status = failure.status;
      if (failure.details.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(failure.details.retryAfterSeconds));
      ctx.body = {
        success: false,
        error: { code: failure.code, message: failure.message, ...(failure.details.field ? { field: failure.details.field } : {}) },
        data: null,
      };
    }
  };
}
