/**
 * What a classification job stores: its request as the caller described it, and its result. Pure types and
 * constants: the database layer, the activities and the API read the same ones.
 */
import type { Risk, RiskThresholds } from './risk.js';
import type { ClassificationClass, ClassificationScores } from './scores.js';

/** Which model and rules produced a result, as every result names them. */
export const classificationModel = 'vigil-classify';
export const classificationVersion = '1.0.0';

/** A clip's properties as probed before it was accepted. */
export interface OriginalSpecs {
  width: number;
  height: number;
  fps: number;
  nframes: number;
  duration: number;
}

export type ClassificationMedia =
  | { kind: 'video'; name: string; bytes: number; original: OriginalSpecs }
  | { kind: 'images'; names: string[]; bytes: number; original: Pick<OriginalSpecs, 'width' | 'height' | 'nframes'> };

export interface ClassificationRequest {
  /** The caller's label for the tenant: echoed back, never a way into another account. */
  tenant: string;
  camera_id: string | null;
  analyse_id: number | null;
  parent_id: string | null;
  metadata: Record<string, unknown>;
  media: ClassificationMedia;
}

export interface ClassificationResult {
  risk: Risk;
  labels: ClassificationClass[];
  scores: ClassificationScores;
  /** The thresholds the risk was taken with. */
  thresholds: RiskThresholds;
  /** Why the intrusion score is what it is: the alarm filters that removed something, then the decision's indicators. */
  indicators: string[];
  processed: { width: number; height: number; fps: number; nframes: number; duration: number };
  model: string;
  version: string;
  /** Detector and helper models that ran. */
  detector: string;
}

/** `error_code` of a classification that ended without a result, by failure type; 0 is no error. */
export const classificationErrorCodes: Readonly<Record<string, number>> = {
  ANALYSIS_FAILED: 1,
  INVALID_IMAGE: 2,
  INVALID_VIDEO: 3,
  MAX_PROCESSING_TIME_EXCEEDED: 4,
  CANCELLED: 5,
};

/** Any other failure type counts as the analysis failing. */
export function classificationErrorCode(failureType: string): number {
  return classificationErrorCodes[failureType] ?? classificationErrorCodes.ANALYSIS_FAILED!;
}
