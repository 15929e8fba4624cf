import { measureFrameQuality, qualityThumbnailWidth, type FrameQualityMeasuring } from '../domain/frame-quality.js';
import type { FrameMeasures } from '../domain/frame-measures.js';
import { frameActivityDiffs } from '../domain/motion.js';
import { decodeToGrey, InvalidImageError, shrinkGrey, type GreyImage } from './image.js';

/** Width of the grey thumbnails compared for motion: enough to see a person, cheap to diff. */
const motionThumbnailWidth = 64;

/** The grey thumbnail a frame's measures are taken on. */
export const qualityThumbnail = (bytes: Uint8Array): Promise<GreyImage> => decodeToGrey(bytes, qualityThumbnailWidth);

/** The measures of an event's frames from their quality thumbnails, in order. */
export async function measureThumbnails(thumbnails: readonly GreyImage[], measuring: FrameQualityMeasuring): Promise<FrameMeasures[]> {
  if (thumbnails.length === 0) return [];
  // Frames of one event may differ in size (a vendor mixing streams): motion compares them at the first one's.
  const first = await shrinkGrey(thumbnails[0]!, motionThumbnailWidth);
  const motionThumbnails = [first, ...(await Promise.all(thumbnails.slice(1).map((t) => shrinkGrey(t, first.width, first.height))))];
  const activityDiffs = frameActivityDiffs(motionThumbnails);
  return measureFrameQuality(thumbnails, measuring).map((quality, position) => ({
    quality,
    measuredWith: measuring,
    activity: position === 0 ? null : activityDiffs[position - 1]!,
  }));
}

/**
 * The measures of an event's frames from their bytes, in order: one quality thumbnail each, then
 * `measureThumbnails`. A frame that does not decode goes to `invalid` (the caller's own error for it).
 */
export async function measureFrames(
  frames: readonly { index: number; load(): Promise<Uint8Array> }[],
  measuring: FrameQualityMeasuring,
  invalid: (frameIndex: number, error: InvalidImageError) => unknown,
): Promise<FrameMeasures[]> {
  const thumbnails = await Promise.all(
    frames.map(async (frame) => {
      try {
        return await qualityThumbnail(await frame.load());
      } catch (error) {
        throw error instanceof InvalidImageError ? invalid(frame.index, error) : error;
      }
    }),
  );
  return measureThumbnails(thumbnails, measuring);
}
