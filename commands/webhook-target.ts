import { WebhookTargetRefusedError, assertWebhookTargetAllowed } from '../webhooks/target-guard.js';

/**
 * Why a submission's webhook URL may not be used, or null when it may: its host is, or resolves to, a
 * non-public address (unless allowed), or does not resolve. Every kind's submission checks its target so.
 */
export async function webhookTargetProblem(url: string, options: { allowPrivate: boolean }): Promise<string | null> {
  try {
    await assertWebhookTargetAllowed(url, options);
    return null;
  } catch (error) {
    if (error instanceof WebhookTargetRefusedError) return error.message;
    const code = (error as { code?: unknown })?.code;
    return `its host cannot be resolved${typeof code === 'string' ? ` (${code})` : ''}`;
  }
}
