import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../db/database.js';
import { FaceRepository } from '../db/repositories/faces.js';
import { FacesTextRepository } from '../db/repositories/faces-text.js';
import { ImageBatchRepository, type ImageItemOutcome } from '../db/repositories/image-batches.js';
import { JobRepository } from '../db/repositories/jobs.js';
import { FailureType } from '../domain/failure-types.js';
import { clusterPeople } from '../domain/faces/cluster.js';
import { imageTags } from '../domain/image-tags.js';
import { imageTextResults } from '../domain/text/merge.js';
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
  const facesText = new FacesTextRepository(db);
  const faceSettings = new FaceRepository(db);
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

    /**
     * Turns what the models saw into tags, and the faces and text read in each image (`media_faces`,
     * `media_text_lines`) into its people and text results; stores each item's result, or its error.
     */
    async storeImageOutcomes({ accountId, jobId, analysed }: BatchScope & { analysed: AnalysedImage[] }): Promise<void> {
      const indexes = analysed.map((image) => image.index);
      const [faces, lines, faceAnalysis, allowlist] = await Promise.all([
        facesText.faces(accountId, jobId, indexes),
        facesText.textLines(accountId, jobId, indexes),
        faceSettings.faceAnalysisEnabled(accountId),
        faceSettings.allowlistDescriptors(accountId),
      ]);
      const outcomes: ImageItemOutcome[] = analysed.map((image) => {
        if (!('signals' in image)) return { index: image.index, error: image.error };
        const people = faces
          .filter((face) => face.partIndex === image.index)
          .map((face) => ({ ...face, time: face.timestampS }));
        return {
          index: image.index,
          tags: imageTags(image.signals, tagMinProbability),
          personIds: clusterPeople(people, { faceAnalysis, allowlist }),
          ocrResults: imageTextResults(lines.filter((line) => line.partIndex === image.index)),
        };
      });
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
