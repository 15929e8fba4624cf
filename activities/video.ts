import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db } from '../db/database.js';
import { FaceRepository } from '../db/repositories/faces.js';
import { FacesTextRepository } from '../db/repositories/faces-text.js';
import { JobRepository } from '../db/repositories/jobs.js';
import { VideoRepository, type ActivitySample, type StoredVideoFrame, type VideoTrackDetection } from '../db/repositories/videos.js';
import type { VideoResult } from '../db/schema.js';
import { personConstellationScenes } from '../domain/faces/cluster.js';
import { FailureType } from '../domain/failure-types.js';
import { mergeFrameText } from '../domain/text/merge.js';
import { TEXT_INTERVAL_S } from '../domain/video/faces-text-frames.js';
import { ActivityMeter } from '../domain/video/activity.js';
import { ContentCutDetector, type RawScene } from '../domain/video/scene-cuts.js';
import { summariseVideo } from '../domain/video/summary.js';
import { jobMediaPrefix, type MediaStore } from '../media/store.js';
import { decodeFrames, extractJpeg, type DecodedFrame } from '../media/video/frames.js';
import { ToolFailedError } from '../media/video/ffmpeg.js';
import { InvalidVideoError, probeVideo } from '../media/video/probe.js';
import type { Logger } from '../logging/logger.js';
import {
  videoChunkKey,
  type VideoChunkDetections,
  type VideoChunkInput,
  type VideoMotionInput,
  type VideoMotionResult,
  type VideoStepInput,
  type VideoRef,
  type VideoSummaryResult,
} from '../workflows/contracts/video-analysis.js';
import { jobLogger } from './job-logger.js';
import { sectionThumbnailKey } from './video-document.js';

export interface VideoActivityDeps {
  db: Db;
  media: MediaStore;
  logger: Logger;
  /** Section tags critical wherever they occur (VIDEO_CRITICAL_TAGS). */
  criticalTags: string[];
}

/** Width of the frames shot cuts and activity are measured on: the measures are means over pixels, so small is plenty. */
export const MOTION_FRAME_WIDTH = 128;
/** Widest section thumbnail. */
export const THUMBNAIL_MAX_WIDTH = 640;

const invalidVideo = (jobId: string, reason: string) => ApplicationFailure.nonRetryable(`The video of job ${jobId} ${reason}`, FailureType.InvalidVideo);

/** The video pipeline's long steps, on the analysis worker; they heartbeat. */
export function createVideoActivities({ db, media, logger, criticalTags }: VideoActivityDeps) {
  const videos = new VideoRepository(db);
  const jobs = new JobRepository(db);
  const facesText = new FacesTextRepository(db);
  const faceSettings = new FaceRepository(db);

  return {
    /**
     * Marks the job running, then checks the stored video probes and decodes still (a store can lose or damage
     * a file after its upload was accepted).
     */
    async probeStoredVideo({ accountId, jobId, video }: VideoStepInput): Promise<void> {
      if (!(await jobs.markRunning(accountId, jobId))) {
        throw ApplicationFailure.nonRetryable(`Video job ${jobId} does not exist: its submission was rolled back or it was erased.`, FailureType.UnknownJob);
      }
      try {
        await media.withLocalFile(video.mediaKey, (file) => probeVideo(file));
      } catch (error) {
        if (error instanceof InvalidVideoError) throw invalidVideo(jobId, `no longer decodes: ${error.reason}`);
        throw error;
      }
    },

    /**
     * Shot cuts on every frame, and activity at the sample rate, from one decode of small frames; both are
     * stored in PostgreSQL, the workflow gets counts.
     */
    async analyseVideoMotion({ accountId, jobId, video, sampleFps }: VideoMotionInput): Promise<VideoMotionResult> {
      const context = Context.current();
      let motion: VideoMotion;
      try {
        motion = await media.withLocalFile(video.mediaKey, (file) =>
          measureVideoMotion(file, video, sampleFps, (frameIndex) => {
            context.heartbeat({ frameIndex });
            if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
          }),
        );
      } catch (error) {
        if (error instanceof ToolFailedError) throw invalidVideo(jobId, `does not decode: ${error.message}`);
        throw error;
      }
      const { scenes, activity } = motion;
      await videos.storeMotion(accountId, jobId, { scenes, activity });
      jobLogger(logger, { jobId, accountId }).debug({ scenes: scenes.length, activitySamples: activity.length }, 'video motion measured');
      return { scenes: scenes.length, activitySamples: activity.length };
    },

    /**
     * Sections and tracked objects from everything stored, a thumbnail per section, the people per scene and
     * the text from the faces and lines read (none when the run read none), then the result and one detection
     * per tracked object (its best frame), stored together.
     */
    async summariseVideo({ accountId, jobId, video }: VideoStepInput): Promise<VideoSummaryResult> {
      const context = Context.current();
      const job = await jobs.getOfKind(accountId, jobId, 'video');
      const motion = await videos.motion(accountId, jobId);
      if (!job || !motion) throw ApplicationFailure.nonRetryable(`Video job ${jobId} has no stored motion or no longer exists.`, FailureType.UnknownJob);
      const frames = await videos.frames(accountId, jobId);
      const summary = summariseVideo({
        durationS: video.durationS,
        scenes: motion.scenes,
        activity: motion.activity,
        frames: frames.map(({ timestampS, width, height, meanLuma, detections }) => ({ timestampS, width, height, meanLuma, detections })),
        criticalTags,
      });
      context.heartbeat({ sections: summary.sections.length });

      // A thumbnail never past the last frame: extraction after the end finds nothing.
      const lastFrameS = Math.max(0, video.durationS - 1 / video.fps);
      await media.withLocalFile(video.mediaKey, async (file) => {
        for (const [index, section] of summary.sections.entries()) {
          const jpeg = await extractJpeg(file, Math.min(section.thumbnail_timestamp, lastFrameS), THUMBNAIL_MAX_WIDTH);
          await media.put(sectionThumbnailKey(jobId, index), jpeg);
          context.heartbeat({ thumbnail: index });
        }
      });

      const [faces, lines, faceAnalysis, allowlist] = await Promise.all([
        facesText.faces(accountId, jobId),
        facesText.textLines(accountId, jobId),
        faceSettings.faceAnalysisEnabled(accountId),
        faceSettings.allowlistDescriptors(accountId),
      ]);
      const textFrames = new Map<number, { time: number; lines: typeof lines }>();
      for (const line of lines) {
        const frame = textFrames.get(line.timestampS) ?? { time: line.timestampS, lines: [] };
        frame.lines.push(line);
        textFrames.set(line.timestampS, frame);
      }
      const result: VideoResult = {
        raw_scenes: motion.scenes,
        frame_activity_diffs: summary.frameActivityDiffs,
        person_constellation_scenes: personConstellationScenes(
          motion.scenes,
          faces.map((face) => ({ ...face, time: face.timestampS })),
          { faceAnalysis, allowlist },
        ),
        // Merged within each scene: text read on one shot's keyframe is on screen until that shot ends, not longer.
        ocr_results: motion.scenes.flatMap((scene, index) =>
          mergeFrameText(
            [...textFrames.values()].filter((frame) => frame.time >= scene.start_seconds && (frame.time < scene.end_seconds || index === motion.scenes.length - 1)),
            { frameInterval: TEXT_INTERVAL_S, duration: scene.end_seconds },
          ),
        ),
        sections: summary.sections,
      };
      const tracks: VideoTrackDetection[] = summary.tracks.map((track) => ({
        category: track.category,
        label: labelOfTrack(frames, track.best.timestampS, track.best.box) ?? track.category,
        score: track.best.score,
        box: track.best.box,
        timestampS: track.best.timestampS,
      }));
      await videos.finish(accountId, jobId, { result, request: job.request, tracks });
      return { sections: summary.sections.length, tracks: tracks.length };
    },
  };
}

