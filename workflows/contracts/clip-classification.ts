import { defineUpdate } from '@temporalio/workflow';
import type { MotionSignals } from '../../domain/classification/motion-signals.js';
import type { ClassifierEvidence } from '../../domain/classification/scores.js';
import type { FrameRef } from './alarm-verification.js';
import type { JobLifecycleInput } from './job.js';

/** `clipClassification(input, settings?)`: one clip classification (see workflows/clip-classification.ts). */

/** What the classification is run on: the stored clip, or the stored images in order. Keys only, never bytes. */
export type ClassificationSource =
  | { kind: 'video'; key: string; /** As probed at submission. */ width: number; height: number; durationS: number }
  | { kind: 'images'; frames: FrameRef[] };

export interface ClassificationWorkflowInput extends JobLifecycleInput {
  source: ClassificationSource;
  /** The camera as the request named it, for its risk thresholds; null when it named none. */
  cameraId: string | null;
}

/** How a clip was sampled for the analysis. */
export interface ProcessedSpecs {
  width: number;
  height: number;
  fps: number;
  nframes: number;
  /** Seconds from the first sampled frame to the end of the last; 0 for images. */
  duration: number;
}

export interface PreparedFrames {
  frames: FrameRef[];
  processed: ProcessedSpecs;
  motion: MotionSignals;
  /** A crop of where the clip moved most (a spider or a leaf near the lens), for the classifier; null when none. */
  regionKey: string | null;
}

/** What the detection queue's helpers found beside the detector: null where none ran. */
export interface ClassificationEvidence {
  classifier: ClassifierEvidence | null;
  text: number | null;
}

export interface ClassificationOutcome {
  jobId: string;
  risk: string;
}

/**
 * Answers once the classification's pipeline has ended, finished or not, before the webhook is sent: a request
 * with `?sync=true` waits on it and then reads the stored result.
 */
export const classificationEndedUpdate = defineUpdate<void>('classificationEnded');
