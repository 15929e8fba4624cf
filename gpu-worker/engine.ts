import { defaultFilterSettings } from '../domain/filters.js';
import type { Detection, FrameDetections } from '../domain/types.js';
import { InvalidImageError, openResizable, regionOf, resizableRgb, type ResizableImage, type RgbImage } from '../media/image.js';
import { changeCopy, examinationPlan, wholeFrame, type ChangeCopy } from './changed-frames.js';
import type { Detector, PreparedFrame } from './detector.js';
import { INPUT_SIZE } from './models/adapter.js';
import { thermalPass, type DetectViews, type ThermalRun } from './thermal.js';
import { fromTile, mergeTiled, tileRegions, tilingScale } from './tiles.js';

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
  /**
   * Set when the cascade model re-detected the event (its detections replace the primary's); it ran on
   * `frames` of them, the others unchanged since one it ran on (gpu-worker/changed-frames.ts).
   */
  cascade: { model: string; ms: number; frames: number } | null;
  /** Set when the event, still without a person, was detected again tile by tile (tiles' detections are added; `tiles` run, the unchanged ones carried). */
  tiled: { tiles: number; ms: number } | null;
  /** Set when the event, still without a person, went through the thermal pass (`thermal.ts`; persons added if confirmed). */
  thermal: ThermalRun | null;
}

export interface DetectionEngine {
  /** `beforeFrame` runs before each model run on a frame or tile (heartbeat, cancellation); throwing stops the event. */
  detectEvent(frames: readonly EventFrame[], beforeFrame?: (frameIndex: number) => void): Promise<EventDetections>;
  /**
   * Frames already decoded (a video's samples), by the primary model alone: a video's many frames see an
   * object again and again, where an event's few must not miss it (cascade, tiles).
   */
  detectDecoded(frames: readonly { index: number; image: RgbImage }[], beforeFrame?: (frameIndex: number) => void): Promise<FrameDetections[]>;
  /**
   * An event whose frames are decoded as they arrive (a clip from its decoder): each is detected as soon as a session
   * is free, so decoding hides behind inference; then the cascade and tiles as `detectEvent`'s.
   */
  detectArriving(frames: AsyncIterable<{ index: number; image: RgbImage }>, beforeFrame?: (frameIndex: number) => void): Promise<EventDetections>;
}

