import { z } from 'zod';
import { webhookUrlProblem } from '../domain/webhooks.js';
import { validationError } from './errors.js';

/** For optional form and query fields: a blank value counts as not sent. */
export const emptyToUndefined = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

/** A webhook target as every submission takes it: an http(s) URL the webhook-target rule accepts (domain/webhooks.ts). */
export const webhookUrlField = z
  .string()
  .trim()
  .max(2048)
  .superRefine((value, ctx) => {
    const problem = webhookUrlProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** The first problem zod found: the field at fault (`fallbackField` for the input as a whole) and a message naming it. */
export function firstIssue(error: z.ZodError, fallbackField = 'body'): { field: string; message: string } {
  const issue = error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join('.') : fallbackField;
  const message = issue.code === 'invalid_type' && issue.input === undefined ? `${field} is required.` : `${field}: ${issue.message}`;
  return { field, message };
}

/** Parses input with a zod schema; the first problem becomes a VALIDATION_ERROR naming its field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  // zod leaves `input` off issues unless asked, and firstIssue needs it to tell missing from malformed.
  const parsed = schema.safeParse(input, { reportInput: true });
  if (parsed.success) return parsed.data;
  const { field, message } = firstIssue(parsed.error);
  throw validationError(field, message);
}
