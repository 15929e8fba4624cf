import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';

/** A process the test needs died on its own: waiting longer cannot help. */
export class ProcessExitedError extends Error {
  override name = 'ProcessExitedError';
}

/**
 * Polls until `check` returns a truthy value, failing with `what` once the deadline passes. Other errors
 * are retried (the system may not be ready yet), but a failed assertion or a dead process ends the wait at once.
 */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 30_000, intervalMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      if (error instanceof assert.AssertionError || error instanceof ProcessExitedError) throw error;
      lastError = error;
    }
    await delay(intervalMs);
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}
