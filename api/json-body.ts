import { bodyParser } from '@koa/bodyparser';
import type { Context, Next } from 'koa';
import { refuseControlCharacters } from './control-characters.js';
import { ApiError, validationError } from './errors.js';

/**
 * Parses JSON request bodies (DELETE included); a malformed or oversized body gets the error envelope, and so does
 * a string holding a control character, named by its path (`detections.0.file_path`).
 */
export function jsonBody(limit: string | number = '1mb') {
  const parse = bodyParser({
    enableTypes: ['json'],
    parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'],
    jsonLimit: limit,
    onError(error) {
      if ((error as { status?: unknown }).status === 413) throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${typeof limit === 'number' ? `${limit} bytes` : limit}.`);
      throw validationError('body', 'The body is not valid JSON.');
    },
  });
  return (ctx: Context, next: Next) =>
    parse(ctx, async () => {
      refuseControlCharacters(ctx.request.body);
      await next();
    });
}
