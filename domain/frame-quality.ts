/**
 * Frame quality (sensitivity 2): flags frames that are too dark, blurred, frozen or
 * blocked by something close to the lens, from grey thumbnails the caller decoded (`qualityThumbnailWidth`
 * wide). Pure: no I/O. In two steps: `measureFrameQuality` takes a few numbers per frame from the pixels
 * (the detection worker does, on the frames it decoded), `judgeFrameQuality` turns them into flags with
 * the site category's settings (the analysis worker).
 *
 * The flags inform the decision and never remove detections: the detector already looked at the frame,
 * and a person it found in a dark or blurred frame is still evidence of a person. Boxes that a close
 * object on the lens produces are removed by the lens-obstruction filter (filters.ts) from their shape.
 */
import type { GreyFrame } from './motion.js';

/**
 * Thumbnail width the thresholds below were measured at: the blur measure needs more pixels than
 * motion's 64, and 256 is about the native width of the smallest camera streams (320 × 240).
 */
export const qualityThumbnailWidth = 256;

export const qualityIndicators = [
  { indicator: 'frame_too_dark', meaning: 'most of a frame was too dark to see anything' },
  { indicator: 'frame_blurred', meaning: 'a frame had almost no sharp detail (out of focus, fogged or smeared lens)' },
  { indicator: 'frame_frozen', meaning: 'a frame repeated the one before it: the camera sent the same picture again' },
  {
    indicator: 'lens_blocked',
    meaning: 'a large dark, featureless area at the edge of an otherwise lit frame: something on or right in front of the lens',
  },
] as const;
export type QualityIndicator = (typeof qualityIndicators)[number]['indicator'];

export interface FrameQualitySettings {
  /** Grey level (0–255) below which a pixel counts as dark. */
  darkLevel: number;
  /** Share of dark pixels from which a frame is too dark. */
  tooDarkShare: number;
  /** Blur effect (0 crisp … 1 no detail at all, see `blurEffect`) from which a frame counts as blurred. */
  maxBlurEffect: number;
  /** Grey-level change a pixel may show in a repeated frame (re-encoding, sensor noise). */
  frozenPixelTolerance: number;
  /** Largest share of pixels changed beyond the tolerance for a frame to count as a repeat of the one before. */
  frozenMaxChangedShare: number;
  lensBlocked: {
    /** Cells across the thumbnail; cells are square, so the rows follow from the aspect ratio. */
    cellsAcross: number;
    /** A covered cell is darker than this on average… */
    maxCellBrightness: number;
    /** …and this uniform (standard deviation of its grey levels). */
    maxCellDeviation: number;
    /** Share of the frame the largest covered area touching the frame edge must reach. */
    minShare: number;
    /** Median brightness of the rest of the frame from which it counts as lit (not a night scene). */
    minLitBrightness: number;
  };
}

/**
 * Measured on the fixture events and stills (256 px thumbnails): real frames have at most 0.74 of
 * dark pixels (a dim night IR camera trap), a blur effect of 0.18–0.33, and 0.5 % of pixels changed
 * between consecutive frames of a still, empty parking lot; a blur of 5 px at 640 px width lifts
 * the blur effect of textured scenes to 0.52–0.63.
 */
export const defaultFrameQualitySettings: FrameQualitySettings = {
  darkLevel: 40,
  tooDarkShare: 0.85,
  maxBlurEffect: 0.45,
  frozenPixelTolerance: 8,
  // Re-encoded repeats measure 0; a still, empty real scene 0.0009 and up (sensor noise).
  frozenMaxChangedShare: 0.0002,
  lensBlocked: { cellsAcross: 16, maxCellBrightness: 50, maxCellDeviation: 8, minShare: 0.3, minLitBrightness: 80 },
};

/** The settings a frame's measures depend on; the others are thresholds the measures are judged by. */
export interface FrameQualityMeasuring {
  darkLevel: number;
  frozenPixelTolerance: number;
  lensBlocked: Pick<FrameQualitySettings['lensBlocked'], 'cellsAcross' | 'maxCellBrightness' | 'maxCellDeviation'>;
}

