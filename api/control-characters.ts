import type { Router } from '@koa/router';
import type { Context, Next } from 'koa';
import { validationError } from './errors.js';

/**
 * Control characters (Unicode Cc: U+0000–U+001F and U+007F–U+009F) are refused in every text input of every
 * route, except tab, line feed and carriage return, which free text such as a pasted address may hold.
 * PostgreSQL cannot store NUL at all, and the others have no place in identifiers, names or searches.
 * Here for query strings and path parameters; the body readers (json-body.ts, multipart.ts) check what they
 * parse; Node's HTTP parser refuses them in headers, and server.ts answers that in the envelope.
 */
const refusedControlCharacter = /(?![\t\n\r])\p{Cc}/u;

/** The path to the first string in `input` (itself, or within arrays and objects) holding a refused control character. */
function pathToControlCharacter(input: unknown): string[] | undefined {
  if (typeof input === 'string') return refusedControlCharacter.test(input) ? [] : undefined;
  if (typeof input !== 'object' || input === null) return undefined;
  for (const [key, value] of Object.entries(input)) {
    const path = pathToControlCharacter(value);
    if (path) return [key, ...path];
  }
  return undefined;
}

/** 400 VALIDATION_ERROR naming the first input holding a refused control character: `field`, or its path below `field`. */
export function refuseControlCharacters(input: unknown, field?: string): void {
  const path = pathToControlCharacter(input);
  if (!path) return;
  const name = [...(field === undefined ? [] : [field]), ...path].join('.') || 'body';
  throw validationError(name, `${name} must not contain control characters (tab, line feed and carriage return are the only ones allowed).`);
}

/** Every request's query string, before any route runs. */
export async function refuseControlCharactersInQuery(ctx: Context, next: Next): Promise<void> {
  refuseControlCharacters(ctx.query);
  await next();
}

/** Every path parameter of every route of `router`, before the route runs. */
export function refuseControlCharactersInPathParameters(router: Router): void {
  const names = new Set(router.stack.flatMap((layer) => layer.paramNames.map((key) => key.name)));
  for (const name of names) {
    router.param(name, async (value, _ctx, next) => {
      refuseControlCharacters(value, name);
      await next();
    });
  }
}
