import type { Db } from '../db/database.js';
import { DetectionRepository, type NewApiDetection } from '../db/repositories/detections.js';
import { IdempotencyKeyRepository } from '../db/repositories/idempotency-keys.js';
import type { CameraRef } from '../db/repositories/tenancy.js';
import { categoryOfObjectType } from '../domain/object-types.js';
import type { Box } from '../domain/types.js';
import { idempotencyKeyReused, requestHash, type Refusal } from './job-acceptance.js';

/** A detection a sender asks to create, on one of its cameras. */
export interface DetectionDraft {
  camera: CameraRef;
  /** One of `domain/object-types.ts`. */
  objectType: string;
  score: number;
  box: Box;
  /** Null: when it is created. */
  detectedAt: Date | null;
  filePath: string | null;
  fileType: string | null;
  labels: string[];
}

/** One item of a bulk request: a detection to create, or why the sender's item is not one. */
export type DetectionItem = { draft: DetectionDraft } | { invalid: string };

/** What became of one item: the detection created, or why none was. */
export type DetectionItemOutcome = { id: number } | { invalid: string } | { cameraNotFound: CameraRef };

export interface CreateDetectionsRequest {
  accountId: string;
  items: DetectionItem[];
  idempotencyKey?: string;
}

export type CreateDetectionsResult =
  | { outcome: 'answered'; items: DetectionItemOutcome[] }
  | { outcome: 'refused'; refusal: Refusal<'IDEMPOTENCY_KEY_REUSED'> };

/**
 * Creates the valid items of a bulk request, all or nothing: every item's fate is decided first, then the
 * detections go in with one statement, in one transaction with the `Idempotency-Key` claim. The same request
 * under the same key within 24 hours answers the first answer again, creating nothing.
 */
export async function createDetections(db: Db, { accountId, items, idempotencyKey }: CreateDetectionsRequest): Promise<CreateDetectionsResult> {
  const fingerprint = requestHash({ createDetections: items });
  return db.transaction().execute(async (trx) => {
    const keys = new IdempotencyKeyRepository(trx);
    if (idempotencyKey !== undefined) {
      const found = await keys.lookUp(accountId, idempotencyKey, fingerprint);
      if (found.found) {
        if (!found.sameRequest || !('answer' in found.claimed)) return { outcome: 'refused', refusal: idempotencyKeyReused() };
        return { outcome: 'answered', items: found.claimed.answer as DetectionItemOutcome[] };
      }
    }

    const detections = new DetectionRepository(trx);
    const drafts = items.flatMap((item) => ('draft' in item ? [item.draft] : []));
    const cameras = await detections.findCameras(accountId, drafts.map((draft) => draft.camera));
    const cameraIds = new Map(cameras.map(({ ref, id }) => [cameraKey(ref), id]));
    const createdAt = new Date();
    const decided = items.map((item): { create: NewApiDetection } | Exclude<DetectionItemOutcome, { id: number }> => {
      if ('invalid' in item) return item;
      const cameraId = cameraIds.get(cameraKey(item.draft.camera));
      return cameraId ? { create: newDetection(item.draft, cameraId, createdAt) } : { cameraNotFound: item.draft.camera };
    });

    const ids = (await detections.createMany(accountId, decided.flatMap((d) => ('create' in d ? [d.create] : [])))).values();
    const outcomes = decided.map((d): DetectionItemOutcome => ('create' in d ? { id: ids.next().value! } : d));
    if (idempotencyKey !== undefined) await keys.claim(accountId, idempotencyKey, fingerprint, { answer: outcomes });
    return { outcome: 'answered', items: outcomes };
  });
}

const cameraKey = (ref: CameraRef) => JSON.stringify([ref.groupId, ref.siteId, ref.zoneId]);

function newDetection(draft: DetectionDraft, cameraId: string, createdAt: Date): NewApiDetection {
  return {
    cameraId,
    objectType: draft.objectType,
    category: categoryOfObjectType(draft.objectType)!,
    score: draft.score,
    box: draft.box,
    detectedAt: draft.detectedAt ?? createdAt,
    mediaType: draft.fileType?.startsWith('video/') ? 'video' : 'image',
    filePath: draft.filePath,
    fileType: draft.fileType,
    labels: draft.labels,
  };
}
