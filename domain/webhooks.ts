import { createHash, createHmac } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { webhookEventType, type JobKind, type WebhookEventType } from './job-kinds.js';

/** Webhook payloads, signatures and target rules: pure, shared by the API, the CLI and the delivery activity. */

export interface WebhookError {
  code: string;
  message: string;
}

/** One envelope for every kind of job. */
export type JobWebhookPayload =
  | { type: WebhookEventType; job_id: string; data: unknown }
  | { type: WebhookEventType; job_id: string; error: WebhookError };

/**
 * `<kind>.finished` with `data`, the kind's result document as its family's result endpoint returns it; or
 * `<kind>.failed` with the failed or cancelled job's `error`.
 */
export function jobWebhookPayload(kind: JobKind, jobId: string, outcome: { data: unknown } | { error: WebhookError }): JobWebhookPayload {
  return 'data' in outcome
    ? { type: webhookEventType(kind, 'finished'), job_id: jobId, data: outcome.data }
    : { type: webhookEventType(kind, 'failed'), job_id: jobId, error: { code: outcome.error.code, message: outcome.error.message } };
}

/**
 * `X-Webhook-Id`: names the message (one job's outcome), so every attempt and every redelivery of it
 * carries the same id and a receiver can drop what it has already processed.
 */
export function webhookMessageId(jobId: string, type: WebhookEventType): string {
  return `whk_${createHash('sha256').update(`${type}\n${jobId}`, 'utf8').digest('hex').slice(0, 32)}`;
}

/** `X-Webhook-Signature`: `sha256=` and the hex HMAC-SHA256 of the raw body bytes under the secret. */
export function signWebhookBody(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function webhookHeaders({ webhookId, sentAt, body, secret }: { webhookId: string; sentAt: Date; body: string; secret: string | null }): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-webhook-id': webhookId,
    'x-webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
    ...(secret ? { 'x-webhook-signature': signWebhookBody(body, secret) } : {}),
  };
}

/** What a receiver's status means: 2xx is done; 408, 429 and 5xx are worth another attempt; anything else stops. */
export function responseOutcome(statusCode: number): 'delivered' | 'retry' | 'rejected' {
  if (statusCode >= 200 && statusCode < 300) return 'delivered';
  if (statusCode === 408 || statusCode === 429 || statusCode >= 500) return 'retry';
  return 'rejected';
}

/**
 * The wait a receiver asked for in `Retry-After` (delta-seconds or an HTTP date), in seconds; undefined when
 * absent or unreadable. A date in the past asks for no wait.
 */
export function retryAfterSeconds(header: string | undefined, now: Date): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  // An HTTP date names its day and month; Date.parse alone would read '-5' or '1.5' as years.
  if (!/^[a-z]{3}, /i.test(value)) return undefined;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now.getTime()) / 1000));
}

/** Why a webhook URL cannot be used (scheme, credentials, host), or null when its shape is fine. */
export function webhookUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http or https URL';
  if (url.username || url.password) return 'must not carry credentials; send webhook_secret to have deliveries signed';
  if (!url.hostname) return 'must name a host';
  return null;
}

/** The host of a URL, without IPv6 brackets, ready for DNS or address parsing. */
export function urlHost(value: string): string {
  return new URL(value).hostname.replace(/^\[(.*)\]$/, '$1');
}

const globalUnicastV6 = ipaddr.parseCIDR('2000::/3');

/**
 * `public` for a globally routable unicast address; otherwise the special range it falls in
 * (`loopback`, `private`, `linkLocal`, `uniqueLocal`, `carrierGradeNat`, `unspecified`, `multicast`, …).
 * IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
 */
export function classifyAddress(address: string): string {
  if (!ipaddr.isValid(address)) return 'invalid';
  const parsed = ipaddr.process(address);
  const range = parsed.range();
  if (range !== 'unicast') return range;
  // IPv6 outside 2000::/3 is not routed on the internet (e.g. the deprecated IPv4-compatible ::a.b.c.d).
  if (parsed.kind() === 'ipv6' && !parsed.match(globalUnicastV6)) return 'reserved';
  return 'public';
}

export function isIpAddress(host: string): boolean {
  return ipaddr.isValid(host);
}
