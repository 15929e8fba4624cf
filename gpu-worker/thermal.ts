/**
 * The thermal pass: frames of a thermal camera (grey, or a pseudo-colour palette) in which no model saw a
 * person are looked at again black-hot (luminance inverted: warm bodies dark on a light ground, closer to
 * the visible-light people the COCO detectors learnt), contrast-stretched, in 3 x 3 tiles, so a person a
 * few dozen metres away fills several times more of the model's input. The whole black-hot frame is not
 * run: on the fixture ducks still it scores a duck a person at 0.45-0.58, where the tiles do not. What
 * this finds is weaker evidence than the primary pass: a person must be seen again near the same place in
 * another frame of the event, or score at least CONFIRMED_ALONE_SCORE alone, and boxes over the camera's
 * on-screen readouts (text and logos) are dropped.
 */
import { nearby, scaledBox } from '../domain/filters.js';
import type { Box, Detection, FrameDetections } from '../domain/types.js';
import { regionOf, resizableRgb, type ImageRegion, type ResizableImage } from '../media/image.js';
import { INPUT_SIZE } from './models/adapter.js';
import { isPseudoColour, luminancePlane } from './pseudo-colour.js';
import { fromTile, mergeTiled } from './tiles.js';

export interface ThermalFrame {
  frameIndex: number;
  source: ResizableImage;
  /** The primary pass's palette decision, when it made one. */
  pseudoColour?: boolean;
}

/** Runs the detector over each view (pixels already as the model should see them); detections in the view's pixels. */
export type DetectViews = (views: { frameIndex: number; source: ResizableImage; pseudoColour: false }[]) => Promise<Detection[][]>;

/** What the thermal pass did to an event. */
export interface ThermalRun {
  /** Frames recognised as thermal and looked at again. */
  frames: number;
  /** Model runs: the tiles of the thermal frames. */
  runs: number;
  /** Persons the pass added to the frames. */
  persons: number;
  /** Persons it found and dropped: over an on-screen readout; neither seen in another frame nor strong alone. */
  dropped: { readout: number; unconfirmed: number };
  ms: number;
}

/** Tiles per side of the stretched frame, and each tile's share of the frame's side (neighbours overlap by a quarter). */
const TILES_PER_SIDE = 3;
const TILE_SHARE = 0.5;
/** A person the pass found in one frame only counts from this score. */
export const CONFIRMED_ALONE_SCORE = 0.6;
/** Contrast stretching maps these luminance percentiles to black and white. */
const STRETCH_PERCENTILES = [0.01, 0.99] as const;
/**
 * A grey frame: nearly every sample has channels within this much of each other. JPEG's rounding leaves at most
 * 4 on grey cameras' frames (night IR, grey thermal); an overcast colour scene (`parking_lot_empty_a`) has a
 * sixth of its pixels above, and is not worth the pass's cost.
 */
const GREY_MAX_CHROMA = 4;
const GREY_MIN_SHARE = 0.98;
/** A readout pixel on a palette frame: unsaturated and light (white or grey text, logos, scale marks). */
const READOUT_MAX_CHROMA = 40;
const READOUT_MIN_VALUE = 140;
/** A box with at least this share of readout pixels is the camera's overlay, not a body. */
const READOUT_MIN_SHARE = 0.2;
/**
 * Thermal cameras print their readouts and logo in bands along the top and bottom: a box wholly inside one
 * (this share of the frame's height) is one of them, on grey frames too, where colour cannot tell.
 */
const READOUT_BAND = 0.12;

/** A frame a thermal camera made: its palette was recognised, or it has no colour at all. */
export function isThermalFrame(rgb: Uint8Array, pseudoColour: boolean | undefined): boolean {
  return pseudoColour === true || isGrey(rgb) || isPseudoColour(rgb);
}

