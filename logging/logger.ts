import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Keys whose values never reach a log line, at the top of a logged object or one level down: API
 * tokens, webhook secrets, LLM keys, credentials and the headers that carry them.
 */
const secretKeys = ['token', 'secret', 'webhook_secret', 'webhookSecret', 'apiKey', 'api_key', 'password', 'authorization', 'cookie'];
const redactedPaths = [
  ...secretKeys.flatMap((key) => [key, `*.${key}`]),
  ...['["authorization"]', '["cookie"]', '["x-api-key"]'].flatMap((header) => [`headers${header}`, `*.headers${header}`]),
];

/** JSON lines to stdout, or to `destination` (tests collect them). */
export function createLogger(level: string, role: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { role }, redact: { paths: redactedPaths, censor: '[redacted]' } }, destination);
}
