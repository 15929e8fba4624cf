import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../db/database.js';
import { ClassificationThresholdRepository } from '../db/repositories/classification-thresholds.js';
import { ClassificationRepository } from '../db/repositories/classifications.js';
import { JobRepository } from '../db/repositories/jobs.js';
import { classificationModel, classificationVersion, type ClassificationResult } from '../domain/classification/documents.js';
import { motionSignals } from '../domain/classification/motion-signals.js';
import { labelsOf, riskOf, thresholdsFor } from '../domain/classification/risk.js';
import { classifyClip } from '../domain/classification/scores.js';
import { FailureType } from '../domain/failure-types.js';
import type { FilterSettings } from '../domain/filters.js';
import type { FrameDetections } from '../domain/types.js';
import { decodeToGrey, InvalidImageError, probeImage, shrinkGrey } from '../media/image.js';
import { jobMediaPrefix, type MediaStore } from '../media/store.js';
import type { Logger } from '../logging/logger.js';
import type {
  ClassificationEvidence,
  ClassificationSource,
  PreparedFrames,
} from '../workflows/contracts/clip-classification.js';
import { jobLogger } from './job-logger.js';
import { sampleClip, type ClipSampling } from './classification-sampling.js';

export interface ClassificationActivityDeps {
  db: Db;
  media: MediaStore;
  logger: Logger;
  /** How clips are sampled for the detector. */
  sampling: ClipSampling;
  /** The nuisance-filter settings the alarm pipeline applies to sites of no particular category. */
  filterSettings: FilterSettings;
  /** The detector model's name, as results name it. */
  detectorModel: string;
}

interface JobScope {
  accountId: string;
  jobId: string;
}

/** Width of the grey thumbnails compared for motion: 8 cells of 12 pixels across. */
const motionThumbnailWidth = 96;

const invalidImage = (error: InvalidImageError) => ApplicationFailure.nonRetryable(error.message, FailureType.InvalidImage);

/** 'YYYY-MM-DD HH:MM:SS' in UTC: the clock the decision rules read (an armed site is closed at every hour). */
const clockOf = (date: Date) => date.toISOString().slice(0, 19).replace('T', ' ');

export function createClassificationActivities({ db, media, logger, sampling, filterSettings, detectorModel }: ClassificationActivityDeps) {
  const jobs = new JobRepository(db);
  const classifications = new ClassificationRepository(db);
  const thresholds = new ClassificationThresholdRepository(db);

  return {
    /** Marks the job running; samples a clip into frames for the detector, or takes the images as they are. */
    async prepareClassification({ accountId, jobId, source }: JobScope & { source: ClassificationSource }): Promise<PreparedFrames> {
      const job = await jobs.markRunning(accountId, jobId);
      if (!job) {
        // No row after markRunning waited for the submission's transaction: it was rolled back, its media are no one's.
        if (!(await jobs.get(accountId, jobId))) await media.remove(jobMediaPrefix('classification', jobId));
        throw ApplicationFailure.nonRetryable(`Job ${jobId} is not queued or running.`, FailureType.UnknownJob);
      }
      if (source.kind === 'video') {
        return sampleClip(media, { ...source, framesPrefix: `${jobMediaPrefix('classification', jobId)}/frames` }, sampling);
      }
      const first = await probeImage(await media.get(source.frames[0]!.key)).catch((error: unknown) => {
        throw error instanceof InvalidImageError ? invalidImage(error) : error;
      });
      return {
        frames: source.frames,
        processed: { width: first.width, height: first.height, fps: 0, nframes: source.frames.length, duration: 0 },
      };
    },

    /**
     * The scores from the detections, the frames' motion and the helpers' evidence; the risk under the account's
     * or the camera's thresholds; the result stored and the job finished.
     */
    async classifyFrames({
      accountId,
      jobId,
      cameraId,
      prepared,
      detections,
      evidence,
    }: JobScope & { cameraId: string | null; prepared: PreparedFrames; detections: FrameDetections[]; evidence: ClassificationEvidence }): Promise<{
      risk: ClassificationResult['risk'];
    }> {
      const thumbnails = await Promise.all(
        prepared.frames.map(async (frame) => {
          try {
            return await decodeToGrey(await media.get(frame.key), motionThumbnailWidth);
          } catch (error) {
            throw error instanceof InvalidImageError ? invalidImage(error) : error;
          }
        }),
      );
      // Images of one request may differ in size: motion compares them at the first one's.
      const first = thumbnails[0]!;
      const sameSize = await Promise.all(thumbnails.map((t) => (t.width === first.width && t.height === first.height ? t : shrinkGrey(t, first.width, first.height))));
      const [job, set] = await Promise.all([jobs.get(accountId, jobId), thresholds.find(accountId, cameraId)]);
      if (!job) throw ApplicationFailure.nonRetryable(`Job ${jobId} not found.`, FailureType.UnknownJob);

      const classification = classifyClip({
        frameCount: prepared.frames.length,
        detections,
        motion: motionSignals(sameSize),
        classifier: evidence.classifier,
        text: evidence.text,
        clipTime: clockOf(job.created_at),
        filterSettings,
      });
      const applied = thresholdsFor(set.account, set.camera);
      const { scores } = classification;
      const result: ClassificationResult = {
        risk: riskOf(scores.intrusion, applied),
        labels: labelsOf(scores),
        scores,
        thresholds: applied,
        indicators: [...classification.filters.indicators, ...classification.decision.indicators],
        processed: prepared.processed,
        model: classificationModel,
        version: classificationVersion,
        detector: detectorModel,
      };
      const finished = await classifications.finish(accountId, jobId, result);
      jobLogger(logger, { jobId, accountId }).info({ risk: result.risk, labels: result.labels, finished }, 'classification finished');
      return { risk: result.risk };
    },
  };
}

export type ClassificationActivities = ReturnType<typeof createClassificationActivities>;
