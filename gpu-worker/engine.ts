import type { Config } from '../config/index.js';
import { iou } from '../domain/boxes.js';
import { defaultFilterSettings, siteCategoryFilterDefaults } from '../domain/filters.js';
import type { Detection, FrameDetections } from '../domain/types.js';
import { InvalidImageError, openResizable, regionOf, resizableRgb, type ResizableImage, type RgbImage } from '../media/image.js';
import { changeCopy, examinationPlan, examinationRounds, wholeFrame, type ChangeCopy } from './changed-frames.js';
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
   * `frames` of them, the others unchanged since one it ran on, or left out while it found nothing new
   * (they keep the primary's; gpu-worker/changed-frames.ts).
   */
  cascade: { model: string; ms: number; frames: number } | null;
  /** Set when the event, still without a person, was detected again tile by tile (tiles' detections are added; `tiles` run, the unchanged ones carried, those left out add none). */
  tiled: { tiles: number; ms: number } | null;
  /** Set when the event, still without a person, went through the thermal pass (`thermal.ts`; persons added if confirmed). */
  thermal: ThermalRun | null;
}

export interface DetectionEngine {
  /**
   * `beforeFrame` runs before each model run on a frame or tile (heartbeat, cancellation); throwing stops the event.
   * `everyChangedFrame`: the cascade and the tiles look at every changed frame, whatever `everyOtherChange` says (an
   * alarm that counts a person seen in one frame).
   */
  detectEvent(frames: readonly EventFrame[], beforeFrame?: (frameIndex: number) => void, options?: { everyChangedFrame?: boolean }): Promise<EventDetections>;
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
  /** The cascade and the tiles look at every other changed frame first (`examinationRounds`); false: at every changed frame. */
  everyOtherChange?: boolean;
}

