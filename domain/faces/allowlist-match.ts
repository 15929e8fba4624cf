/**
 * Matching a face against an account's allowlist: the face is allowlisted when its descriptor lies
 * within FACE_MATCH_THRESHOLD (Euclidean) of any photo's descriptor on the list.
 */
import { euclidean } from './verification.js';

/**
 * Euclidean distance between unit-length HSE FaceRes descriptors, chosen on the labelled face fixtures
 * (BENCHMARKS.md "Faces"): the thresholds chosen without each person in turn lie at 0.879–0.903 and
 * balanced accuracy stays at 98 % or more from 0.86 to 0.92, so 0.9 sits inside that plateau, not on an edge.
 */
export const FACE_MATCH_THRESHOLD = 0.9;

/**
 * The model whose descriptors are compared (stored with every allowlist photo): descriptors of another
 * model lie in another space and are never compared with these.
 */
export const FACE_DESCRIPTOR_MODEL = 'hse-faceres-1024';

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
