/**
 * Thermal cameras often burn a pseudo-colour palette (iron, rainbow) into their video. The COCO
 * detectors were trained on visible-light photos and find people in such frames more reliably once
 * the palette is turned back into one brightness channel. Pure functions over interleaved RGB.
 */

export interface PseudoColourStats {
  /** Share of the non-dark samples that are strongly saturated. */
  colourfulShare: number;
  /** Mean HSV saturation of the non-dark samples. */
  meanSaturation: number;
  /** Degrees of the hue circle the saturated samples cover (360 minus the widest unused arc). */
  hueSpan: number;
}

/** Samples darker than this (HSV value) carry no reliable hue. */
const DARK_VALUE = 0.15;
/** Saturation from which a sample counts as colourful. */
const COLOURFUL_SATURATION = 0.25;
const HUE_BINS = 36;
/** A hue bin holding less than this share of the colourful samples counts as unused (JPEG noise, overlays). */
const HUE_BIN_MIN_SHARE = 0.005;
/** About this many pixels are looked at: enough for stable shares, cheap on the detection thread. */
const TARGET_SAMPLES = 16_384;

/**
 * Palettes paint nearly every pixel in saturated colour along a wide hue ramp; natural frames, even
 * colourful ones, keep greys and pastels (the fixtures' photos reach at most 0.81 colourful share and
 * 0.59 mean saturation, the FLIR stills at least 0.95 and 0.77).
 */
const PSEUDO_COLOUR = { minColourfulShare: 0.9, minMeanSaturation: 0.65, minHueSpan: 90, minNonDarkShare: 0.2 };

export function pseudoColourStats(rgb: Uint8Array): PseudoColourStats & { nonDarkShare: number } {
  const pixels = Math.floor(rgb.length / 3);
  const step = Math.max(1, Math.floor(pixels / TARGET_SAMPLES));
  const hueCounts = new Uint32Array(HUE_BINS);
  let samples = 0;
  let nonDark = 0;
  let colourful = 0;
  let saturationSum = 0;
  for (let pixel = 0; pixel < pixels; pixel += step) {
    samples++;
    const i = pixel * 3;
    const r = rgb[i]!;
    const g = rgb[i + 1]!;
    const b = rgb[i + 2]!;
    const max = Math.max(r, g, b);
    if (max < DARK_VALUE * 255) continue;
    nonDark++;
    const chroma = max - Math.min(r, g, b);
    const saturation = chroma / max;
    saturationSum += saturation;
    if (saturation < COLOURFUL_SATURATION) continue;
    colourful++;
    hueCounts[Math.min(HUE_BINS - 1, Math.floor((hueOf(r, g, b, max, chroma) / 360) * HUE_BINS))]!++;
  }
  return {
    nonDarkShare: samples > 0 ? nonDark / samples : 0,
    colourfulShare: nonDark > 0 ? colourful / nonDark : 0,
    meanSaturation: nonDark > 0 ? saturationSum / nonDark : 0,
    hueSpan: colourful > 0 ? 360 - (widestUnusedRun(hueCounts, colourful * HUE_BIN_MIN_SHARE) * 360) / HUE_BINS : 0,
  };
}

export function isPseudoColour(rgb: Uint8Array): boolean {
  const stats = pseudoColourStats(rgb);
  return (
    stats.nonDarkShare >= PSEUDO_COLOUR.minNonDarkShare &&
    stats.colourfulShare >= PSEUDO_COLOUR.minColourfulShare &&
    stats.meanSaturation >= PSEUDO_COLOUR.minMeanSaturation &&
    stats.hueSpan >= PSEUDO_COLOUR.minHueSpan
  );
}

/**
 * Rec. 601 luma into all three channels, in place. Iron-like palettes rise in luma from cold to hot,
 * so this is their white-hot rendering; rainbow palettes are not monotonic in luma, but the outlines
 * of warm bodies survive, and on the fixture stills the detectors do better on it than on the colours.
 */
/** The frame's luminance (BT.601), one byte per pixel. */
export function luminancePlane(rgb: Uint8Array): Uint8Array {
  const luma = new Uint8Array(Math.floor(rgb.length / 3));
  for (let i = 0; i < luma.length; i++) luma[i] = Math.round(0.299 * rgb[i * 3]! + 0.587 * rgb[i * 3 + 1]! + 0.114 * rgb[i * 3 + 2]!);
  return luma;
}

export function toLuminance(rgb: Uint8Array): void {
  for (let i = 0; i + 2 < rgb.length; i += 3) {
    const luma = Math.round(0.299 * rgb[i]! + 0.587 * rgb[i + 1]! + 0.114 * rgb[i + 2]!);
    rgb[i] = luma;
    rgb[i + 1] = luma;
    rgb[i + 2] = luma;
  }
}

/** HSV hue in degrees, 0 ≤ hue < 360, for a sample with non-zero chroma. */
function hueOf(r: number, g: number, b: number, max: number, chroma: number): number {
  if (chroma === 0) return 0;
  let sector: number;
  if (max === r) sector = ((g - b) / chroma + 6) % 6;
  else if (max === g) sector = (b - r) / chroma + 2;
  else sector = (r - g) / chroma + 4;
  return sector * 60;
}

/** Longest circular run of bins at or below `threshold`. */
function widestUnusedRun(counts: Uint32Array, threshold: number): number {
  let widest = 0;
  for (let start = 0; start < counts.length; start++) {
    let run = 0;
    while (run < counts.length && counts[(start + run) % counts.length]! <= threshold) run++;
    widest = Math.max(widest, run);
  }
  return widest;
}
