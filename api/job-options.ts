import type { Context } from 'koa';
import type { Refusal } from '../commands/job-acceptance.js';
import type { SubmitAlarmRefusalCode } from '../commands/submit-alarm.js';
import type { SubmitImageBatchRefusalCode } from '../commands/submit-image-batch.js';
import type { SubmitClassificationRefusalCode } from '../commands/submit-classification.js';
import type { SubmitVideoRefusalCode } from '../commands/submit-video.js';
import { parseMaxProcessingTime, maxProcessingSecondsLimit } from '../domain/processing-time.js';
import { ApiError, validationError, type ErrorCode } from './errors.js';
import { idempotencyKeyHeader } from './openapi-common.js';

/** What every job-submitting route shares: the Max-Processing-Time and Idempotency-Key headers, and refusals as HTTP errors. */

const maxProcessingTimeHeader = 'Max-Processing-Time';
const idempotencyKeyName = 'Idempotency-Key';

/** Seconds from the `Max-Processing-Time` header (0: no limit), or the configured default when it is absent. */
export function maxProcessingSecondsOf(ctx: Context, defaultSeconds: number): number {
  const seconds = parseMaxProcessingTime(ctx.get(maxProcessingTimeHeader), defaultSeconds);
  if (seconds === null) {
    throw validationError(maxProcessingTimeHeader, `${maxProcessingTimeHeader} must be whole seconds from 0 (no limit) to ${maxProcessingSecondsLimit}.`);
  }
  return seconds;
}

/** The `Idempotency-Key` header, or undefined when absent. */
export function idempotencyKeyOf(ctx: Context): string | undefined {
  const key = ctx.get(idempotencyKeyName);
  if (key === '') return undefined;
  if (!idempotencyKeyHeader.safeParse(key).success) {
    throw validationError(idempotencyKeyName, `${idempotencyKeyName} must be 1 to 255 printable ASCII characters without spaces.`);
  }
  return key;
}

/** Every refusal a submission command can give; a new command adds its codes here. */
type RefusalCode = SubmitAlarmRefusalCode | SubmitImageBatchRefusalCode | SubmitClassificationRefusalCode | SubmitVideoRefusalCode;

/** The HTTP answer to each refusal. */
const refusalAnswers: Record<RefusalCode, { status: number; code: ErrorCode }> = {
  WEBHOOK_TARGET_REFUSED: { status: 400, code: 'VALIDATION_ERROR' },
  NONEXISTENT_LOCAL_TIME: { status: 400, code: 'VALIDATION_ERROR' },
  INVALID_IMAGE_COUNT: { status: 400, code: 'INVALID_IMAGE_COUNT' },
  INVALID_IMAGE: { status: 400, code: 'INVALID_IMAGE' },
  CAMERA_COOLDOWN: { status: 429, code: 'RATE_LIMITED' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, code: 'IDEMPOTENCY_KEY_REUSED' },
  INVALID_VIDEO: { status: 400, code: 'INVALID_VIDEO' },
  VIDEO_TOO_LONG: { status: 413, code: 'VIDEO_TOO_LONG' },
};

export function refusalError(refusal: Refusal<RefusalCode>): ApiError {
  const answer = refusalAnswers[refusal.code];
  return new ApiError(answer.status, answer.code, refusal.message, { field: refusal.field, retryAfterSeconds: refusal.retryAfterSeconds });
}
