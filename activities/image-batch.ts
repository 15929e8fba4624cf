import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../db/database.js';
import { ImageBatchRepository, type ImageItemOutcome } from '../db/repositories/image-batches.js';
import { JobRepository } from '../db/repositories/jobs.js';
import { FailureType } from '../domain/failure-types.js';
import { imageTags } from '../domain/image-tags.js';
import type { Logger } from '../logging/logger.js';
import type { AnalysedImage, ImageBatchOutcome, ImageRef } from '../workflows/contracts/image-batch-analysis.js';
import { jobLogger } from './job-logger.js';

export interface ImageBatchActivityDeps {
  db: Db;
  logger: Logger;
  /** Tags less probable than this are left out of an item's result. */
  tagMinProbability: number;
}

interface BatchScope {
  accountId: string;
  jobId: string;
}

/** The image-batch pipeline's database steps (workflows/image-batch-analysis.ts); the models run on the detect queue. */
export function createImageBatchActivities({ db, logger, tagMinProbability }: ImageBatchActivityDeps) {
  const jobs = new JobRepository(db);
  const batches = new ImageBatchRepository(db);
  return {
    /** Marks the batch running; a batch whose submission never committed has nothing to run. */
    async startImageBatch({ accountId, jobId }: BatchScope): Promise<void> {
      const job = await jobs.markRunning(accountId, jobId);
      if (!job) throw ApplicationFailure.nonRetryable(`Job ${jobId} does not exist.`, FailureType.UnknownJob);
    },

    /** The stored images of one chunk still to analyse: the workflow never holds the whole batch's list. */
    async queuedImages({ accountId, jobId, fromIndex, toIndex }: BatchScope & { fromIndex: number; toIndex: number }): Promise<ImageRef[]> {
      return batches.queuedImages(accountId, jobId, fromIndex, toIndex);
    },

    /** Turns what the models saw into tags and stores each item's result, or its error. */
    async storeImageOutcomes({ accountId, jobId, analysed }: BatchScope & { analysed: AnalysedImage[] }): Promise<void> {
      const outcomes: ImageItemOutcome[] = analysed.map((image) =>
        'signals' in image ? { index: image.index, tags: imageTags(image.signals, tagMinProbability) } : { index: image.index, error: image.error },
      );
      await batches.storeOutcomes(accountId, jobId, outcomes);
    },

    /** Ends the batch finished with its items' counts. */
    async finishImageBatch({ accountId, jobId }: BatchScope): Promise<ImageBatchOutcome> {
      const result = await batches.finish(accountId, jobId);
      if (!result) throw ApplicationFailure.nonRetryable(`Job ${jobId} does not exist.`, FailureType.UnknownJob);
      jobLogger(logger, { jobId, accountId }).info(result, 'image batch finished');
      return { jobId, finished: result.items_finished, failed: result.items_failed };
    },
  };
}

export type ImageBatchActivities = ReturnType<typeof createImageBatchActivities>;
