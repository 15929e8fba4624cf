/**
 * Motion statistics of a clip for the classification scores, on small greyscale thumbnails of its frames
 * (the same ones `domain/motion.ts` compares). Besides how much changed, they say how the change is laid
 * out: in one compact place that moves on (a person, a car), in the same scattered places from pair to pair
 * (foliage swaying), or faint and everywhere (rain, snow). Pure: no I/O.
 */
import { defaultPixelNoiseThreshold, frameActivityDiffs, hasMotion, type GreyFrame } from '../motion.js';

/** The frame is cut into this many cells across and down to see where change happens. */
export const motionGridCells = 8;
/** A cell whose pixels changed in at least this share has moved in that pair. */
const activeCellShare = 0.02;

export interface MotionRegion {
  /** Fractions of the frame width and height. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface MotionSignals {
  /** Per consecutive pair, the changed share of the frame (domain/motion.ts). */
  activityDiffs: number[];
  /** Whether any pair moved beyond noise (domain/motion.ts), as the alarm pipeline decides it. */
  hasMotion: boolean;
  /** The largest changed share of any pair. */
  peakActivity: number;
  /** Mean share of the grid cells that moved, over the pairs that moved. */
  spread: number;
  /** Mean overlap (Jaccard) of the moving cells of consecutive moving pairs: high when change stays in place. */
  steadiness: number;
  /** Share of the changed pixels whose change is faint (under twice the noise threshold). */
  faintness: number;
  /** Mean changed share inside the moving cells: dense for a body, sparse for drops or leaves. */
  density: number;
  /** Share of all change found in the eighth of the cells that changed most: high for one compact object. */
  concentration: number;
  /** Where the clip changed most (cells with at least half the busiest cell's change); null when nothing moved. */
  hotRegion: MotionRegion | null;
  /**
   * Share of the grid cells that flicker (`flickerOf`): change that goes one way and back in place, as leaves do in
   * wind. Absent from motion measured before it existed (a classification in flight then), which counts as none.
   */
  flicker?: number;
}

const round4 = (value: number) => Math.round(value * 10_000) / 10_000;

interface PairChange {
  /** Changed pixels per cell, row by row. */
  cells: number[];
  changed: number;
  faint: number;
}

function pairChange(before: GreyFrame, after: GreyFrame, noise: number): PairChange {
  const { width, height } = before;
  const pixels = width * height;
  let totalShift = 0;
  for (let i = 0; i < pixels; i++) totalShift += after.data[i]! - before.data[i]!;
  // Auto-exposure shifts the whole picture: change is measured against the mean shift, as domain/motion.ts does.
  const meanShift = pixels > 0 ? totalShift / pixels : 0;
  const cells = new Array<number>(motionGridCells * motionGridCells).fill(0);
  let changed = 0;
  let faint = 0;
  for (let y = 0; y < height; y++) {
    const row = Math.min(motionGridCells - 1, Math.floor((y * motionGridCells) / height));
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const delta = Math.abs(after.data[i]! - before.data[i]! - meanShift);
      if (delta <= noise) continue;
      changed++;
      if (delta <= 2 * noise) faint++;
      cells[row * motionGridCells + Math.min(motionGridCells - 1, Math.floor((x * motionGridCells) / width))]!++;
    }
  }
  return { cells, changed, faint };
}

function jaccard(a: ReadonlySet<number>, b: ReadonlySet<number>): number {
  const union = new Set([...a, ...b]).size;
  if (union === 0) return 0;
  return [...a].filter((cell) => b.has(cell)).length / union;
}

