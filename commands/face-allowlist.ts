import type { Db } from '../db/database.js';
import { FaceRepository, type AllowlistEntry } from '../db/repositories/faces.js';
import { decodeToRgb, InvalidImageError, type RgbImage } from '../media/image.js';

/** What the allowlist needs of a face model: the faces of an image, each with its descriptor. */
export interface FaceDescriber {
  describe(image: RgbImage): Promise<{ faces: { descriptor: ArrayLike<number> }[] }>;
}

export const MAX_ALLOWLIST_PHOTOS = 10;

export type AllowlistRefusal =
  | { code: 'FACE_ANALYSIS_DISABLED'; message: string }
  | { code: 'INVALID_IMAGE' | 'NO_FACE' | 'MULTIPLE_FACES'; message: string; photo: number };

export type AddAllowlistOutcome = { outcome: 'added'; entry: AllowlistEntry } | { outcome: 'refused'; refusal: AllowlistRefusal };

/**
 * A person added to the account's allowlist from 1 to 10 photos, each holding exactly one face. Only
 * the faces' descriptors are kept, never the photos; nothing is stored unless every photo is good.
 */
export async function addAllowlistEntry(
  deps: { db: Db; describer: () => Promise<FaceDescriber> },
  accountId: string,
  name: string,
  photos: readonly Uint8Array[],
): Promise<AddAllowlistOutcome> {
  const faces = new FaceRepository(deps.db);
  if (!(await faces.faceAnalysisEnabled(accountId))) {
    return { outcome: 'refused', refusal: { code: 'FACE_ANALYSIS_DISABLED', message: 'Face analysis is off for this account; an operator turns it on with `npm run vigil -- faces enable`.' } };
  }
  const describer = await deps.describer();
  const descriptors: ArrayLike<number>[] = [];
  for (const [index, photo] of photos.entries()) {
    let image: RgbImage;
    try {
      image = await decodeToRgb(photo);
    } catch (error) {
      if (!(error instanceof InvalidImageError)) throw error;
      return { outcome: 'refused', refusal: { code: 'INVALID_IMAGE', message: `Photo ${index + 1} is not a usable image: ${error.message}`, photo: index } };
    }
    const found = await describer.describe(image);
    if (found.faces.length === 0) return { outcome: 'refused', refusal: { code: 'NO_FACE', message: `Photo ${index + 1} shows no face.`, photo: index } };
    if (found.faces.length > 1) {
      return { outcome: 'refused', refusal: { code: 'MULTIPLE_FACES', message: `Photo ${index + 1} shows ${found.faces.length} faces; send photos of the one person alone.`, photo: index } };
    }
    descriptors.push(found.faces[0]!.descriptor);
  }
  return { outcome: 'added', entry: await faces.addAllowlistEntry(accountId, name, descriptors) };
}

export function listAllowlist(db: Db, accountId: string): Promise<AllowlistEntry[]> {
  return new FaceRepository(db).allowlist(accountId);
}

/** The person and every descriptor of their photos; false when the account has no such entry. */
export function removeAllowlistEntry(db: Db, accountId: string, entryId: string): Promise<boolean> {
  return new FaceRepository(db).deleteAllowlistEntry(accountId, entryId);
}
