import { defaultFrameQualitySettings, measuringOf } from '../domain/frame-quality.js';
import type { FrameMeasures } from '../domain/frame-measures.js';
import { measureFrames } from '../media/frame-measures.js';
import { InvalidFrameError, type EventFrame } from './engine.js';

/**
 * The measures of an event's frames (quality and motion, domain/frame-measures.ts), taken with the default
 * measuring settings from the bytes the detection loaded: a 256 px grey decode per frame (JPEG
 * shrink-on-load), the same one the analysis worker made before, so the analysis no longer fetches nor decodes.
 */
export const measureEventFrames = (frames: readonly EventFrame[]): Promise<FrameMeasures[]> =>
  measureFrames(frames, measuringOf(defaultFrameQualitySettings), (frameIndex, error) => new InvalidFrameError(frameIndex, error));