function isGrey(rgb: Uint8Array): boolean {
  const pixels = Math.floor(rgb.length / 3);
  const step = Math.max(1, Math.floor(pixels / 16_384));
  let samples = 0;
  let grey = 0;
  for (let pixel = 0; pixel < pixels; pixel += step) {
    const i = pixel * 3;
    samples++;
    if (Math.max(rgb[i]!, rgb[i + 1]!, rgb[i + 2]!) - Math.min(rgb[i]!, rgb[i + 1]!, rgb[i + 2]!) <= GREY_MAX_CHROMA) grey++;
  }
  return samples > 0 && grey / samples >= GREY_MIN_SHARE;
}

/** Black-hot, the luminance's 1st and 99th percentiles stretched to white and black, as grey RGB. */
function blackHotStretched(luma: Uint8Array): Buffer {
  const histogram = new Uint32Array(256);
  for (const value of luma) histogram[value]!++;
  const [low, high] = STRETCH_PERCENTILES.map((share) => {
    let seen = 0;
    for (let value = 0; value < 256; value++) {
      seen += histogram[value]!;
      if (seen > share * luma.length) return value;
    }
    return 255;
  }) as [number, number];
  const range = Math.max(1, high - low);
  return greyRgb(luma, (value) => 255 - Math.min(255, Math.max(0, Math.round(((value - low) * 255) / range))));
}

function greyRgb(luma: Uint8Array, map: (value: number) => number): Buffer {
  const table = Uint8Array.from({ length: 256 }, (_, value) => map(value));
  const rgb = Buffer.alloc(luma.length * 3);
  for (let i = 0; i < luma.length; i++) rgb.fill(table[luma[i]!]!, i * 3, i * 3 + 3);
  return rgb;
}

/** The 3 x 3 tiles of a `width` x `height` frame, left to right, top to bottom. */
export function thermalTileRegions(width: number, height: number): ImageRegion[] {
  const tileWidth = Math.round(width * TILE_SHARE);
  const tileHeight = Math.round(height * TILE_SHARE);
  const starts = (size: number, tile: number) => Array.from({ length: TILES_PER_SIDE }, (_, i) => Math.round(((size - tile) * i) / (TILES_PER_SIDE - 1)));
  return starts(height, tileHeight).flatMap((top) => starts(width, tileWidth).map((left) => ({ left, top, width: tileWidth, height: tileHeight })));
}

/** Share of a box's pixels (in `rgb`'s `width` x `height` pixels) that look like an on-screen readout. */
export function readoutShare(rgb: Uint8Array, width: number, height: number, [x1, y1, x2, y2]: Box): number {
  const left = Math.max(0, Math.floor(x1));
  const top = Math.max(0, Math.floor(y1));
  const right = Math.min(width, Math.ceil(x2));
  const bottom = Math.min(height, Math.ceil(y2));
  let pixels = 0;
  let readout = 0;
  for (let y = top; y < bottom; y++) {
    for (let x = left; x < right; x++) {
      const i = (y * width + x) * 3;
      const max = Math.max(rgb[i]!, rgb[i + 1]!, rgb[i + 2]!);
      pixels++;
      if (max >= READOUT_MIN_VALUE && max - Math.min(rgb[i]!, rgb[i + 1]!, rgb[i + 2]!) <= READOUT_MAX_CHROMA) readout++;
    }
  }
  return pixels > 0 ? readout / pixels : 0;
}

interface LookedAt {
  frameIndex: number;
  /** The frame as the pass read it, and frame pixels per pixel of it. */
  rgb: Buffer;
  width: number;
  height: number;
  scale: { x: number; y: number };
  palette: boolean;
  views: { source: ResizableImage; region: ImageRegion }[];
}

/**
 * The pass over an event's frames (`frames`: their detections so far, in the same order). Thermal frames
 * are read at the size their tiles need; other frames are left as they are. `examinedFrom` gives, per
 * frame, the position of the frame read in its stead (`changed-frames.ts`): a frame unchanged since an
 * earlier one takes that frame's finds, so a static scene costs one frame's tiles, not every frame's.
 */
