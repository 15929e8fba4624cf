import sharp from 'sharp';
import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../db/database.js';
import { ClassificationThresholdRepository } from '../db/repositories/classification-thresholds.js';
import { ClassificationRepository } from '../db/repositories/classifications.js';
import { JobRepository } from '../db/repositories/jobs.js';
import { classificationModel, classificationVersion, type ClassificationResult } from '../domain/classification/documents.js';
import { motionSignals, type MotionRegion } from '../domain/classification/motion-signals.js';
import { labelsOf, riskOf, thresholdsFor } from '../domain/classification/risk.js';
import { middleOf, regionCrop, type ClipSampling } from '../domain/classification/sampling.js';
import { classifyClip } from '../domain/classification/scores.js';
import { FailureType } from '../domain/failure-types.js';
import type { FilterSettings } from '../domain/filters.js';
import type { FrameDetections } from '../domain/types.js';
import { decodeToGrey, InvalidImageError, probeImage, shrinkGrey } from '../media/image.js';
import { jobMediaPrefix, type MediaStore } from '../media/store.js';
import type { Logger } from '../logging/logger.js';
import type { FrameRef } from '../workflows/contracts/alarm-verification.js';
import type {
  AnalysedFrames,
  ClassificationEvidence,
  ClassificationSource,
  PreparedFrames,
} from '../workflows/contracts/clip-classification.js';
import { jobLogger } from './job-logger.js';
import { sampleClip } from './classification-sampling.js';

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

  /** Grey thumbnails of the frames, all at the first one's size, for the motion statistics. */
  async function motionThumbnails(frames: readonly FrameRef[]) {
    const thumbnails = await Promise.all(
      frames.map(async (frame) => {
        try {
          return await decodeToGrey(await media.get(frame.key), motionThumbnailWidth);
        } catch (error) {
          throw error instanceof InvalidImageError ? invalidImage(error) : error;
        }
      }),
    );
    // Images of one request may differ in size: motion compares them at the first one's.
    const first = thumbnails[0]!;
    return Promise.all(thumbnails.map((t) => (t.width === first.width && t.height === first.height ? t : shrinkGrey(t, first.width, first.height))));
  }

  /** The crop of where the clip moved most (`regionCrop`), cut from the frame in the middle of the clip and stored. */
  async function storeRegion(frames: readonly FrameRef[], region: MotionRegion | null, key: string): Promise<string | null> {
    if (!region) return null;
    const bytes = await media.get(middleOf(frames).key);
    const { width = 0, height = 0 } = await sharp(bytes).metadata();
    const crop = regionCrop(region, width, height);
    if (!crop) return null;
    await media.put(key, await sharp(bytes).extract(crop).jpeg({ quality: 90 }).toBuffer());
    return key;
  }

  async function begin(accountId: string, jobId: string): Promise<void> {
    const job = await jobs.markRunning(accountId, jobId);
    if (job) return;
    // No row after markRunning waited for the submission's transaction: it was rolled back, its media are no one's.
    if (!(await jobs.get(accountId, jobId))) await media.remove(jobMediaPrefix('classification', jobId));
    throw ApplicationFailure.nonRetryable(`Job ${jobId} is not queued or running.`, FailureType.UnknownJob);
  }

  /**
   * The scores from the analysed frames (detections, motion, the helpers' evidence); the risk under the camera's or
   * the account's thresholds; the result stored and the job finished.
   */
  async function scoreAnalysed({ accountId, jobId, cameraId, analysed }: JobScope & { cameraId: string | null; analysed: AnalysedFrames }): Promise<{
    risk: ClassificationResult['risk'];
  }> {
    const { processed, detections, motion, evidence } = analysed;
    const [job, set] = await Promise.all([jobs.get(accountId, jobId), thresholds.find(accountId, cameraId)]);
    if (!job) throw ApplicationFailure.nonRetryable(`Job ${jobId} not found.`, FailureType.UnknownJob);
    const classification = classifyClip({
      frameCount: processed.nframes,
      detections,
      motion,
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
      processed,
      model: classificationModel,
      version: classificationVersion,
      detector: detectorModel,
    };
    const finished = await classifications.finish(accountId, jobId, result);
    jobLogger(logger, { jobId, accountId }).info({ risk: result.risk, labels: result.labels, finished }, 'classification finished');
    return { risk: result.risk };
  }

  return {
    /**
     * Marks the job running; samples a clip into frames for the detector, or takes the images as they are; measures
     * the frames' motion and keeps a crop of where they moved most. Only workflows started before the detect queue's
     * `analyseClassificationFrames` did this (workflows/clip-classification.ts): kept while they may run.
     */
    async prepareClassification({ accountId, jobId, source }: JobScope & { source: ClassificationSource }): Promise<PreparedFrames> {
      await begin(accountId, jobId);
      const prefix = jobMediaPrefix('classification', jobId);
      let sampled: Pick<PreparedFrames, 'frames' | 'processed'>;
      if (source.kind === 'video') {
        sampled = await sampleClip(media, { ...source, framesPrefix: `${prefix}/frames` }, sampling);
      } else {
        const first = await probeImage(await media.get(source.frames[0]!.key)).catch((error: unknown) => {
          throw error instanceof InvalidImageError ? invalidImage(error) : error;
        });
        sampled = { frames: source.frames, processed: { width: first.width, height: first.height, fps: 0, nframes: source.frames.length, duration: 0 } };
      }
      const motion = motionSignals(await motionThumbnails(sampled.frames));
      const regionKey = await storeRegion(sampled.frames, motion.hotRegion, `${prefix}/region.jpg`);
      return { ...sampled, motion, regionKey };
    },

    /** Marks the job running, or fails it UNKNOWN_JOB (its media removed) when its submission was rolled back. */
    beginClassification: ({ accountId, jobId }: JobScope): Promise<void> => begin(accountId, jobId),

    /** `scoreAnalysed` over frames prepared by `prepareClassification` and detected by the detect queue's activities. */
    scoreClassification({
      prepared,
      detections,
      evidence,
      ...scope
    }: JobScope & { cameraId: string | null; prepared: PreparedFrames; detections: FrameDetections[]; evidence: ClassificationEvidence }): Promise<{
      risk: ClassificationResult['risk'];
    }> {
      return scoreAnalysed({ ...scope, analysed: { processed: prepared.processed, detections, motion: prepared.motion, evidence } });
    },

    scoreAnalysedClassification: scoreAnalysed,
  };
}

export type ClassificationActivities = ReturnType<typeof createClassificationActivities>;
