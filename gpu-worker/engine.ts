import { defaultFilterSettings } from '../domain/filters.js';
import type { FrameDetections } from '../domain/types.js';
import { InvalidImageError, openResizable, type ResizableImage } from '../media/image.js';
import type { Detector, PreparedFrame } from './detector.js';

export interface EventFrame {
  index: number;
  load(): Promise<Uint8Array>;
}

/** A frame of the event that is not a decodable image: retrying cannot help. */
export class InvalidFrameError extends Error {
  readonly code = 'INVALID_IMAGE';

  constructor(
    readonly frameIndex: number,
    cause: InvalidImageError,
  ) {
    super(cause.message, { cause });
    this.name = 'InvalidFrameError';
  }
}

export interface EventDetections {
  frames: FrameDetections[];
  /** Frames whose pseudo-colour palette was turned into luminance before the primary model ran. */
  pseudoColourFrames: number;
  /** Set when the cascade model re-detected the event (its detections replace the primary's). */
  cascade: { model: string; ms: number } | null;
}

export interface DetectionEngine {
  /** `beforeFrame` runs before each model run on a frame (heartbeat, cancellation); throwing stops the event. */
  detectEvent(frames: readonly EventFrame[], beforeFrame?: (frameIndex: number) => void): Promise<EventDetections>;
}

export interface DetectionEngineOptions {
  detector: Detector;
  /** Re-runs an event in which `detector` saw no person; null: never. */
  cascade: Detector | null;
}

/**
 * Frames in flight beyond one per session: while every session runs, the next frame is being decoded
 * and resized. More measured no faster on 2 cores (the resizes then compete with onnxruntime's threads).
 */
const PREPARE_AHEAD = 1;

/**
 * "No person" means none the nuisance filters would keep: a weak person the filters drop anyway must not
 * stop a better model from looking.
 */
const CASCADE_PERSON_SCORE = defaultFilterSettings.minScore.person;

/**
 * Detection over one event's frames, as many at once as the detector has sessions, plus one being
 * decoded and resized, so pre-processing hides behind inference. With a cascade model, an event in
 * which the fast model found no person is detected again by the more accurate one.
 */
export function createDetectionEngine({ detector, cascade }: DetectionEngineOptions): DetectionEngine {
  return {
    async detectEvent(frames, beforeFrame = () => undefined) {
      const sources = await Promise.all(frames.map(async (frame) => openFrame(frame)));
      const primary = await detectAll(detector, frames, sources, beforeFrame);
      const pseudoColourFrames = primary.filter((frame) => frame.pseudoColour).length;
      const results = primary.map(({ result }) => result);
      const personFound = results.some((frame) =>
        frame.detections.some((d) => d.category === 'person' && d.score >= CASCADE_PERSON_SCORE),
      );
      if (!cascade || personFound) return { frames: results, pseudoColourFrames, cascade: null };

      const started = performance.now();
      const second = await detectAll(cascade, frames, sources, beforeFrame);
      return {
        frames: second.map(({ result }) => result),
        pseudoColourFrames,
        cascade: { model: cascade.info.model, ms: Math.round((performance.now() - started) * 10) / 10 },
      };
    },
  };
}

async function openFrame(frame: EventFrame): Promise<ResizableImage> {
  try {
    return await openResizable(await frame.load());
  } catch (error) {
    throw asFrameError(frame.index, error);
  }
}

async function detectAll(
  detector: Detector,
  frames: readonly EventFrame[],
  sources: readonly ResizableImage[],
  beforeFrame: (frameIndex: number) => void,
): Promise<{ result: FrameDetections; pseudoColour: boolean }[]> {
  const results: { result: FrameDetections; pseudoColour: boolean }[] = [];
  let next = 0;
  let stopped = false;
  // Each lane takes the next frame in order: prepare (libvips threads), then infer (a session thread).
  const lane = async () => {
    while (!stopped && next < frames.length) {
      const i = next++;
      const frameIndex = frames[i]!.index;
      let frame: PreparedFrame;
      try {
        beforeFrame(frameIndex);
        frame = await detector.prepare(sources[i]!);
      } catch (error) {
        stopped = true;
        throw asFrameError(frameIndex, error);
      }
      const detections = await detector.infer(frame).catch((error: unknown) => {
        stopped = true;
        throw error;
      });
      results[i] = {
        result: { frameIndex, width: frame.width, height: frame.height, detections },
        pseudoColour: frame.pseudoColour,
      };
    }
  };
  const lanes = Math.min(frames.length, detector.info.sessions + PREPARE_AHEAD);
  await Promise.all(Array.from({ length: lanes }, lane));
  return results;
}

function asFrameError(frameIndex: number, error: unknown): unknown {
  return error instanceof InvalidImageError ? new InvalidFrameError(frameIndex, error) : error;
}
