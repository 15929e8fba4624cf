import sharp from 'sharp';
import { drawBoxes, type BoxToDraw } from './annotate.js';
import { decodeToRgb } from './image.js';

export interface SheetFrame {
  bytes: Uint8Array;
  /** Drawn in the frame's own pixel space, as the export reports them. */
  boxes: BoxToDraw[];
}

export interface ContactSheet {
  jpeg: Buffer;
  width: number;
  height: number;
  columns: number;
  rows: number;
}

/** Width of one frame on the sheet: 8 frames make a 1440×1080 sheet, which vision models read without tiling it away. */
const tileWidth = 480;
const background = { r: 24, g: 24, b: 24 };

function numberBadge(frameNumber: number, width: number): Buffer {
  const size = Math.round(width / 12);
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size * 2}" height="${size}">` +
      `<rect width="${size * 2}" height="${size}" fill="#000" fill-opacity="0.7"/>` +
      `<text x="${size}" y="${Math.round(size * 0.78)}" font-family="sans-serif" font-weight="bold" font-size="${Math.round(size * 0.8)}" fill="#fff" text-anchor="middle">${frameNumber}</text>` +
      `</svg>`,
  );
}

/**
 * One JPEG of every frame of an event, its boxes drawn and its number (1, 2, …, in upload order) in the
 * corner, laid out left to right and top to bottom on a near-square grid; what a vision LLM is shown.
 * Each tile keeps its frame's aspect ratio inside the tile the first frame sets.
 */
export async function buildContactSheet(frames: SheetFrame[]): Promise<ContactSheet> {
  if (frames.length === 0) throw new Error('a contact sheet needs at least one frame');
  // Each frame is drawn on its decoded pixels and shrunk from them, with no full-size JPEG in between, and
  // its full-size pixels are let go once its tile is made. The first goes ahead: it sets the tile size.
  const annotate = async ({ bytes, boxes }: SheetFrame) => drawBoxes(await decodeToRgb(bytes), boxes);
  const first = await annotate(frames[0]!);
  const tileHeight = Math.round((tileWidth * first.height) / first.width);
  const columns = Math.ceil(Math.sqrt(frames.length));
  const rows = Math.ceil(frames.length / columns);

  const tiles = await Promise.all(
    frames.map(async (frame, index) => {
      const image = index === 0 ? first : await annotate(frame);
      const tile = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
        .resize({ width: tileWidth, height: tileHeight, fit: 'contain', background })
        .composite([{ input: numberBadge(index + 1, tileWidth), top: 0, left: 0 }])
        .raw()
        .toBuffer({ resolveWithObject: true });
      return {
        input: tile.data,
        raw: { width: tile.info.width, height: tile.info.height, channels: tile.info.channels },
        left: (index % columns) * tileWidth,
        top: Math.floor(index / columns) * tileHeight,
      };
    }),
  );
  const width = columns * tileWidth;
  const height = rows * tileHeight;
  const jpeg = await sharp({ create: { width, height, channels: 3, background } })
    .composite(tiles)
    .jpeg({ quality: 80 })
    .toBuffer();
  return { jpeg, width, height, columns, rows };
}