export async function thermalPass(
  inputs: readonly ThermalFrame[],
  frames: readonly FrameDetections[],
  detect: DetectViews,
  examinedFrom: readonly number[] = inputs.map((_, position) => position),
): Promise<{ frames: FrameDetections[]; run: ThermalRun }> {
  const started = performance.now();
  const examined = inputs.filter((_, position) => examinedFrom[position] === position);
  const lookedAt = (await Promise.all(examined.map(prepareFrame))).filter((frame): frame is LookedAt => frame !== null);
  const views = lookedAt.flatMap((frame) => frame.views.map(({ source }) => ({ frameIndex: frame.frameIndex, source, pseudoColour: false as const })));
  const found = await detect(views);

  const dropped = { readout: 0, unconfirmed: 0 };
  let next = 0;
  const candidates = new Map<number, Detection[]>();
  for (const frame of lookedAt) {
    const persons = frame.views
      .flatMap(({ region }) => fromTile(found[next++]!.filter((d) => d.category === 'person'), region, frame.scale, frame.width, frame.height))
      .filter((person) => {
        const box = inPixelsOf(person.box, frame.scale);
        const overReadout =
          inReadoutBand(box, frame.height) || (frame.palette && readoutShare(frame.rgb, frame.width, frame.height, box) >= READOUT_MIN_SHARE);
        if (overReadout) dropped.readout++;
        return !overReadout;
      });
    candidates.set(frame.frameIndex, mergeTiled([], persons));
  }
  inputs.forEach((input, position) => {
    const found = candidates.get(inputs[examinedFrom[position]!]!.frameIndex);
    if (found) candidates.set(input.frameIndex, found);
  });

  let persons = 0;
  const merged = frames.map((frame) => {
    const own = candidates.get(frame.frameIndex) ?? [];
    const confirmed = own.filter((person) => {
      const seenElsewhere = frames.some(
        (other) =>
          other.frameIndex !== frame.frameIndex &&
          [...(candidates.get(other.frameIndex) ?? []), ...other.detections].some(
            (d) => d.category === 'person' && nearby(person.box, scaledBox(d.box, other, frame)),
          ),
      );
      const kept = seenElsewhere || person.score >= CONFIRMED_ALONE_SCORE;
      if (!kept) dropped.unconfirmed++;
      return kept;
    });
    persons += confirmed.length;
    return confirmed.length > 0 ? { ...frame, detections: mergeTiled(frame.detections, confirmed) } : frame;
  });
  const run = { frames: lookedAt.length, runs: views.length, persons, dropped, ms: Math.round((performance.now() - started) * 10) / 10 };
  return { frames: merged, run };
}

async function prepareFrame({ frameIndex, source, pseudoColour }: ThermalFrame): Promise<LookedAt | null> {
  const factor = Math.min(1, INPUT_SIZE / (TILE_SHARE * Math.max(source.width, source.height)));
  const width = Math.max(1, Math.round(source.width * factor));
  const height = Math.max(1, Math.round(source.height * factor));
  const rgb = await source.resize(width, height, 'linear');
  if (!isThermalFrame(rgb, pseudoColour)) return null;
  const blackHot = resizableRgb({ width, height, data: blackHotStretched(luminancePlane(rgb)) });
  return {
    frameIndex,
    rgb,
    width,
    height,
    scale: { x: source.width / width, y: source.height / height },
    palette: !isGrey(rgb),
    views: thermalTileRegions(width, height).map((region) => ({ source: regionOf(blackHot, region), region })),
  };
}

export const inReadoutBand = ([, y1, , y2]: Box, height: number) => y2 <= READOUT_BAND * height || y1 >= (1 - READOUT_BAND) * height;

const inPixelsOf = ([x1, y1, x2, y2]: Box, scale: { x: number; y: number }): Box => [x1 / scale.x, y1 / scale.y, x2 / scale.x, y2 / scale.y];
