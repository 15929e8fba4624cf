import type { RateLimit, RateLimitRepository } from '../db/repositories/rate-limits.js';
import { ApiError } from './errors.js';

/** Takes one request from the token's bucket for `scope`; 429 RATE_LIMITED with Retry-After when it is empty. */
export async function enforceRateLimit(limits: RateLimitRepository, scope: string, limit: RateLimit, tokenId: string): Promise<void> {
  const decision = await limits.consume(`${scope}:${tokenId}`, limit);
  if (!decision.allowed) {
    throw new ApiError(429, 'RATE_LIMITED', `Too many ${scope} requests: at most ${limit.perMinute} a minute (bursts of ${limit.burst}).`, {
      retryAfterSeconds: decision.retryAfterSeconds,
    });
  }
}
