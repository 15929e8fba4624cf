/**
 * What of a clip a classification looks at: the frames sampled from it, the frames the classifier sees and the
 * crop of where the clip moved most. Pure: the activities that decode clips and the workflow read the same rules.
 */
import type { MotionRegion } from './motion-signals.js';

/** How a clip is turned into frames: `fps` frames a second, at most `width` wide, at most `maxFrames`. */
export interface ClipSampling {
  fps: number;
  width: number;
  maxFrames: number;
}

/** The rate and size a clip is decoded at. */
export interface SamplingPlan {
  fps: number;
  width: number;
  height: number;
}

/** How a clip was sampled, as results report it. */
export interface ProcessedSpecs {
  width: number;
  height: number;
  fps: number;
  nframes: number;
  /** Seconds from the first sampled frame to the end of the last; 0 for images. */
  duration: number;
}

const even = (value: number) => Math.max(2, Math.round(value / 2) * 2);
const round = (value: number, decimals: number) => Math.round(value * 10 ** decimals) / 10 ** decimals;

/** At `fps` (fewer a second for a long clip, so there are at most `maxFrames`), scaled down to `width`, never up. */
export function samplingPlan(clip: { width: number; height: number; durationS: number }, sampling: ClipSampling): SamplingPlan {
  const fps = clip.durationS > 0 ? Math.min(sampling.fps, sampling.maxFrames / clip.durationS) : sampling.fps;
  const width = even(Math.min(sampling.width, clip.width));
  return { fps, width, height: even((width * clip.height) / clip.width) };
}

/**
 * How many frames the plan should give of the clip (ffmpeg's `fps` filter rounds to the nearest output frame), so
 * work on particular frames can start as they arrive. It can be one off; the frames decoded are what count.
 */
export function expectedFrames(clip: { durationS: number }, plan: SamplingPlan, sampling: ClipSampling): number {
  return Math.min(sampling.maxFrames, Math.max(1, Math.round(clip.durationS * plan.fps)));
}

export function processedSpecs(plan: SamplingPlan, nframes: number): ProcessedSpecs {
  return { width: plan.width, height: plan.height, fps: round(plan.fps, 2), nframes, duration: round(nframes / plan.fps, 3) };
}

/** Frames the classifier sees, spread over the clip: its groups need no more to be found, and each costs time. */
export const classifierFrames = 6;

/** `count` items spread evenly from the first to the last (all of them when there are no more). */
export function spreadOver<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.round((i * (items.length - 1)) / (count - 1))]!);
}

/** The frame the text reader and the busiest region's crop are taken from. */
export const middleOf = <T>(items: readonly T[]): T => items[Math.floor(items.length / 2)]!;

/** A busiest region larger than this share of the frame is not cropped. */
const maxRegionShare = 0.5;
/** Added around the busiest region on each side, as a share of the frame. */
const regionMargin = 0.06;
/** A crop narrower or lower than this shows the classifier too little. */
const minRegionSide = 32;

/**
 * The pixels of a `width` × `height` frame to crop around where the clip moved most, with a margin: something small
 * near the lens (a spider, its web, a leaf) fills the crop where it is lost in the frame. None when nothing moved,
 * the region is most of the frame (the classifier sees whole frames anyway), or the crop would be tiny.
 */
export function regionCrop(region: MotionRegion | null, width: number, height: number): { left: number; top: number; width: number; height: number } | null {
  if (!region || region.width * region.height > maxRegionShare) return null;
  const left = Math.max(0, Math.floor((region.x - regionMargin) * width));
  const top = Math.max(0, Math.floor((region.y - regionMargin) * height));
  const right = Math.min(width, Math.ceil((region.x + region.width + regionMargin) * width));
  const bottom = Math.min(height, Math.ceil((region.y + region.height + regionMargin) * height));
  if (right - left < minRegionSide || bottom - top < minRegionSide) return null;
  return { left, top, width: right - left, height: bottom - top };
}
