/**
 * Matching a face against an account's allowlist: the face is allowlisted when its descriptor lies
 * within FACE_MATCH_THRESHOLD (Euclidean) of any photo's descriptor on the list.
 */
import { euclidean } from './verification.js';

/**
 * Chosen on the labelled face fixtures (npm run bench:faces, BENCHMARKS.md "Faces"): balanced accuracy
 * is flat from 0.46 to 0.52 and 0.5 lies in the middle; the dlib descriptor's usual 0.6 let different
 * people of one recording session match.
 */
export const FACE_MATCH_THRESHOLD = 0.5;

export interface AllowlistDescriptor {
  entryId: string;
  descriptor: ArrayLike<number>;
}

/** The allowlist entry of the closest photo within the threshold, or null. */
export function matchAllowlist(descriptor: ArrayLike<number>, allowlist: readonly AllowlistDescriptor[], threshold = FACE_MATCH_THRESHOLD): { entryId: string; distance: number } | null {
  let best: { entryId: string; distance: number } | null = null;
  for (const entry of allowlist) {
    const distance = euclidean(descriptor, entry.descriptor);
    if (distance < threshold && (!best || distance < best.distance)) best = { entryId: entry.entryId, distance };
  }
  return best;
}