export interface FrameQualityMeasures {
  /** Mean grey level, 0–255. */
  brightness: number;
  /** Share of pixels darker than `darkLevel`. */
  darkShare: number;
  blurEffect: number;
  /** Share of pixels that changed beyond the tolerance since the frame before; null for the first frame. */
  changedShare: number | null;
  /** Share of the frame in the largest dark, uniform area touching its edge. */
  coveredShare: number;
  /** Median brightness of the cells outside that area. */
  restBrightness: number;
}

export interface FrameQuality {
  /** Position of the frame in the event. */
  frameIndex: number;
  measures: FrameQualityMeasures;
  flags: QualityIndicator[];
}

export interface QualityReport {
  frames: FrameQuality[];
  /** Every flag raised on at least one frame, in vocabulary order. */
  indicators: QualityIndicator[];
}

function checkFrame({ width, height, data }: GreyFrame): void {
  if (data.length !== width * height) throw new RangeError(`a ${width}×${height} grey frame needs ${width * height} bytes`);
}

const round4 = (value: number) => Math.round(value * 10_000) / 10_000;

/** Pixels either side of a pixel in the mean `blurEffect` blurs with: a 9-pixel window. */
const BLUR_REACH = 4;

/**
 * The blur effect of Crête, Dolmière, Ladret and Nicolas ("The blur effect: perception and estimation
 * with a new no-reference perceptual blur metric", SPIE 2007): how much of the frame's neighbour-to-
 * neighbour variation survives blurring it again with a 9-pixel mean. A sharp frame loses much of it
 * (near 0), a blurred one hardly any (near 1). Taken as the worse of the vertical and horizontal values;
 * a frame with no variation at all is 1.
 *
 * One pass, row by row: the means along the row as a running sum, the means along each column from running
 * column sums, kept for this row and the one above (edge pixels repeated past the border). Sums of whole grey
 * levels are exact in any order; each mean is rounded to single precision, as stored means were.
 */
export function blurEffect(frame: GreyFrame): number {
  checkFrame(frame);
  const { width, height, data } = frame;
  const span = 2 * BLUR_REACH + 1;
  const lastX = width - 1;
  const lastY = height - 1;
  const columnSums = new Float64Array(width);
  for (let k = -BLUR_REACH; k <= BLUR_REACH; k++) {
    const row = Math.min(lastY, Math.max(0, k)) * width;
    for (let x = 0; x < width; x++) columnSums[x]! += data[row + x]!;
  }
  let columnMean = new Float32Array(width);
  let columnMeanAbove = new Float32Array(width);
  let vertical = 0;
  let verticalLost = 0;
  let horizontal = 0;
  let horizontalLost = 0;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    const entering = (y + BLUR_REACH + 1 < height ? y + BLUR_REACH + 1 : lastY) * width;
    const leaving = (y - BLUR_REACH > 0 ? y - BLUR_REACH : 0) * width;
    for (let x = 0; x < width; x++) {
      columnMean[x] = columnSums[x]! / span;
      columnSums[x]! += data[entering + x]! - data[leaving + x]!;
    }
    if (y > 0) {
      for (let x = 0; x < width; x++) {
        const step = Math.abs(data[row + x]! - data[row + x - width]!);
        vertical += step;
        const kept = Math.abs(columnMean[x]! - columnMeanAbove[x]!);
        if (step > kept) verticalLost += step - kept;
      }
    }
    [columnMean, columnMeanAbove] = [columnMeanAbove, columnMean];

    let rowSum = 0;
    for (let k = -BLUR_REACH; k <= BLUR_REACH; k++) rowSum += data[row + Math.min(lastX, Math.max(0, k))]!;
    let meanLeft = Math.fround(rowSum / span);
    for (let x = 1; x < width; x++) {
      rowSum += data[row + (x + BLUR_REACH < width ? x + BLUR_REACH : lastX)]! - data[row + (x - 1 - BLUR_REACH > 0 ? x - 1 - BLUR_REACH : 0)]!;
      const mean = Math.fround(rowSum / span);
      const step = Math.abs(data[row + x]! - data[row + x - 1]!);
      horizontal += step;
      const kept = Math.abs(mean - meanLeft);
      if (step > kept) horizontalLost += step - kept;
      meanLeft = mean;
    }
  }
  const kept = (total: number, lost: number) => (total === 0 ? 1 : (total - lost) / total);
  return round4(Math.max(kept(vertical, verticalLost), kept(horizontal, horizontalLost)));
}

