import type { Context } from 'koa';
import { parseMaxProcessingTime, maxProcessingSecondsLimit } from '../domain/processing-time.js';
import { WebhookTargetRefusedError, assertWebhookTargetAllowed } from '../webhooks/target-guard.js';
import { validationError } from './errors.js';

/** Options every job-submitting route shares: the Max-Processing-Time header and the webhook target. */

const maxProcessingTimeHeader = 'Max-Processing-Time';

/** Seconds from the `Max-Processing-Time` header (0: no limit), or the configured default when it is absent. */
export function maxProcessingSecondsOf(ctx: Context, defaultSeconds: number): number {
  const seconds = parseMaxProcessingTime(ctx.get(maxProcessingTimeHeader), defaultSeconds);
  if (seconds === null) {
    throw validationError(maxProcessingTimeHeader, `${maxProcessingTimeHeader} must be whole seconds from 0 (no limit) to ${maxProcessingSecondsLimit}.`);
  }
  return seconds;
}

/** Refuses a webhook URL whose host is, or resolves to, a non-public address (unless allowed), or does not resolve. */
export async function requireAllowedWebhookTarget(url: string, field: string, options: { allowPrivate: boolean }): Promise<void> {
  try {
    await assertWebhookTargetAllowed(url, options);
  } catch (error) {
    if (error instanceof WebhookTargetRefusedError) throw validationError(field, `${field}: ${error.message}.`);
    const code = (error as { code?: unknown })?.code;
    throw validationError(field, `${field}: its host cannot be resolved${typeof code === 'string' ? ` (${code})` : ''}.`);
  }
}
