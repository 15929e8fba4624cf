import { defineUpdate } from '@temporalio/workflow';
import type { MotionSignals } from '../../domain/classification/motion-signals.js';
import type { ProcessedSpecs } from '../../domain/classification/sampling.js';
import type { ClassifierEvidence } from '../../domain/classification/scores.js';
import type { FrameDetections } from '../../domain/types.js';
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

/** `analyseClassificationFrames` on the detect queue: the clip (or the images) of one classification, analysed. */
export interface AnalyseClassificationInput {
  accountId: string;
  jobId: string;
  source: ClassificationSource;
}

/** What the scores need of the frames, compact enough for a workflow's history: no pixels, no media keys. */
export interface AnalysedFrames {
  processed: ProcessedSpecs;
  /** What the detectors found per frame. */
  detections: FrameDetections[];
  motion: MotionSignals;
  evidence: ClassificationEvidence;
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