/** Share of pixels whose grey level differs by more than `tolerance`; frames of different sizes differ entirely. */
export function changedShare(before: GreyFrame, after: GreyFrame, tolerance: number): number {
  checkFrame(before);
  checkFrame(after);
  if (before.width !== after.width || before.height !== after.height) return 1;
  let changed = 0;
  for (let i = 0; i < after.data.length; i++) if (Math.abs(after.data[i]! - before.data[i]!) > tolerance) changed++;
  return after.data.length === 0 ? 0 : round4(changed / after.data.length);
}

interface Cell {
  mean: number;
  deviation: number;
}

function cellsOf({ width, height, data }: GreyFrame, across: number): { cells: Cell[]; down: number } {
  const down = Math.max(1, Math.round((across * height) / width));
  const cells: Cell[] = [];
  for (let row = 0; row < down; row++) {
    for (let column = 0; column < across; column++) {
      const x0 = Math.floor((column * width) / across);
      const x1 = Math.floor(((column + 1) * width) / across);
      const y0 = Math.floor((row * height) / down);
      const y1 = Math.floor(((row + 1) * height) / down);
      let sum = 0;
      let squares = 0;
      let count = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const value = data[y * width + x]!;
          sum += value;
          squares += value * value;
          count++;
        }
      }
      const mean = count === 0 ? 0 : sum / count;
      cells.push({ mean, deviation: count === 0 ? 0 : Math.sqrt(Math.max(0, squares / count - mean * mean)) });
    }
  }
  return { cells, down };
}

/**
 * The largest area of dark, uniform cells that touches the frame edge (something opaque in front of
 * the lens covers it from an edge), and the median brightness of the other cells. A night scene is
 * dark everywhere; a covered lens leaves the rest of a lit frame lit.
 */
export function coveredArea(frame: GreyFrame, settings: FrameQualityMeasuring['lensBlocked']): { share: number; restBrightness: number } {
  checkFrame(frame);
  const across = settings.cellsAcross;
  const { cells, down } = cellsOf(frame, across);
  const covered = cells.map((cell) => cell.mean < settings.maxCellBrightness && cell.deviation < settings.maxCellDeviation);
  const seen = new Uint8Array(cells.length);
  let largest: number[] = [];
  for (let start = 0; start < cells.length; start++) {
    if (!covered[start] || seen[start]) continue;
    const area: number[] = [];
    const stack = [start];
    seen[start] = 1;
    let touchesEdge = false;
    while (stack.length > 0) {
      const cell = stack.pop()!;
      area.push(cell);
      const column = cell % across;
      const row = (cell - column) / across;
      if (column === 0 || row === 0 || column === across - 1 || row === down - 1) touchesEdge = true;
      const neighbours = [
        column > 0 ? cell - 1 : -1,
        column < across - 1 ? cell + 1 : -1,
        row > 0 ? cell - across : -1,
        row < down - 1 ? cell + across : -1,
      ];
      for (const next of neighbours) {
        if (next >= 0 && covered[next] && !seen[next]) {
          seen[next] = 1;
          stack.push(next);
        }
      }
    }
    if (touchesEdge && area.length > largest.length) largest = area;
  }
  const inLargest = new Set(largest);
  const rest = cells.filter((_, index) => !inLargest.has(index)).map((cell) => cell.mean).sort((a, b) => a - b);
  return {
    share: round4(largest.length / cells.length),
    restBrightness: rest.length === 0 ? 0 : Math.round(rest[Math.floor(rest.length / 2)]!),
  };
}

