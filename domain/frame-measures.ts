/**
 * What the detection worker measures on each frame it decoded, for the analysis to judge without decoding
 * the frame again: the frame-quality measures (domain/frame-quality.ts) and the motion between it and the
 * frame before (domain/motion.ts). A few numbers per frame: they travel in the workflow's history. Pure.
 */
import { sameMeasuring, type FrameQualityMeasures, type FrameQualityMeasuring } from './frame-quality.js';
import type { FrameDetections } from './types.js';

export interface FrameMeasures {
  quality: FrameQualityMeasures;
  /** The measuring settings `quality` was taken with: other settings need the frame measured again. */
  measuredWith: FrameQualityMeasuring;
  /** Share of pixels changed beyond noise since the frame before (`frameActivityDiffs`); null for the first frame. */
  activity: number | null;
}

/** A frame's detections with, from detection workers that measure them, the frame's measures. */
export interface MeasuredFrameDetections extends FrameDetections {
  measures?: FrameMeasures;
}

/**
 * The measures of `frames` (in their order) carried by `detections`, or null when they cannot stand for
 * measuring the frames now: a detection worker or a recorded history from before the measures, another
 * frame order, or other measuring settings (`measuring`, when quality is to be judged).
 */
export function carriedMeasures(
  frames: readonly { index: number }[],
  detections: readonly MeasuredFrameDetections[],
  measuring: FrameQualityMeasuring | null,
): FrameMeasures[] | null {
  if (detections.length !== frames.length) return null;
  const measures: FrameMeasures[] = [];
  for (const [position, frame] of frames.entries()) {
    const detected = detections[position]!;
    if (detected.frameIndex !== frame.index || !detected.measures) return null;
    if (measuring && !sameMeasuring(detected.measures.measuredWith, measuring)) return null;
    measures.push(detected.measures);
  }
  return measures;
}

/** Consecutive activity diffs from the measures of an event's frames, in order. */
export function activityDiffsOf(measures: readonly FrameMeasures[]): number[] {
  return measures.slice(1).map((frame) => frame.activity ?? 0);
}
