import sharp from 'sharp';
import type { Box, DetectionCategory } from '../domain/types.js';
import { decodeToRgb, type RgbImage } from './image.js';

export interface BoxToDraw {
  category: DetectionCategory;
  box: Box;
  score: number;
}

const colours: Record<DetectionCategory, string> = { person: '#ff3b30', vehicle: '#0a84ff', weapon: '#ffd60a' };

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The image with its boxes and labels drawn, in the image's own pixel space; raw pixels in and out. */
export async function drawBoxes(image: RgbImage, boxes: BoxToDraw[]): Promise<RgbImage> {
  const stroke = Math.max(2, Math.round(Math.min(image.width, image.height) / 240));
  const fontSize = Math.max(11, stroke * 6);
  const shapes = boxes.map(({ category, box: [x1, y1, x2, y2], score }) => {
    const label = escapeXml(`${category} ${score.toFixed(2)}`);
    const labelY = y1 > fontSize + 2 ? y1 - 3 : y1 + fontSize;
    return (
      `<rect x="${x1}" y="${y1}" width="${x2 - x1}" height="${y2 - y1}" fill="none" stroke="${colours[category]}" stroke-width="${stroke}"/>` +
      `<text x="${x1 + 2}" y="${labelY}" font-family="sans-serif" font-size="${fontSize}" fill="${colours[category]}" stroke="#000" stroke-width="0.6">${label}</text>`
    );
  });
  const overlay = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${image.width}" height="${image.height}">${shapes.join('')}</svg>`);
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .composite([{ input: overlay, top: 0, left: 0 }])
    // The SVG overlay adds an alpha channel: drop it to stay 3-channel RGB.
    .removeAlpha()
    .raw()
    .toBuffer();
  return { width: image.width, height: image.height, data };
}

/** The JPEG an annotated image is served as. */
export function encodeAnnotated(image: RgbImage): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

/** The frame as a JPEG with its boxes and labels drawn, in the frame's own pixel space. */
export async function annotateFrame(bytes: Uint8Array, boxes: BoxToDraw[]): Promise<Buffer> {
  return encodeAnnotated(await drawBoxes(await decodeToRgb(bytes), boxes));
}
