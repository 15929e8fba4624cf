import { defaultFrameQualitySettings, measuringOf } from '../domain/frame-quality.js';
import type { FrameMeasures } from '../domain/frame-measures.js';
import { measureThumbnails, qualityThumbnail } from '../media/frame-measures.js';
import { InvalidImageError } from '../media/image.js';
import { InvalidFrameError, type EventFrame } from './engine.js';

/**
 * The measures of an event's frames (quality and motion, domain/frame-measures.ts), taken with the default
 * measuring settings from the bytes the detection loaded: a 256 px grey decode per frame (JPEG
 * shrink-on-load), the same one the analysis worker made before, so the analysis no longer fetches nor decodes.
 */
export async function measureEventFrames(frames: readonly EventFrame[]): Promise<FrameMeasures[]> {
  const thumbnails = await Promise.all(
    frames.map(async (frame) => {
      try {
        return await qualityThumbnail(await frame.load());
      } catch (error) {
        throw error instanceof InvalidImageError ? new InvalidFrameError(frame.index, error) : error;
      }
    }),
  );
  return measureThumbnails(thumbnails, measuringOf(defaultFrameQualitySettings));
}
