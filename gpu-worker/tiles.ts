/**
 * The tiled pass: a frame cut into 2 x 2 overlapping tiles, each run through the model at its full
 * input size, so objects a few dozen pixels tall (a person far across a car park, cars on a distant
 * road) are seen two to three times larger than in the whole frame.
 */
import type { Box, Detection } from '../domain/types.js';
import type { ImageRegion } from '../media/image.js';
import { round1, suppressDuplicates } from './postprocess.js';

/** Each tile spans this share of the frame's width and height: neighbours overlap by a fifth of the frame. */
export const TILE_SHARE = 0.6;

/** A box this close (in tile pixels) to a tile edge inside the frame is an object cut by the tile. */
const CUT_MARGIN = 2;

/** The frame size to cut tiles from: just large enough that a tile still fills the model's input. */
export function tilingScale(width: number, height: number, inputSize: number): number {
  return Math.min(1, inputSize / (TILE_SHARE * Math.max(width, height)));
}

/** The four tiles of a `width` x `height` frame, left to right, top to bottom. */
export function tileRegions(width: number, height: number): ImageRegion[] {
  const tileWidth = Math.round(width * TILE_SHARE);
  const tileHeight = Math.round(height * TILE_SHARE);
  return [0, height - tileHeight].flatMap((top) => [0, width - tileWidth].map((left) => ({ left, top, width: tileWidth, height: tileHeight })));
}

/**
 * A tile's detections in the coordinates of the full frame (`scale`: frame pixels per pixel of the image the
 * tiles were cut from, `tiledWidth` x `tiledHeight`).
 * Objects cut by a tile edge inside the frame are dropped: the overlapping tile or the whole-frame pass
 * sees them whole.
 */
export function fromTile(
  detections: readonly Detection[],
  region: ImageRegion,
  scale: { x: number; y: number },
  tiledWidth: number,
  tiledHeight: number,
): Detection[] {
  const cutLeft = region.left > 0;
  const cutTop = region.top > 0;
  const cutRight = region.left + region.width < tiledWidth;
  const cutBottom = region.top + region.height < tiledHeight;
  const isCut = ({ box: [x1, y1, x2, y2] }: Detection) =>
    (cutLeft && x1 <= CUT_MARGIN) ||
    (cutTop && y1 <= CUT_MARGIN) ||
    (cutRight && x2 >= region.width - CUT_MARGIN) ||
    (cutBottom && y2 >= region.height - CUT_MARGIN);
  return detections
    .filter((detection) => !isCut(detection))
    .map((detection) => {
      const [x1, y1, x2, y2] = detection.box;
      const box: Box = [
        round1((x1 + region.left) * scale.x),
        round1((y1 + region.top) * scale.y),
        round1((x2 + region.left) * scale.x),
        round1((y2 + region.top) * scale.y),
      ];
      return { ...detection, box };
    });
}

/** The whole frame's detections with the tiles' added, duplicates suppressed. */
export function mergeTiled(whole: readonly Detection[], tiles: readonly Detection[]): Detection[] {
  return suppressDuplicates([...whole, ...tiles]);
}
