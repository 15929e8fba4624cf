/**
 * How much moves in a video, one value per sampled frame (spec 2 `frame_activity_diffs`): the share of
 * the picture (0–1) that changed since the previous sampled frame beyond what that part of the picture
 * usually does. Frames are small greyscale images (64–160 px wide) at the sample rate.
 *
 * Three things keep the number about things that move, not about the camera:
 * - a change of the whole picture's brightness (auto-exposure, clouds) is taken out first: the median
 *   change over all pixels is subtracted from each pixel's change;
 * - each pixel keeps a running mean of its change (over about the last ten samples), and counts as changed
 *   only well beyond it: leaves in the wind, water or a flickering light become that pixel's normal within
 *   a few seconds, while a path that people cross now and then keeps a low mean and counts each crossing;
 * - a changed pixel counts only with at least two changed neighbours, which drops sensor noise and
 *   isolated compression flicker.
 */
import { assertFrameBytes, type DecodedFrame } from './frame.js';

export interface ActivityOptions {
  /** Change (0–255) below which a pixel is noise whatever its history. Default 18. */
  noiseFloor?: number;
  /** A pixel counts when its change exceeds noiseFloor + usualFactor × its usual change. Default 2. */
  usualFactor?: number;
}

/** Weight of the newest change in each pixel's running mean: about the last ten samples count. */
const USUAL_RATE = 0.1;

export class ActivityMeter {
  private readonly noiseFloor: number;
  private readonly usualFactor: number;
  private previous: DecodedFrame | undefined;
  /** Per pixel, its usual absolute change between sampled frames. */
  private usual: Float32Array | undefined;

  constructor(opts: ActivityOptions = {}) {
    this.noiseFloor = opts.noiseFloor ?? 18;
    this.usualFactor = opts.usualFactor ?? 2;
  }

  /** The activity (0..1, 4 decimals) between this frame and the previous one pushed; 0 for the first. */
  push(frame: DecodedFrame): number {
    assertFrameBytes(frame, 1);
    const previous = this.previous;
    this.previous = frame;
    if (!previous) return 0;
    if (previous.width !== frame.width || previous.height !== frame.height) {
      throw new RangeError(`frame ${frame.index} is ${frame.width}×${frame.height}, the previous ${previous.width}×${previous.height}`);
    }
    const pixels = frame.width * frame.height;
    const change = new Int16Array(pixels);
    for (let i = 0; i < pixels; i++) change[i] = frame.data[i]! - previous.data[i]!;
    const shift = median(change);

    const usual = (this.usual ??= new Float32Array(pixels));
    const changed = new Uint8Array(pixels);
    for (let i = 0; i < pixels; i++) {
      const amount = Math.abs(change[i]! - shift);
      if (amount > this.noiseFloor + this.usualFactor * usual[i]!) changed[i] = 1;
      usual[i]! += (amount - usual[i]!) * USUAL_RATE;
    }
    return Math.round((countSupported(changed, frame.width, frame.height) / pixels) * 10_000) / 10_000;
  }
}

/** Median of small integer differences (−255..255), by counting. */
function median(values: Int16Array): number {
  const counts = new Uint32Array(511);
  for (const value of values) counts[value + 255]!++;
  const half = values.length / 2;
  let seen = 0;
  for (let v = 0; v < counts.length; v++) {
    seen += counts[v]!;
    if (seen >= half) return v - 255;
  }
  return 0;
}

/** Changed pixels with at least two changed pixels among their eight neighbours. */
function countSupported(changed: Uint8Array, width: number, height: number): number {
  let count = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (changed[y * width + x] === 0) continue;
      let neighbours = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const row = y + dy;
        if (row < 0 || row >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const col = x + dx;
          if ((dx !== 0 || dy !== 0) && col >= 0 && col < width) neighbours += changed[row * width + col]!;
        }
      }
      if (neighbours >= 2) count++;
    }
  }
  return count;
}
