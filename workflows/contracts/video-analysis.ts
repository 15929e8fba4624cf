import type { Detection } from '../../domain/types.js';
import type { JobLifecycleInput } from './job.js';

/**
 * `videoAnalysis(input, settings?)`: one uploaded video (see workflows/video-analysis.ts). Per-frame data
 * (detections, activity) never travels through the workflow: activities keep it in PostgreSQL and answer counts.
 */

/** What probing found of the stored video, and where it is. */
export interface VideoRef {
  mediaKey: string;
  width: number;
  height: number;
  fps: number;
  durationS: number;
}

export interface VideoWorkflowInput extends JobLifecycleInput {
  video: VideoRef;
  /** Frames per second sampled for detection and activity (VIDEO_SAMPLE_FPS when it was submitted). */
  sampleFps: number;
  /** Seconds of video per detection activity (VIDEO_CHUNK_S when it was submitted). */
  chunkSeconds: number;
}

export interface VideoStepInput {
  accountId: string;
  jobId: string;
  video: VideoRef;
}

export interface VideoMotionInput extends VideoStepInput {
  sampleFps: number;
}

export interface VideoMotionResult {
  scenes: number;
  activitySamples: number;
}

/** One chunk of the video, `[startS, endS)`, detected on the detect queue. */
export interface VideoChunkInput extends VideoStepInput {
  chunkIndex: number;
  startS: number;
  endS: number;
  sampleFps: number;
}

export interface VideoChunkResult {
  chunkIndex: number;
  frames: number;
  detections: number;
}

export interface VideoSummaryResult {
  sections: number;
  tracks: number;
}

export interface VideoOutcome {
  jobId: string;
  scenes: number;
  sections: number;
  tracks: number;
}

/** A sampled frame with what was detected in it, in the video's own pixels. */
export interface DetectedVideoFrame {
  timestampS: number;
  width: number;
  height: number;
  /** Mean luminance, 0–255. */
  meanLuma: number;
  detections: Detection[];
}

/** A detected chunk as the detect worker leaves it in the media store for the analysis worker. */
export interface VideoChunkDetections {
  chunkIndex: number;
  startS: number;
  endS: number;
  frames: DetectedVideoFrame[];
}

/** Where a chunk's detections wait, under the job's media prefix, between the detect worker and PostgreSQL. */
export function videoChunkKey(jobPrefix: string, chunkIndex: number): string {
  return `${jobPrefix}/chunks/chunk_${String(chunkIndex).padStart(5, '0')}.json`;
}

/** The chunks of a video of `durationS` seconds, `chunkSeconds` each (the last may be shorter). */
export function videoChunks(durationS: number, chunkSeconds: number): { chunkIndex: number; startS: number; endS: number }[] {
  const count = Math.max(1, Math.ceil(durationS / chunkSeconds - 1e-9));
  return Array.from({ length: count }, (_, chunkIndex) => ({
    chunkIndex,
    startS: chunkIndex * chunkSeconds,
    endS: Math.min(durationS, (chunkIndex + 1) * chunkSeconds),
  }));
}