/** The engine's passes as the detection worker's settings have them (the worker, and benchmarks of what it does). */
export function configuredEngineOptions({ tiling, thermal, everyOtherChange }: Config['detector']): Pick<DetectionEngineOptions, 'tiling' | 'thermal' | 'everyOtherChange'> {
  return { tiling, thermal, everyOtherChange };
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

/**
 * A pass's find counts as new from the lowest score any site category's filters keep (homes keep a person
 * from 0.3), where nothing of its category was in the frame before it (boxes at IoU 0.5: one object).
 */
const NEW_FIND_SCORE = {
  person: Math.min(defaultFilterSettings.minScore.person, ...Object.values(siteCategoryFilterDefaults).map((override) => override?.minScore?.person ?? 1)),
  vehicle: Math.min(defaultFilterSettings.minScore.vehicle, ...Object.values(siteCategoryFilterDefaults).map((override) => override?.minScore?.vehicle ?? 1)),
};
const SAME_OBJECT_IOU = 0.5;

/** Whether `found` holds a person or vehicle the filters might keep that `had` (the frame's detections before the pass) did not. */
function holdsNew(found: readonly Detection[], had: readonly Detection[]): boolean {
  return found.some(
    (object) =>
      (object.category === 'person' || object.category === 'vehicle') &&
      object.score >= NEW_FIND_SCORE[object.category] &&
      !had.some((known) => known.category === object.category && iou(known.box, object.box) >= SAME_OBJECT_IOU),
  );
}

/** Whether `after` (a pass's results) holds something new against `before` (the frames going into it), in any frame. */
const findsNew = (after: readonly FrameDetections[], before: readonly FrameDetections[]) => after.some((frame, i) => holdsNew(frame.detections, before[i]!.detections));

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
export function createDetectionEngine({ detector, cascade, tiling = false, thermal = false, everyOtherChange = true }: DetectionEngineOptions): DetectionEngine {
  /** The cascade, the tiles and the thermal pass over an event the primary model has seen. */
  async function adaptToEvent(
    inputs: readonly ModelInput[],
    primary: readonly { result: FrameDetections; pseudoColour: boolean }[],
    beforeFrame: (frameIndex: number) => void,
    thinned = everyOtherChange,
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
    /** For each frame, the position of the frame the thermal pass reads in its stead (itself unless unchanged). */
    const thermalFrom = async () => examinationPlan(await changeCopies(), wholeFrame).map(([position]) => position!);

    // The cascade and the tiled pass look at every other changed frame first, and at the rest once they find something new.
    let cascadeRun: EventDetections['cascade'] = null;
    if (cascade && !hasPerson(results)) {
      const started = performance.now();
      const rounds = examinationRounds(await changeCopies(), wholeFrame, thinned);
      const primaryResults = results;
      const found = new Map<number, FrameDetections>();
      const cascaded = async (plan: readonly (readonly (number | null)[])[]) => {
        const examined = decided.flatMap((input, position) => (plan[position]![0] === position && !found.has(position) ? [{ input, position }] : []));
        const detected = await detectAll(cascade, examined.map(({ input }) => input), beforeFrame);
        detected.forEach(({ result }, k) => found.set(examined[k]!.position, result));
        return plan.map(([from], i) => (from === null ? primaryResults[i]! : { ...found.get(from!)!, frameIndex: inputs[i]!.frameIndex }));
      };
      results = await cascaded(rounds.first);
      if (findsNew(results, primaryResults)) results = await cascaded(rounds.whenFound);
      cascadeRun = { model: cascade.info.model, ms: msSince(started), frames: found.size };
    }

    let tiledRun: EventDetections['tiled'] = null;
    if (tiling && !hasPerson(results)) {
      const started = performance.now();
      const rounds = examinationRounds(await changeCopies(), tileRegions, thinned);
      const whole = results;
      const found: TileFinds = inputs.map(() => []);
      const tiled = async (plan: readonly (readonly (number | null)[])[]) => {
        await detectTiles(detector, decided, plan, found, beforeFrame);
        const fromTiles = (position: number) => plan[position]!.flatMap((from, tile) => (from === null ? [] : found[from]![tile]!));
        return whole.map((frame, position) => ({ ...frame, detections: mergeTiled(frame.detections, fromTiles(position)) }));
      };
      results = await tiled(rounds.first);
      // The tiles left out are looked at again only where the first round found something new: an object seen in two
      // neighbouring frames was in one of them, in the same tile or, moving, in the tile it moved to, found new there.
      const withNewFinds = new Set(found.flatMap((tiles, position) => tiles.flatMap((finds, tile) => (finds && holdsNew(finds, whole[position]!.detections) ? [tile] : []))));
      if (withNewFinds.size > 0) {
        results = await tiled(rounds.whenFound.map((froms, position) => froms.map((from, tile) => (withNewFinds.has(tile) ? from : rounds.first[position]![tile] ?? null))));
      }
      tiledRun = { tiles: found.reduce((sum, tiles) => sum + tiles.filter(Boolean).length, 0), ms: msSince(started) };
    }

    let thermalRun: EventDetections['thermal'] = null;
    if (thermal && !hasPerson(results)) {
      const detectViews = async (views: Parameters<DetectViews>[0]) => (await detectAll(detector, views, beforeFrame)).map(({ result }) => result.detections);
      const pass = await thermalPass(decided, results, detectViews, await thermalFrom());
      results = pass.frames;
      thermalRun = pass.run;
    }
    return { frames: results, pseudoColourFrames, cascade: cascadeRun, tiled: tiledRun, thermal: thermalRun };
  }

  return {
    async detectEvent(frames, beforeFrame = () => undefined, { everyChangedFrame = false } = {}) {
      const sources = await Promise.all(frames.map(async (frame) => openFrame(frame)));
      const inputs = frames.map((frame, i) => ({ frameIndex: frame.index, source: sources[i]! }));
      return adaptToEvent(inputs, await detectAll(detector, inputs, beforeFrame), beforeFrame, everyOtherChange && !everyChangedFrame);
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

/** Per frame position and tile, the tile's detections in the frame's pixels, once examined. */
type TileFinds = (Detection[] | undefined)[][];

/**
 * Examines the tiles `plan` examines (per frame and tile, the position of the frame whose detections the
 * tile takes) that are not in `found` yet, and adds them there. Each frame with such a tile is decoded
 * once, at the size its tiles need, and those tiles are cut from its pixels.
 */
async function detectTiles(
  detector: Detector,
  inputs: readonly ModelInput[],
  plan: readonly (readonly (number | null)[])[],
  found: TileFinds,
  beforeFrame: (frameIndex: number) => void,
): Promise<void> {
  const toExamine = (position: number, tile: number) => plan[position]![tile] === position && !found[position]![tile];
  const tiledFrames = await Promise.all(
    inputs.map(async ({ frameIndex, source, pseudoColour }, position) => {
      if (!plan[position]!.some((_, tile) => toExamine(position, tile))) return [];
      const factor = tilingScale(source.width, source.height, INPUT_SIZE);
      const width = Math.max(1, Math.round(source.width * factor));
      const height = Math.max(1, Math.round(source.height * factor));
      const data = await source.resize(width, height, 'linear').catch((error: unknown) => {
        throw asFrameError(frameIndex, error);
      });
      const image = resizableRgb({ width, height, data });
      const scale = { x: source.width / width, y: source.height / height };
      return tileRegions(width, height).flatMap((region, tile) =>
        toExamine(position, tile) ? [{ position, tile, frameIndex, pseudoColour, region, scale, width, height, source: regionOf(image, region) }] : [],
      );
    }),
  );
  const tiles = tiledFrames.flat();
  const detected = await detectAll(detector, tiles, beforeFrame);
  tiles.forEach((tile, k) => (found[tile.position]![tile.tile] = fromTile(detected[k]!.result.detections, tile.region, tile.scale, tile.width, tile.height)));
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
