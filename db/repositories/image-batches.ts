import { sql } from 'kysely';
import { endedJobStatuses } from '../../domain/job-kinds.js';
import type { Db } from '../database.js';
import type { ImageBatchItemStatus, ImageBatchResult, JobError, StoredImageTag } from '../schema.js';

export interface NewImageBatchItem {
  index: number;
  externalId: string;
  /** Null for an item that failed at submission. */
  mediaKey: string | null;
  bytes: number;
  /** Set for an item that failed at submission: it is stored `failed` and never analysed. */
  error: JobError | null;
}

/** One analysed item's outcome, as the analysis stores it; people and text where they were read. */
export type ImageItemOutcome = { index: number } & ({ tags: StoredImageTag[]; personIds?: unknown[]; ocrResults?: unknown[] } | { error: JobError });

export interface ImageBatchItem {
  index: number;
  externalId: string;
  status: ImageBatchItemStatus;
  tags: StoredImageTag[];
  personIds: unknown[];
  ocrResults: unknown[];
  error: JobError | null;
}

export class ImageBatchRepository {
  constructor(private readonly db: Db) {}

  /** Inside the submission's transaction, after the job row. */
  async insertItems(accountId: string, jobId: string, items: readonly NewImageBatchItem[]): Promise<void> {
    if (items.length === 0) return;
    await this.db
      .insertInto('image_batch_items')
      .values(
        items.map((item) => ({
          account_id: accountId,
          job_id: jobId,
          item_index: item.index,
          external_id: item.externalId,
          media_key: item.mediaKey,
          bytes: item.bytes,
          status: item.error ? ('failed' as const) : ('queued' as const),
          error: item.error ? JSON.stringify(item.error) : null,
        })),
      )
      .execute();
  }

  /** The stored images still to analyse with an index in [fromIndex, toIndex), in order. */
  async queuedImages(accountId: string, jobId: string, fromIndex: number, toIndex: number): Promise<{ index: number; key: string }[]> {
    const rows = await this.db
      .selectFrom('image_batch_items')
      .select(['item_index', 'media_key'])
      .where('account_id', '=', accountId)
      .where('job_id', '=', jobId)
      .where('status', '=', 'queued')
      .where('media_key', 'is not', null)
      .where('item_index', '>=', fromIndex)
      .where('item_index', '<', toIndex)
      .orderBy('item_index')
      .execute();
    return rows.map((row) => ({ index: row.item_index, key: row.media_key! }));
  }

  /** Stores analysed items; an item already stored keeps its first outcome (a retried step changes nothing). */
  async storeOutcomes(accountId: string, jobId: string, outcomes: readonly ImageItemOutcome[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (const outcome of outcomes) {
        await trx
          .updateTable('image_batch_items')
          .set(
            'tags' in outcome
              ? {
                  status: 'finished',
                  tags: JSON.stringify(outcome.tags),
                  person_ids: JSON.stringify(outcome.personIds ?? []),
                  ocr_results: JSON.stringify(outcome.ocrResults ?? []),
                  analysed_at: sql`now()`,
                }
              : { status: 'failed', error: JSON.stringify(outcome.error), analysed_at: sql`now()` },
          )
          .where('account_id', '=', accountId)
          .where('job_id', '=', jobId)
          .where('item_index', '=', outcome.index)
          .where('status', '=', 'queued')
          .execute();
      }
    });
  }

  /**
   * Ends the batch: its job `finished` with the items' counts, unless it had already ended. Returns the counts,
   * or undefined when the job is gone.
   */
  async finish(accountId: string, jobId: string): Promise<ImageBatchResult | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const job = await trx
        .selectFrom('jobs')
        .select('status')
        .where('account_id', '=', accountId)
        .where('id', '=', jobId)
        .forUpdate()
        .executeTakeFirst();
      if (!job) return undefined;
      const counts = await trx
        .selectFrom('image_batch_items')
        .select((eb) => [
          eb.fn.countAll<string>().filterWhere('status', '=', 'finished').as('finished'),
          eb.fn.countAll<string>().filterWhere('status', '=', 'failed').as('failed'),
        ])
        .where('account_id', '=', accountId)
        .where('job_id', '=', jobId)
        .executeTakeFirstOrThrow();
      const result: ImageBatchResult = { items_finished: Number(counts.finished), items_failed: Number(counts.failed) };
      if ((endedJobStatuses as readonly string[]).includes(job.status)) return result;
      await trx
        .updateTable('jobs')
        .set({ status: 'finished', stage: 'finished', result: JSON.stringify(result), finished_at: sql`now()` })
        .where('account_id', '=', accountId)
        .where('id', '=', jobId)
        .execute();
      return result;
    });
  }

  /** Every item of the batch, in submission order. */
  async items(accountId: string, jobId: string): Promise<ImageBatchItem[]> {
    const rows = await this.db
      .selectFrom('image_batch_items')
      .select(['item_index', 'external_id', 'status', 'tags', 'person_ids', 'ocr_results', 'error'])
      .where('account_id', '=', accountId)
      .where('job_id', '=', jobId)
      .orderBy('item_index')
      .execute();
    return rows.map((row) => ({
      index: row.item_index,
      externalId: row.external_id,
      status: row.status,
      tags: row.tags ?? [],
      personIds: row.person_ids,
      ocrResults: row.ocr_results,
      error: row.error,
    }));
  }
}
