/**
 * Shot cuts (spec 2 `raw_scenes`), after PySceneDetect's content detector: each frame is turned into
 * HSV and compared with the previous one; the mean absolute difference of hue, saturation and value,
 * averaged over the three channels, is the frame's score. A score at or above the threshold is a hard
 * cut, unless the current shot is still shorter than the minimum scene length (a flash, a glitch or the
 * frames right after a cut). Frames come at the native rate, small (64–160 px wide is plenty): the
 * score is a mean over all pixels, so it barely depends on the size.
 */
import { assertFrameBytes, type DecodedFrame } from './frame.js';

/** One shot, in seconds from the start of the video (spec 2's field names). */
export interface RawScene {
  start_seconds: number;
  end_seconds: number;
}

export interface ContentCutOptions {
  /** Mean HSV difference (0–255 per channel, hue on OpenCV's 0–179 scale) from which frames are a cut. Default 27. */
  threshold?: number;
  /** Shortest shot, in seconds: a cut closer than this to the previous one (or to the start) is ignored. Default 0.6. */
  minSceneS?: number;
}

export const defaultCutThreshold = 27;
export const defaultMinSceneS = 0.6;

interface HsvPlanes {
  hue: Uint8Array;
  sat: Uint8Array;
  val: Uint8Array;
}

/** RGB to HSV the way OpenCV does for 8-bit images (hue 0–179, saturation and value 0–255). */
function toHsv(rgb: Uint8Array, pixels: number): HsvPlanes {
  const hue = new Uint8Array(pixels);
  const sat = new Uint8Array(pixels);
  const val = new Uint8Array(pixels);
  for (let i = 0, p = 0; i < pixels; i++, p += 3) {
    const r = rgb[p]!;
    const g = rgb[p + 1]!;
    const b = rgb[p + 2]!;
    const max = Math.max(r, g, b);
    const spread = max - Math.min(r, g, b);
    val[i] = max;
    if (spread === 0) continue;
    sat[i] = Math.round((255 * spread) / max);
    let degrees: number;
    if (max === r) degrees = (60 * (g - b)) / spread;
    else if (max === g) degrees = 120 + (60 * (b - r)) / spread;
    else degrees = 240 + (60 * (r - g)) / spread;
    if (degrees < 0) degrees += 360;
    hue[i] = Math.round(degrees / 2) % 180;
  }
  return { hue, sat, val };
}

function meanAbsoluteDifference(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return a.length === 0 ? 0 : sum / a.length;
}

const roundMs = (seconds: number) => Math.round(seconds * 1000) / 1000;

export class ContentCutDetector {
  private readonly threshold: number;
  private readonly minSceneS: number;
  private previous: { planes: HsvPlanes; width: number; height: number } | undefined;
  private shotStartS: number | undefined;
  private readonly cutsS: number[] = [];
  /** Each pushed frame's score against the one before (0 for the first), for inspection and tuning. */
  readonly scores: { timestampS: number; score: number }[] = [];

  constructor(opts: ContentCutOptions = {}) {
    this.threshold = opts.threshold ?? defaultCutThreshold;
    this.minSceneS = opts.minSceneS ?? defaultMinSceneS;
    if (!(this.threshold > 0)) throw new RangeError('threshold must be positive');
    if (!(this.minSceneS >= 0)) throw new RangeError('minSceneS must be zero or more');
  }

  /** Frames in presentation order, RGB. */
  push(frame: DecodedFrame): void {
    assertFrameBytes(frame, 3);
    const planes = toHsv(frame.data, frame.width * frame.height);
    const previous = this.previous;
    this.previous = { planes, width: frame.width, height: frame.height };
    if (!previous) {
      this.shotStartS = frame.timestampS;
      this.scores.push({ timestampS: frame.timestampS, score: 0 });
      return;
    }
    if (previous.width !== frame.width || previous.height !== frame.height) {
      throw new RangeError(`frame ${frame.index} is ${frame.width}×${frame.height}, the previous ${previous.width}×${previous.height}`);
    }
    const score =
      (meanAbsoluteDifference(planes.hue, previous.planes.hue) +
        meanAbsoluteDifference(planes.sat, previous.planes.sat) +
        meanAbsoluteDifference(planes.val, previous.planes.val)) /
      3;
    this.scores.push({ timestampS: frame.timestampS, score });
    if (score >= this.threshold && frame.timestampS - this.shotStartS! >= this.minSceneS) {
      this.cutsS.push(frame.timestampS);
      this.shotStartS = frame.timestampS;
    }
  }

  /** The shots between cuts, covering 0 to `durationS` (a video with no frame is one shot). */
  finish(durationS: number): RawScene[] {
    if (!(durationS >= 0)) throw new RangeError('durationS must be zero or more');
    const bounds = [0, ...this.cutsS.filter((cut) => cut > 0 && cut < durationS), durationS];
    const scenes: RawScene[] = [];
    for (let i = 1; i < bounds.length; i++) {
      scenes.push({ start_seconds: roundMs(bounds[i - 1]!), end_seconds: roundMs(bounds[i]!) });
    }
    return scenes;
  }
}
