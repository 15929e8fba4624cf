/**
 * A classification's risk and labels from its scores. `risk` comes from the intrusion score alone: under `low`
 * safe, under `high` danger, else intrusion. Thresholds are the defaults, then the account's, then the camera's.
 * Pure: no I/O.
 */
import { z } from 'zod';
import { classificationClasses, type ClassificationClass, type ClassificationScores } from './scores.js';

export const risks = ['safe', 'danger', 'intrusion'] as const;
export type Risk = (typeof risks)[number];

export interface RiskThresholds {
  low: number;
  high: number;
}

export const defaultRiskThresholds: RiskThresholds = { low: 0.2, high: 0.8 };

/** Scores at or above this become labels. */
export const labelThreshold = 0.5;

export const riskThresholdsSchema = z
  .object({ low: z.number().min(0).max(1), high: z.number().min(0).max(1) })
  .refine(({ low, high }) => low <= high, { message: 'low must not exceed high', path: ['low'] });

export function riskOf(intrusion: number, { low, high }: RiskThresholds): Risk {
  if (intrusion < low) return 'safe';
  return intrusion < high ? 'danger' : 'intrusion';
}

/** The classes scoring at least 0.5, highest first (ties in the classes' own order). */
export function labelsOf(scores: ClassificationScores): ClassificationClass[] {
  return classificationClasses
    .filter((name) => scores[name] >= labelThreshold)
    .sort((a, b) => scores[b] - scores[a] || classificationClasses.indexOf(a) - classificationClasses.indexOf(b));
}

/** The most specific thresholds set: the camera's, else the account's, else the defaults. */
export function thresholdsFor(account: RiskThresholds | undefined, camera: RiskThresholds | undefined): RiskThresholds {
  return camera ?? account ?? defaultRiskThresholds;
}
