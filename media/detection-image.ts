import sharp from 'sharp';
import type { Box } from '../domain/types.js';
import { annotateFrame, drawBoxes, encodeAnnotated, type BoxToDraw } from './annotate.js';
import { decodeToRgb } from './image.js';

/** Images of one detection: its frame with only its box drawn, and a thumbnail cropped around that box. */

export interface CropRegion {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Thumbnails are at most this many pixels on their longer side. */
export const THUMBNAIL_MAX_SIDE = 320;
/** Crops are at least this many pixels each way where the frame allows: room for the label over a small box. */
const MIN_CROP_SIDE = 96;

/** One axis of the crop: widened to the minimum around its centre, shifted back inside `[0, limit]`. */
function cropSpan(from: number, to: number, limit: number): [number, number] {
  const missing = Math.max(0, MIN_CROP_SIDE - (to - from));
  let low = from - missing / 2;
  let high = to + missing / 2;
  if (low < 0) [low, high] = [0, high - low];
  if (high > limit) [low, high] = [low - (high - limit), limit];
  const start = Math.min(Math.max(Math.floor(low), 0), limit - 1);
  return [start, Math.max(Math.min(Math.ceil(high), limit), start + 1)];
}

/** The box with a quarter of its longer side around it (16 px at least), inside the frame. */
export function thumbnailRegion([x1, y1, x2, y2]: Box, frame: { width: number; height: number }): CropRegion {
  const margin = Math.max(16, 0.25 * Math.max(x2 - x1, y2 - y1));
  const [left, right] = cropSpan(x1 - margin, x2 + margin, frame.width);
  const [top, bottom] = cropSpan(y1 - margin, y2 + margin, frame.height);
  return { left, top, width: right - left, height: bottom - top };
}

export interface ThumbnailLayout {
  /** The part of the frame shown. */
  region: CropRegion;
  /** Thumbnail pixels per frame pixel: 1, or less for a region larger than the thumbnail. */
  scale: number;
  width: number;
  height: number;
}

export function thumbnailLayout(box: Box, frame: { width: number; height: number }): ThumbnailLayout {
  const region = thumbnailRegion(box, frame);
  const scale = Math.min(1, THUMBNAIL_MAX_SIDE / Math.max(region.width, region.height));
  return { region, scale, width: Math.max(1, Math.round(region.width * scale)), height: Math.max(1, Math.round(region.height * scale)) };
}

export function renderDetectionOverlay(frame: Uint8Array, detection: BoxToDraw): Promise<Buffer> {
  return annotateFrame(frame, [detection]);
}

/** Cropped and scaled first, then drawn: the box and label are drawn at thumbnail size and encoded once. */
export async function renderDetectionThumbnail(frame: Uint8Array, detection: BoxToDraw): Promise<Buffer> {
  const image = await decodeToRgb(frame);
  const { region, scale, width, height } = thumbnailLayout(detection.box, image);
  const crop = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .extract(region)
    .resize(width, height)
    .raw()
    .toBuffer();
  const [x1, y1, x2, y2] = detection.box;
  const inCrop = (x: number, y: number) => [(x - region.left) * scale, (y - region.top) * scale] as const;
  return encodeAnnotated(await drawBoxes({ width, height, data: crop }, [{ ...detection, box: [...inCrop(x1, y1), ...inCrop(x2, y2)] }]));
}
