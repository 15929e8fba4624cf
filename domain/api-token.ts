import { createHash, randomBytes } from 'node:crypto';

const tokenPrefix = 'vgl_';

/** A new API token; only its hash is stored. */
export function generateApiToken(): string {
  return tokenPrefix + randomBytes(24).toString('base64url');
}

export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A short, non-secret label for listing tokens. */
export function displayPrefix(token: string): string {
  return token.slice(0, tokenPrefix.length + 6);
}