function hotRegionOf(totals: readonly number[]): MotionRegion | null {
  const busiest = Math.max(0, ...totals);
  if (busiest === 0) return null;
  let [minX, minY, maxX, maxY] = [motionGridCells, motionGridCells, -1, -1];
  totals.forEach((total, cell) => {
    if (total * 2 < busiest) return;
    const [x, y] = [cell % motionGridCells, Math.floor(cell / motionGridCells)];
    [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
  });
  const size = 1 / motionGridCells;
  return { x: minX * size, y: minY * size, width: (maxX - minX + 1) * size, height: (maxY - minY + 1) * size };
}

/**
 * Change this faint still counts for flicker: leaves against an over-exposed sky change the picture by less than the
 * motion threshold (`defaultPixelNoiseThreshold`). Frames at `flickerWidth` average enough pixels to keep sensor noise
 * under it.
 */
const flickerNoise = 8;
/** Width of the grey frames flicker is measured on: leaves still show at this size, where the motion thumbnails blur them. */
export const flickerWidth = 240;
/** A cell flickers when this share of its pixels do. */
const flickerCellShare = 0.1;

/**
 * Flicker: the share of the 8 × 8 grid's cells in which at least a tenth of the pixels changed one way and then the
 * other (two changes beyond `flickerNoise` of opposite sign, in any pairs of consecutive frames, against each pair's
 * mean shift). Swaying foliage flickers over a wide patch; a still scene does not; what moves on or changes the
 * picture wholesale is told apart by the scores (objects found, the peak of the motion).
 */
export function flickerOf(frames: readonly GreyFrame[], noise = flickerNoise): number {
  if (frames.length < 3) return 0;
  const { width, height } = frames[0]!;
  const pixels = width * height;
  // Per pixel: the sign of its last change beyond noise (+1 / −1, 0 none yet), and whether it has reversed.
  const lastSign = new Int8Array(pixels);
  const reversed = new Uint8Array(pixels);
  for (let t = 1; t < frames.length; t++) {
    const before = frames[t - 1]!.data;
    const after = frames[t]!.data;
    let totalShift = 0;
    for (let i = 0; i < pixels; i++) totalShift += after[i]! - before[i]!;
    const meanShift = totalShift / pixels;
    for (let i = 0; i < pixels; i++) {
      const delta = after[i]! - before[i]! - meanShift;
      const sign = delta > noise ? 1 : delta < -noise ? -1 : 0;
      if (sign === 0) continue;
      if (lastSign[i] === -sign) reversed[i] = 1;
      lastSign[i] = sign;
    }
  }
  const cells = new Array<number>(motionGridCells * motionGridCells).fill(0);
  for (let y = 0; y < height; y++) {
    const row = Math.min(motionGridCells - 1, Math.floor((y * motionGridCells) / height));
    for (let x = 0; x < width; x++) {
      if (reversed[y * width + x]) cells[row * motionGridCells + Math.min(motionGridCells - 1, Math.floor((x * motionGridCells) / width))]!++;
    }
  }
  const cellPixels = pixels / cells.length;
  return round4(cells.filter((count) => count >= flickerCellShare * cellPixels).length / cells.length);
}

/**
 * The motion statistics of frames of one size, in order. Flicker is measured on `flickerFrames`, the same frames at
 * `flickerWidth` (by default the frames themselves).
 */
export function motionSignals(frames: readonly GreyFrame[], noise = defaultPixelNoiseThreshold, flickerFrames: readonly GreyFrame[] = frames): MotionSignals {
  const activityDiffs = frameActivityDiffs(frames, noise);
  const moving = hasMotion(activityDiffs);
  const pairs = frames.slice(1).map((frame, i) => pairChange(frames[i]!, frame, noise));
  const cellPixels = frames.length > 0 ? (frames[0]!.width * frames[0]!.height) / (motionGridCells * motionGridCells) : 1;
  const activeCells = pairs.map(
    (pair) => new Set(pair.cells.flatMap((count, cell) => (count >= activeCellShare * cellPixels ? [cell] : []))),
  );
  const movingPairs = pairs.map((pair, i) => ({ pair, active: activeCells[i]! })).filter(({ active }) => active.size > 0);
  const cellCount = motionGridCells * motionGridCells;
  const mean = (values: number[]) => (values.length > 0 ? values.reduce((sum, v) => sum + v, 0) / values.length : 0);

  const spread = mean(movingPairs.map(({ active }) => active.size / cellCount));
  const steadiness = mean(movingPairs.slice(1).map(({ active }, i) => jaccard(movingPairs[i]!.active, active)));
  const density = mean(
    movingPairs.map(({ pair, active }) => [...active].reduce((sum, cell) => sum + pair.cells[cell]!, 0) / (active.size * cellPixels)),
  );
  const changed = pairs.reduce((sum, pair) => sum + pair.changed, 0);
  const faint = pairs.reduce((sum, pair) => sum + pair.faint, 0);
  const totals = new Array<number>(cellCount).fill(0);
  for (const pair of pairs) pair.cells.forEach((count, cell) => (totals[cell]! += count));
  const top = [...totals].sort((a, b) => b - a).slice(0, Math.ceil(cellCount / 8));
  const concentration = changed > 0 ? top.reduce((sum, v) => sum + v, 0) / changed : 0;

  return {
    activityDiffs,
    hasMotion: moving,
    peakActivity: Math.max(0, ...activityDiffs),
    spread: round4(spread),
    steadiness: round4(steadiness),
    faintness: round4(changed > 0 ? faint / changed : 0),
    density: round4(density),
    concentration: round4(concentration),
    hotRegion: moving ? hotRegionOf(totals) : null,
    flicker: flickerOf(flickerFrames),
  };
}
