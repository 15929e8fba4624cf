import sharp from 'sharp';
import { ApplicationFailure } from '@temporalio/activity';
import type { Db } from '../db/database.js';
import { ClassificationThresholdRepository } from '../db/repositories/classification-thresholds.js';
import { ClassificationRepository } from '../db/repositories/classifications.js';
import { JobRepository } from '../db/repositories/jobs.js';
import { classificationModel, classificationVersion, type ClassificationResult } from '../domain/classification/documents.js';
import { motionSignals, type MotionRegion } from '../domain/classification/motion-signals.js';
import { labelsOf, riskOf, thresholdsFor } from '../domain/classification/risk.js';
import { classifyClip } from '../domain/classification/scores.js';
import { FailureType } from '../domain/failure-types.js';
import type { FilterSettings } from '../domain/filters.js';
import type { FrameDetections } from '../domain/types.js';
import { decodeToGrey, InvalidImageError, probeImage, shrinkGrey } from '../media/image.js';
import { jobMediaPrefix, type MediaStore } from '../media/store.js';
import type { Logger } from '../logging/logger.js';
import type { FrameRef } from '../workflows/contracts/alarm-verification.js';
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
/** A busiest region larger than this share of the frame is not cropped. */
const maxRegionShare = 0.5;
/** Added around the busiest region on each side, as a share of the frame. */
const regionMargin = 0.06;

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

  /**
   * The region where the clip moved most, cut from the frame in the middle of the clip with a margin, for the
   * classifier: something small near the lens (a spider, its web, a leaf) fills it where it is lost in the frame.
   * None when nothing moved or the region is most of the frame (the classifier sees whole frames anyway).
   */
  async function storeRegion(frames: readonly FrameRef[], region: MotionRegion | null, key: string): Promise<string | null> {
    if (!region || region.width * region.height > maxRegionShare) return null;
    const bytes = await media.get(frames[Math.floor(frames.length / 2)]!.key);
    const { width = 0, height = 0 } = await sharp(bytes).metadata();
    const margin = regionMargin;
    const left = Math.max(0, Math.floor((region.x - margin) * width));
    const top = Math.max(0, Math.floor((region.y - margin) * height));
    const right = Math.min(width, Math.ceil((region.x + region.width + margin) * width));
    const bottom = Math.min(height, Math.ceil((region.y + region.height + margin) * height));
    if (right - left < 32 || bottom - top < 32) return null;
    await media.put(key, await sharp(bytes).extract({ left, top, width: right - left, height: bottom - top }).jpeg({ quality: 90 }).toBuffer());
    return key;
  }

  return {
    /**
     * Marks the job running; samples a clip into frames for the detector, or takes the images as they are; measures
     * the frames' motion and keeps a crop of where they moved most.
     */
    async prepareClassification({ accountId, jobId, source }: JobScope & { source: ClassificationSource }): Promise<PreparedFrames> {
      const job = await jobs.markRunning(accountId, jobId);
      if (!job) {
        // No row after markRunning waited for the submission's transaction: it was rolled back, its media are no one's.
        if (!(await jobs.get(accountId, jobId))) await media.remove(jobMediaPrefix('classification', jobId));
        throw ApplicationFailure.nonRetryable(`Job ${jobId} is not queued or running.`, FailureType.UnknownJob);
      }
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

    /**
     * The scores from the detections, the motion and the helpers' evidence; the risk under the camera's or the
     * account's thresholds; the result stored and the job finished.
     */
    async scoreClassification({
      accountId,
      jobId,
      cameraId,
      prepared,
      detections,
      evidence,
    }: JobScope & { cameraId: string | null; prepared: PreparedFrames; detections: FrameDetections[]; evidence: ClassificationEvidence }): Promise<{
      risk: ClassificationResult['risk'];
    }> {
      const [job, set] = await Promise.all([jobs.get(accountId, jobId), thresholds.find(accountId, cameraId)]);
      if (!job) throw ApplicationFailure.nonRetryable(`Job ${jobId} not found.`, FailureType.UnknownJob);
      const classification = classifyClip({
        frameCount: prepared.frames.length,
        detections,
        motion: prepared.motion,
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
