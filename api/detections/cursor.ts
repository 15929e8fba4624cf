import type { DetectionPosition } from '../../db/repositories/detections.js';

/**
 * Opaque page cursors: the position of the last detection served (its time and id), base64url JSON.
 * Keyset pagination: a walk never repeats or skips a row, however many arrive meanwhile.
 */

export function encodeCursor(position: DetectionPosition): string {
  return Buffer.from(JSON.stringify({ t: position.detectedAt.getTime(), id: position.id })).toString('base64url');
}

/** The position a cursor holds, or undefined for anything this API did not issue. */
export function decodeCursor(cursor: string): DetectionPosition | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof decoded !== 'object' || decoded === null) return undefined;
  const { t, id } = decoded as { t?: unknown; id?: unknown };
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) return undefined;
  const detectedAt = new Date(t);
  return Number.isNaN(detectedAt.getTime()) ? undefined : { detectedAt, id };
}
