import type { LlmEndpoint } from '../config/index.js';

/**
 * Stable types of a failed call to a vision model. Retryable: LLM_TIMEOUT, LLM_RATE_LIMITED,
 * LLM_UNAVAILABLE. The rest are not: retrying would get the same answer, or (LLM_CIRCUIT_OPEN) the
 * model is known to be down.
 */
export type LlmFailureType =
  | 'LLM_CIRCUIT_OPEN'
  | 'LLM_TIMEOUT'
  | 'LLM_RATE_LIMITED'
  | 'LLM_UNAVAILABLE'
  | 'LLM_UNAUTHORIZED'
  | 'LLM_BAD_REQUEST'
  | 'LLM_BAD_RESPONSE'
  | 'LLM_INVALID_ANSWER';

/** A failed call to a model server; `countsAgainstEndpoint` feeds the circuit breaker. */
export class LlmCallError extends Error {
  constructor(
    readonly type: LlmFailureType,
    message: string,
    readonly retryable: boolean,
    readonly countsAgainstEndpoint: boolean,
  ) {
    super(message);
    this.name = 'LlmCallError';
  }
}

const errorBodyExcerpt = 300;

function withoutSecret(text: string, endpoint: LlmEndpoint): string {
  return endpoint.apiKey ? text.replaceAll(endpoint.apiKey, '[redacted]') : text;
}

/** A non-2xx answer, with the start of its body (servers echo a wrong key there, so the key is cut out). */
export function httpFailure(status: number, body: string, endpoint: LlmEndpoint): LlmCallError {
  const message = `${endpoint.model} answered HTTP ${status}: ${withoutSecret(body.slice(0, errorBodyExcerpt), endpoint)}`;
  if (status === 429) return new LlmCallError('LLM_RATE_LIMITED', message, true, true);
  if (status === 408 || status >= 500) return new LlmCallError('LLM_UNAVAILABLE', message, true, true);
  if (status === 401 || status === 403) return new LlmCallError('LLM_UNAUTHORIZED', message, false, true);
  // The request itself is at fault (unknown model, image refused): the server is fine.
  return new LlmCallError('LLM_BAD_REQUEST', message, false, false);
}
