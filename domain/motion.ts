/**
 * Motion between consecutive frames of an event, on small greyscale thumbnails the caller made
 * (e.g. 64 px wide). Pure: imported by workflow-safe code.
 */

export interface GreyFrame {
  width: number;
  height: number;
  /** One byte per pixel, row by row: width × height bytes. */
  data: Uint8Array;
}

/** Per-pixel change (0–255) below which a difference is sensor noise or compression. */
export const defaultPixelNoiseThreshold = 25;

/** Share of changed pixels between two consecutive frames from which the event counts as moving. */
export const defaultMotionThreshold = 0.01;

function changedFraction(before: GreyFrame, after: GreyFrame, noiseThreshold: number): number {
  const pixels = before.width * before.height;
  if (after.width !== before.width || after.height !== before.height) {
    throw new RangeError(`frames differ in size: ${before.width}×${before.height} and ${after.width}×${after.height}`);
  }
  if (before.data.length !== pixels || after.data.length !== pixels) {
    throw new RangeError(`a ${before.width}×${before.height} grey frame needs ${pixels} bytes`);
  }
  if (pixels === 0) return 0;
  // Auto-exposure and clouds shift the whole picture: measure change against the mean shift.
  let totalShift = 0;
  for (let i = 0; i < pixels; i++) totalShift += after.data[i]! - before.data[i]!;
  const meanShift = totalShift / pixels;
  let changed = 0;
  for (let i = 0; i < pixels; i++) {
    if (Math.abs(after.data[i]! - before.data[i]! - meanShift) > noiseThreshold) changed++;
  }
  return Math.round((changed / pixels) * 10_000) / 10_000;
}

/** For each consecutive pair, the fraction (0..1, 4 decimals) of pixels that changed beyond noise. */
export function frameActivityDiffs(
  frames: readonly GreyFrame[],
  noiseThreshold = defaultPixelNoiseThreshold,
): number[] {
  return frames.slice(1).map((frame, i) => changedFraction(frames[i]!, frame, noiseThreshold));
}

/** True when any consecutive pair changed in at least `threshold` of its pixels. */
export function hasMotion(diffs: readonly number[], threshold = defaultMotionThreshold): boolean {
  return diffs.some((diff) => diff >= threshold);
}
