import type { Db } from '../db/database.js';
import { ImageBatchRepository, type ImageBatchItem } from '../db/repositories/image-batches.js';
import type { JobError, JobStatus, StoredImageTag, TypedJob } from '../db/schema.js';

/** One item as GET /api/v1/images/{job_id} and the `image_batch.finished` webhook show it. */
export interface ImageBatchItemDocument {
  external_id: string;
  status: ImageBatchItem['status'];
  /** Once the item is analysed. `person_ids` and `ocr_results` fill in when face and text analysis run on images. */
  result?: { tags: StoredImageTag[]; person_ids: unknown[]; ocr_results: unknown[] };
  /** Why the item failed: it does not decode, or it was too large. */
  error?: JobError;
}

/** The image batch's document: spec 2's `{job_id, status, items}`, and the job's error when it failed. */
export interface ImageBatchDocument {
  job_id: string;
  status: JobStatus;
  items: ImageBatchItemDocument[];
  error?: JobError;
}

export function presentImageBatchItem(item: ImageBatchItem): ImageBatchItemDocument {
  return {
    external_id: item.externalId,
    status: item.status,
    ...(item.status === 'finished' ? { result: { tags: item.tags, person_ids: item.personIds, ocr_results: item.ocrResults } } : {}),
    ...(item.error ? { error: item.error } : {}),
  };
}

/** The document of an image batch job the caller has read (scoped by its account). */
export async function loadImageBatchDocument(db: Db, job: Pick<TypedJob<'image_batch'>, 'id' | 'account_id' | 'status' | 'error'>): Promise<ImageBatchDocument> {
  const items = await new ImageBatchRepository(db).items(job.account_id, job.id);
  return {
    job_id: job.id,
    status: job.status,
    items: items.map(presentImageBatchItem),
    ...(job.error ? { error: job.error } : {}),
  };
}