export interface DetectionEngineOptions {
  detector: Detector;
  /** Re-runs an event in which `detector` saw no person; null: never. */
  cascade: Detector | null;
  /** Runs `detector` over 2 x 2 tiles of each frame of an event in which no model saw a person. */
  tiling?: boolean;
  /** Looks again at the thermal frames of an event in which no pass saw a person (`thermal.ts`). */
  thermal?: boolean;
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

const hasPerson = (frames: readonly FrameDetections[]) =>
  frames.some((frame) => frame.detections.some((d) => d.category === 'person' && d.score >= CASCADE_PERSON_SCORE));

const msSince = (started: number) => Math.round((performance.now() - started) * 10) / 10;

/** One model run's input: a frame, or a tile of one. */
interface ModelInput {
  frameIndex: number;
  source: ResizableImage;
  /** The frame's palette decision from the primary pass; unset in that pass, which makes it. */
  pseudoColour?: boolean;
}

/**
 * Detection over one event's frames, as many at once as the detector has sessions, plus one being
 * decoded and resized, so pre-processing hides behind inference. An event in which the fast model found
 * no person is detected again by the more accurate cascade model, then, still without one, tile by tile.
 */
export function createDetectionEngine({ detector, cascade, tiling = false, thermal = false }: DetectionEngineOptions): DetectionEngine {
  /** The cascade, the tiles and the thermal pass over an event the primary model has seen. */
  async function adaptToEvent(
    inputs: readonly ModelInput[],
    primary: readonly { result: FrameDetections; pseudoColour: boolean }[],
    beforeFrame: (frameIndex: number) => void,
  ): Promise<EventDetections> {
    const pseudoColourFrames = primary.filter((frame) => frame.pseudoColour).length;
    let results = primary.map(({ result }) => result);
    // Later passes see other resizes and crops of the same frames: they keep the primary pass's palette decision.
    const decided = inputs.map((input, i) => ({ ...input, pseudoColour: primary[i]!.pseudoColour }));

    // The later passes look again only where the picture changed: grey copies made once, for both.
    let copies: Promise<ChangeCopy[]> | undefined;
    const changeCopies = () =>
      (copies ??= Promise.all(
        inputs.map((input) =>
          changeCopy(input.source).catch((error: unknown) => {
            throw asFrameError(input.frameIndex, error);
          }),
        ),
      ));
    /** For each frame, the position of the frame a whole-frame pass reads in its stead (itself unless unchanged). */
    let wholeFramePlan: number[] | undefined;
    const examinedFrom = async () => (wholeFramePlan ??= examinationPlan(await changeCopies(), wholeFrame).map(([position]) => position!));

    let cascadeRun: EventDetections['cascade'] = null;
    if (cascade && !hasPerson(results)) {
      const started = performance.now();
      const from = await examinedFrom();
      const examined = decided.flatMap((input, position) => (from[position] === position ? [{ input, position }] : []));
      const found: FrameDetections[] = [];
      (await detectAll(cascade, examined.map(({ input }) => input), beforeFrame)).forEach(({ result }, k) => (found[examined[k]!.position] = result));
      results = from.map((position, i) => ({ ...found[position]!, frameIndex: inputs[i]!.frameIndex }));
      cascadeRun = { model: cascade.info.model, ms: msSince(started), frames: examined.length };
    }

    let tiledRun: EventDetections['tiled'] = null;
    if (tiling && !hasPerson(results)) {
      const started = performance.now();
      const tiled = await detectTiled(detector, decided, results, examinationPlan(await changeCopies(), tileRegions), beforeFrame);
      results = tiled.frames;
      tiledRun = { tiles: tiled.tiles, ms: msSince(started) };
    }

    let thermalRun: EventDetections['thermal'] = null;
    if (thermal && !hasPerson(results)) {
      const detectViews = async (views: Parameters<DetectViews>[0]) => (await detectAll(detector, views, beforeFrame)).map(({ result }) => result.detections);
      const pass = await thermalPass(decided, results, detectViews, await examinedFrom());
      results = pass.frames;
      thermalRun = pass.run;
    }
    return { frames: results, pseudoColourFrames, cascade: cascadeRun, tiled: tiledRun, thermal: thermalRun };
  }

  return {
    async detectEvent(frames, beforeFrame = () => undefined) {
      const sources = await Promise.all(frames.map(async (frame) => openFrame(frame)));
      const inputs = frames.map((frame, i) => ({ frameIndex: frame.index, source: sources[i]! }));
      return adaptToEvent(inputs, await detectAll(detector, inputs, beforeFrame), beforeFrame);
    },

    async detectArriving(frames, beforeFrame = () => undefined) {
      const inputs: ModelInput[] = [];
      const arrived = (async function* () {
        for await (const frame of frames) {
          const input = { frameIndex: frame.index, source: resizableRgb(frame.image) };
          inputs.push(input);
          yield input;
        }
      })();
      return adaptToEvent(inputs, await detectAll(detector, arrived, beforeFrame), beforeFrame);
    },

    async detectDecoded(frames, beforeFrame = () => undefined) {
      const inputs = frames.map((frame) => ({ frameIndex: frame.index, source: resizableRgb(frame.image) }));
      return (await detectAll(detector, inputs, beforeFrame)).map(({ result }) => result);
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

/**
 * Each frame with a tile to examine (`plan`: per frame and tile, the position of the frame whose detections
 * the tile takes) is decoded once, at the size its tiles need, and those tiles are cut from its pixels; the
 * tiles' detections join the frame's own (in the frame's pixels), duplicates suppressed.
 */
async function detectTiled(
  detector: Detector,
  inputs: readonly ModelInput[],
  frames: readonly FrameDetections[],
  plan: readonly (readonly number[])[],
  beforeFrame: (frameIndex: number) => void,
): Promise<{ frames: FrameDetections[]; tiles: number }> {
  const tiledFrames = await Promise.all(
    inputs.map(async ({ frameIndex, source, pseudoColour }, position) => {
      if (!plan[position]!.includes(position)) return [];
      const factor = tilingScale(source.width, source.height, INPUT_SIZE);
      const width = Math.max(1, Math.round(source.width * factor));
      const height = Math.max(1, Math.round(source.height * factor));
      const data = await source.resize(width, height, 'linear').catch((error: unknown) => {
        throw asFrameError(frameIndex, error);
      });
      const image = resizableRgb({ width, height, data });
      const scale = { x: source.width / width, y: source.height / height };
      return tileRegions(width, height).flatMap((region, tile) =>
        plan[position]![tile] === position ? [{ position, tile, frameIndex, pseudoColour, region, scale, width, height, source: regionOf(image, region) }] : [],
      );
    }),
  );
  const tiles = tiledFrames.flat();
  const found = await detectAll(detector, tiles, beforeFrame);
  const fromTiles: Detection[][][] = frames.map(() => []);
  tiles.forEach((tile, k) => (fromTiles[tile.position]![tile.tile] = fromTile(found[k]!.result.detections, tile.region, tile.scale, tile.width, tile.height)));
  const merged = frames.map((frame, position) => {
    const carried = plan[position]!.flatMap((from, tile) => fromTiles[from]![tile]!);
    return { ...frame, detections: mergeTiled(frame.detections, carried) };
  });
  return { frames: merged, tiles: tiles.length };
}

/** Inputs in order, listed or arriving; arriving ones are taken by as many lanes as the detector has sessions. */
async function detectAll(
  detector: Detector,
  inputs: readonly ModelInput[] | AsyncIterator<ModelInput>,
  beforeFrame: (frameIndex: number) => void,
): Promise<{ result: FrameDetections; pseudoColour: boolean }[]> {
  const results: { result: FrameDetections; pseudoColour: boolean }[] = [];
  let next = 0;
  let stopped = false;
  const listed = Array.isArray(inputs) ? (inputs as readonly ModelInput[]) : null;
  const take = async (i: number): Promise<ModelInput | undefined> => {
    if (listed) return listed[i];
    const taken = await (inputs as AsyncIterator<ModelInput>).next();
    return taken.done ? undefined : taken.value;
  };
  // Each lane takes the next input in order: prepare (libvips threads), then infer (a session thread).
  const lane = async () => {
    while (!stopped) {
      // Numbered before the wait: arriving inputs come in the order they were asked for.
      const i = next++;
      const input = await take(i);
      if (!input) return;
      const { frameIndex, source, pseudoColour } = input;
      let frame: PreparedFrame;
      try {
        beforeFrame(frameIndex);
        frame = await detector.prepare(source, pseudoColour);
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
  const lanes = listed ? Math.min(listed.length, detector.info.sessions + PREPARE_AHEAD) : detector.info.sessions + PREPARE_AHEAD;
  await Promise.all(Array.from({ length: lanes }, lane));
  return results;
}

function asFrameError(frameIndex: number, error: unknown): unknown {
  return error instanceof InvalidImageError ? new InvalidFrameError(frameIndex, error) : error;
}