/** The measuring parameters among the settings: measures taken with the same ones are the same, whatever the thresholds. */
export function measuringOf({ darkLevel, frozenPixelTolerance, lensBlocked }: FrameQualitySettings): FrameQualityMeasuring {
  const { cellsAcross, maxCellBrightness, maxCellDeviation } = lensBlocked;
  return { darkLevel, frozenPixelTolerance, lensBlocked: { cellsAcross, maxCellBrightness, maxCellDeviation } };
}

export function sameMeasuring(a: FrameQualityMeasuring, b: FrameQualityMeasuring): boolean {
  return (
    a.darkLevel === b.darkLevel &&
    a.frozenPixelTolerance === b.frozenPixelTolerance &&
    a.lensBlocked.cellsAcross === b.lensBlocked.cellsAcross &&
    a.lensBlocked.maxCellBrightness === b.lensBlocked.maxCellBrightness &&
    a.lensBlocked.maxCellDeviation === b.lensBlocked.maxCellDeviation
  );
}

function measure(frame: GreyFrame, previous: GreyFrame | undefined, settings: FrameQualityMeasuring): FrameQualityMeasures {
  checkFrame(frame);
  const { data } = frame;
  let sum = 0;
  let dark = 0;
  const { darkLevel } = settings;
  for (let i = 0; i < data.length; i++) {
    const value = data[i]!;
    sum += value;
    if (value < darkLevel) dark++;
  }
  const pixels = Math.max(data.length, 1);
  const covered = coveredArea(frame, settings.lensBlocked);
  return {
    brightness: Math.round(sum / pixels),
    darkShare: round4(dark / pixels),
    blurEffect: blurEffect(frame),
    changedShare: previous ? changedShare(previous, frame, settings.frozenPixelTolerance) : null,
    coveredShare: covered.share,
    restBrightness: covered.restBrightness,
  };
}

function flagsOf(measures: FrameQualityMeasures, settings: FrameQualitySettings): QualityIndicator[] {
  const raised: Record<QualityIndicator, boolean> = {
    frame_too_dark: measures.darkShare >= settings.tooDarkShare,
    frame_blurred: measures.blurEffect >= settings.maxBlurEffect,
    frame_frozen: measures.changedShare !== null && measures.changedShare <= settings.frozenMaxChangedShare,
    lens_blocked:
      measures.coveredShare >= settings.lensBlocked.minShare && measures.restBrightness >= settings.lensBlocked.minLitBrightness,
  };
  return qualityIndicators.map(({ indicator }) => indicator).filter((indicator) => raised[indicator]);
}

/** The measures of every frame of an event, in order (the frozen check compares each with the one before). */
export function measureFrameQuality(
  frames: readonly GreyFrame[],
  measuring: FrameQualityMeasuring = measuringOf(defaultFrameQualitySettings),
): FrameQualityMeasures[] {
  return frames.map((frame, frameIndex) => measure(frame, frames[frameIndex - 1], measuring));
}

/**
 * Flags every frame of an event from its measures (taken with `measuringOf(settings)`), in order;
 * `disabled` flags are never raised.
 */
export function judgeFrameQuality(
  measures: readonly FrameQualityMeasures[],
  settings: FrameQualitySettings = defaultFrameQualitySettings,
  disabled: readonly string[] = [],
): QualityReport {
  const assessed = measures.map((frameMeasures, frameIndex) => ({
    frameIndex,
    measures: frameMeasures,
    flags: flagsOf(frameMeasures, settings).filter((flag) => !disabled.includes(flag)),
  }));
  const indicators = qualityIndicators
    .map(({ indicator }) => indicator)
    .filter((indicator) => assessed.some((frame) => frame.flags.includes(indicator)));
  return { frames: assessed, indicators };
}
