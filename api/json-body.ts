import { bodyParser } from '@koa/bodyparser';
import { ApiError, validationError } from './errors.js';

/** Parses JSON request bodies (DELETE included); a malformed or oversized body gets the error envelope. */
export function jsonBody(limit = '1mb') {
  return bodyParser({
    enableTypes: ['json'],
    parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'],
    jsonLimit: limit,
    onError(error) {
      if ((error as { status?: unknown }).status === 413) throw new ApiError(413, 'PAYLOAD_TOO_LARGE', `The request body is larger than ${limit}.`);
      throw validationError('body', 'The body is not valid JSON.');
    },
  });
}
