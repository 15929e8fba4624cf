import { Agent, request } from 'undici';
import { assertLiteralAddressAllowed, publicAddressLookup } from './target-guard.js';

export interface WebhookRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  /** Cancels the request, e.g. the activity's cancellation signal. */
  signal?: AbortSignal;
}

export interface WebhookResponse {
  statusCode: number;
  /** The receiver's `Retry-After` header, as sent. */
  retryAfter?: string;
}

export interface WebhookSender {
  /**
   * POSTs once, without following redirects; resolves with the receiver's answer, rejects on network errors and
   * timeouts. Without `allowPrivate`, a target that is or resolves to a non-public address is refused
   * (WebhookTargetRefusedError, itself or as the cause) before anything is sent.
   */
  post(webhook: WebhookRequest): Promise<WebhookResponse>;
  close(): Promise<void>;
}

/** Read at most this much of a receiver's answer before dropping the connection: only its status matters. */
const maxResponseBytes = 64 * 1024;

export function createWebhookSender({ allowPrivate, timeoutSeconds }: { allowPrivate: boolean; timeoutSeconds: number }): WebhookSender {
  const timeoutMs = Math.round(timeoutSeconds * 1000);
  // The deadline below is the one timer for the exchange: undici's header and body timeouts (300 s) are never shorter.
  const agent = new Agent({ connect: { timeout: timeoutMs, ...(allowPrivate ? {} : { lookup: publicAddressLookup }) } });
  return {
    async post({ url, body, headers, signal }) {
      if (!allowPrivate) assertLiteralAddressAllowed(url);
      const deadline = AbortSignal.timeout(timeoutMs);
      try {
        const response = await request(url, {
          method: 'POST',
          headers: { 'user-agent': 'Vigil-Webhooks/1', ...headers },
          body,
          dispatcher: agent,
          signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
        });
        await response.body.dump({ limit: maxResponseBytes });
        const retryAfter = response.headers['retry-after'];
        return { statusCode: response.statusCode, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter };
      } catch (error) {
        if (deadline.aborted) throw new Error(`no answer within ${timeoutSeconds} s`, { cause: error });
        throw error;
      }
    },
    close: () => agent.close(),
  };
}
