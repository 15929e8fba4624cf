/**
 * Where an event's picture changed: the passes that run on events without a person (the cascade, the tiled
 * pass, the thermal pass) look again only where something differs from what they already looked at. Each
 * region of a frame (the whole frame for the cascade, a tile for the tiled pass) is examined on the event's
 * first frame, and on a later frame only when one of its cells changed since the frame it was last examined
 * on; otherwise it keeps that frame's detections. A static scene is thus examined once, on its first frame,
 * and a person standing still in it is found there and carried to every frame. The cascade and the tiled
 * pass look at a scene that changes in every frame on every other frame first (`examinationRounds`).
 */
import { FEW_FRAMES } from '../domain/filters.js';
import type { GreyFrame } from '../domain/motion.js';
import type { ImageRegion, ResizableImage } from '../media/image.js';
import { luminancePlane } from './pseudo-colour.js';

/** Width of the grey copy frames are compared on: 8 px cells there are 2–3 % of the frame across. */
export const CHANGE_COPY_WIDTH = 256;
/** Side of a square cell of the copy. */
const CELL_SIZE = 8;
/** Grey-level difference beyond which a pixel changed: above JPEG noise, as motion's threshold (domain/motion.ts). */
const PIXEL_CHANGE = 25;
/** A cell changed when more of its pixels than this changed: a few noisy pixels are not a new object. */
const CHANGED_PIXELS_PER_CELL = 3;

/** A frame's grey copy, with the size of the frame it was made from (detections are in that frame's pixels). */
export interface ChangeCopy extends GreyFrame {
  sourceWidth: number;
  sourceHeight: number;
}

/** The grey copy of a frame that changes are looked for on: `CHANGE_COPY_WIDTH` wide, the frame's aspect ratio. */
export async function changeCopy(source: ResizableImage): Promise<ChangeCopy> {
  const width = CHANGE_COPY_WIDTH;
  const height = Math.max(1, Math.round((source.height * width) / source.width));
  const data = luminancePlane(await source.resize(width, height, 'linear'));
  return { width, height, data, sourceWidth: source.width, sourceHeight: source.height };
}

/** The cell grid of a copy: `across` × `down` cells, the last ones in a row or column possibly narrower. */
function gridOf({ width, height }: GreyFrame): { across: number; down: number } {
  return { across: Math.ceil(width / CELL_SIZE), down: Math.ceil(height / CELL_SIZE) };
}

/**
 * Per cell (row by row), whether it changed from `before` to `after`. Copies of frames of another size
 * changed everywhere: their detections cannot stand for each other.
 */
export function changedCells(before: ChangeCopy, after: ChangeCopy): boolean[] {
  const { across, down } = gridOf(after);
  const sameFrame =
    before.width === after.width && before.height === after.height && before.sourceWidth === after.sourceWidth && before.sourceHeight === after.sourceHeight;
  if (!sameFrame) return new Array<boolean>(across * down).fill(true);
  const changedPixels = new Uint16Array(across * down);
  for (let y = 0; y < after.height; y++) {
    const cellRow = Math.floor(y / CELL_SIZE) * across;
    for (let x = 0; x < after.width; x++) {
      const i = y * after.width + x;
      if (Math.abs(after.data[i]! - before.data[i]!) > PIXEL_CHANGE) changedPixels[cellRow + Math.floor(x / CELL_SIZE)]!++;
    }
  }
  return Array.from(changedPixels, (count) => count > CHANGED_PIXELS_PER_CELL);
}

/** Whether any changed cell of a `copy`-sized grid overlaps `region` (in the copy's pixels). */
function touchesChange(changed: readonly boolean[], copy: GreyFrame, region: ImageRegion): boolean {
  const { across } = gridOf(copy);
  const firstColumn = Math.floor(region.left / CELL_SIZE);
  const lastColumn = Math.min(across - 1, Math.ceil((region.left + region.width) / CELL_SIZE) - 1);
  const firstRow = Math.floor(region.top / CELL_SIZE);
  const lastRow = Math.ceil((region.top + region.height) / CELL_SIZE) - 1;
  for (let row = firstRow; row <= lastRow; row++) {
    for (let column = firstColumn; column <= lastColumn; column++) if (changed[row * across + column]) return true;
  }
  return false;
}

/**
 * For each frame and each of its regions (`regionsOf` the copy's size, in the copy's pixels: the same
 * regions for every frame of one size), the position of the frame whose detections the region takes: its
 * own when the region is to be examined (first frame, or a cell in it changed since the frame it was last
 * examined on), else that earlier frame.
 */
export function examinationPlan(copies: readonly ChangeCopy[], regionsOf: (width: number, height: number) => ImageRegion[]): number[][] {
  return walkChanges(copies, regionsOf, false).whenFound;
}

/**
 * The two rounds of a pass that looks at every other changed frame first (the cascade, the tiled pass). In
 * a scene that changes in every frame (traffic, wind in a tree), a region examined on one frame is not
 * examined on the next (`first`: null there, the frame keeps what it had without the pass) but on the
 * one after, so never two neighbouring frames are left out. A person the filters keep in an event of more
 * than `FEW_FRAMES` frames is seen in two frames at least (domain/filters.ts, persistence): when they are
 * neighbours (a person walking through), `first` examines one of them. Once the pass finds something
 * new, it examines the regions it left out (`whenFound`, as `examinationPlan`; the tiled pass only the tiles in
 * which it found something new, gpu-worker/engine.ts), so that what the filters and the decision judge
 * (persistence, a vehicle moving or parked) is what the model saw in each frame.
 * Without `everyOtherChange`, `first` examines every changed region, as `examinationPlan`.
 */
export function examinationRounds(
  copies: readonly ChangeCopy[],
  regionsOf: (width: number, height: number) => ImageRegion[],
  everyOtherChange = true,
): { first: (number | null)[][]; whenFound: number[][] } {
  return walkChanges(copies, regionsOf, everyOtherChange && copies.length > FEW_FRAMES);
}

/**
 * One walk over the frames. `whenFound`: each region examined where it changed since the frame it was last
 * examined on. `first`: the same, except that, `leavingOut`, a region examined on the frame just before is
 * left out (null; `whenFound` examines it).
 */
function walkChanges(
  copies: readonly ChangeCopy[],
  regionsOf: (width: number, height: number) => ImageRegion[],
  leavingOut: boolean,
): { first: (number | null)[][]; whenFound: number[][] } {
  const lastExamined: number[] = [];
  const first: (number | null)[][] = [];
  const whenFound: number[][] = [];
  copies.forEach((copy, position) => {
    const changedSince = new Map<number, boolean[]>();
    const froms = regionsOf(copy.width, copy.height).map((region, r) => {
      const before = lastExamined[r];
      if (before !== undefined) {
        if (!changedSince.has(before)) changedSince.set(before, changedCells(copies[before]!, copy));
        if (!touchesChange(changedSince.get(before)!, copy, region)) return { first: before, whenFound: before };
        if (leavingOut && before === position - 1) return { first: null, whenFound: position };
      }
      lastExamined[r] = position;
      return { first: position, whenFound: position };
    });
    first.push(froms.map((from) => from.first));
    whenFound.push(froms.map((from) => from.whenFound));
  });
  return { first, whenFound };
}

/** The region list of a pass that looks at whole frames (the cascade). */
export const wholeFrame = (width: number, height: number): ImageRegion[] => [{ left: 0, top: 0, width, height }];
