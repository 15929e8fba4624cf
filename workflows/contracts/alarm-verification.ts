import type { MeasuredFrameDetections } from '../../domain/frame-measures.js';
import type { Sensitivity } from '../../domain/types.js';
import type { JobLifecycleInput } from './job.js';

/** `alarmVerification(input, settings?)`: one alarm submission (see workflows/alarm-verification.ts). */

/** What the submission hands the workflow: identifiers and media keys only, never image bytes nor webhook secrets. */
export interface AlarmWorkflowInput extends JobLifecycleInput {
  cameraId: string;
  sensitivity: Sensitivity;
  siteCategory: string;
  timestamp: string | null;
  siteAddress: string | null;
  names: { groupName: string | null; siteName: string | null; zoneName: string | null };
  frames: FrameRef[];
}

export interface FrameRef {
  index: number;
  key: string;
}

export interface DetectFramesInput {
  jobId: string;
  /** For the detection worker's log lines; callers outside a job may leave it out. */
  accountId?: string;
  frames: FrameRef[];
  /**
   * The cascade and the tiled pass look at every changed frame, not every other one first: an alarm at sensitivity
   * 0 or 1 runs no persistence filter, so a person seen in a single frame counts (gpu-worker/changed-frames.ts).
   */
  everyChangedFrame?: boolean;
  /** Each frame's quality and motion measures too, for an analysis that judges them (`analyseFrames`). */
  measure?: boolean;
}

/**
 * Per frame in the order asked: detections, and when asked for from detection workers since the measures were added,
 * the frame's quality and motion measures (older results and recorded histories have none: the analysis then
 * decodes the frames).
 */
export type DetectFramesResult = MeasuredFrameDetections[];

export interface AlarmOutcome {
  jobId: string;
  crimeRate: 0 | 1 | 2;
  decision: string;
}
