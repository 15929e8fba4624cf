import type { Context, Next } from 'koa';
import type { AccountRepository, AuthenticatedToken } from '../db/repositories/accounts.js';
import { hashApiToken } from '../domain/api-token.js';
import { ApiError } from './errors.js';

const unauthenticated = () => new ApiError(401, 'UNAUTHENTICATED', 'A valid API token is required.');

/** The token from `Authorization: Bearer`, else from the given fallback (form field or query). */
export function presentedToken(ctx: Context, fallback: unknown): string | undefined {
  const header = ctx.get('authorization');
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw unauthenticated();
    return match[1];
  }
  return typeof fallback === 'string' && fallback.length > 0 ? fallback : undefined;
}

export function authenticate(accounts: AccountRepository, token: string | undefined): Promise<AuthenticatedToken> {
  return authenticateWith(token, (hash) => accounts.findActiveToken(hash));
}

/**
 * What `find` reads for the presented token's hash (undefined: no active token with it), else 401: for a read that
 * fetches the token together with what the request asks for (api/owned-job.ts, `ownedJobStatus`).
 */
export async function authenticateWith<T>(token: string | undefined, find: (tokenHash: string) => Promise<T | undefined>): Promise<T> {
  if (!token) throw unauthenticated();
  const found = await find(hashApiToken(token));
  if (!found) throw unauthenticated();
  return found;
}

/** Authenticates a request that may carry its token in `?token=` (a GET: see refuseQueryTokenOffGet) instead of `Authorization: Bearer`. */
export function authenticateRequest(accounts: AccountRepository, ctx: Context): Promise<AuthenticatedToken> {
  return authenticate(accounts, presentedToken(ctx, ctx.query.token));
}

/** Methods that may carry the token as `?token=`: reads only. URLs end up in proxy logs and histories. */
const queryTokenMethods: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/** Refuses `?token=` on every other method, before any route runs. */
export async function refuseQueryTokenOffGet(ctx: Context, next: Next): Promise<void> {
  if (ctx.query.token !== undefined && !queryTokenMethods.has(ctx.method)) {
    throw new ApiError(401, 'UNAUTHENTICATED', 'Send the token in the Authorization header (Bearer); ?token= is accepted on GET only.');
  }
  await next();
}