export interface VideoMotion {
  scenes: RawScene[];
  activity: ActivitySample[];
}

/**
 * Shot cuts on every frame, and activity at `sampleFps`, from one decode of small frames of a local video file.
 * `onProgress` runs every 25 frames (heartbeat, cancellation); throwing stops the decode.
 */
export async function measureVideoMotion(
  file: string,
  video: Pick<VideoRef, 'width' | 'durationS'>,
  sampleFps: number,
  onProgress: (frameIndex: number) => void = () => undefined,
): Promise<VideoMotion> {
  const cuts = new ContentCutDetector();
  const meter = new ActivityMeter();
  const activity: ActivitySample[] = [];
  let nextSample = 0;
  for await (const frame of decodeFrames(file, { width: Math.min(MOTION_FRAME_WIDTH, video.width), pixelFormat: 'rgb24' })) {
    cuts.push(frame);
    // The first frame at or after each sample time stands for it, at the sample time the detection frames have.
    if (frame.timestampS + 1e-6 >= nextSample / sampleFps) {
      activity.push({ timestampS: round(nextSample / sampleFps, 3), value: meter.push(greyOf(frame)) });
      while (frame.timestampS + 1e-6 >= nextSample / sampleFps) nextSample += 1;
    }
    if (frame.index % 25 === 0) onProgress(frame.index);
  }
  return { scenes: cuts.finish(video.durationS), activity };
}

/** The video pipeline's short database steps, run as local activities. */
export function createVideoStepActivities({ db, media }: Pick<VideoActivityDeps, 'db' | 'media'>) {
  const videos = new VideoRepository(db);
  return {
    async finishedVideoChunks({ accountId, jobId }: { accountId: string; jobId: string }): Promise<number[]> {
      return videos.finishedChunks(accountId, jobId);
    },

    /** Moves a detected chunk from the media store into PostgreSQL, then removes it from the store. */
    async storeVideoChunk({ accountId, jobId, chunkIndex }: VideoChunkInput): Promise<void> {
      const key = videoChunkKey(jobMediaPrefix('video', jobId), chunkIndex);
      const chunk = JSON.parse((await media.get(key)).toString('utf8')) as VideoChunkDetections;
      const stored = await videos.storeChunk(accountId, jobId, chunk);
      if (!stored) throw ApplicationFailure.nonRetryable(`Video job ${jobId} has ended or no longer exists.`, FailureType.UnknownJob);
      await media.remove(key);
    },
  };
}

export type VideoActivities = ReturnType<typeof createVideoActivities>;
export type VideoStepActivities = ReturnType<typeof createVideoStepActivities>;

/** The model's label of the detection a track's best box came from. */
function labelOfTrack(frames: StoredVideoFrame[], timestampS: number, box: readonly number[]): string | undefined {
  const frame = frames.find((candidate) => Math.abs(candidate.timestampS - timestampS) < 1e-3);
  return frame?.detections.find((d) => d.box.every((value, i) => Math.abs(value - box[i]!) < 1e-3))?.label;
}

/** Rec. 601 luma of an RGB frame, as the grey frame the activity meter reads. */
function greyOf(frame: DecodedFrame): DecodedFrame {
  const pixels = frame.width * frame.height;
  const grey = Buffer.allocUnsafe(pixels);
  for (let i = 0, p = 0; i < pixels; i++, p += 3) grey[i] = Math.round(0.299 * frame.data[p]! + 0.587 * frame.data[p + 1]! + 0.114 * frame.data[p + 2]!);
  return { ...frame, data: grey };
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
