import type { Quad } from './text-boxes.js';

export interface RgbPixels {
  width: number;
  height: number;
  /** RGB interleaved, row-major. */
  data: Uint8Array;
}

/**
 * The quad's pixels straightened into an upright rectangle (PaddleOCR's `get_rotate_crop_image`): as wide
 * as its longer horizontal side and as tall as its longer vertical side, sampled bilinearly with the
 * border repeated. A crop at least 1.5 times as tall as wide is turned a quarter anticlockwise, since
 * the recogniser reads lines left to right.
 */
export function cropQuad(image: RgbPixels, quad: Quad): RgbPixels {
  const [tl, tr, br, bl] = quad;
  const distance = (a: readonly number[], b: readonly number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!);
  const width = Math.max(1, Math.round(Math.max(distance(tl, tr), distance(bl, br))));
  const height = Math.max(1, Math.round(Math.max(distance(tl, bl), distance(tr, br))));
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const v = height > 1 ? y / (height - 1) : 0.5;
    for (let x = 0; x < width; x++) {
      const u = width > 1 ? x / (width - 1) : 0.5;
      // Bilinear across the quad's corners (exact for the parallelograms DB post-processing gives).
      const sx = (1 - v) * ((1 - u) * tl[0] + u * tr[0]) + v * ((1 - u) * bl[0] + u * br[0]);
      const sy = (1 - v) * ((1 - u) * tl[1] + u * tr[1]) + v * ((1 - u) * bl[1] + u * br[1]);
      sampleInto(image, sx, sy, out, (y * width + x) * 3);
    }
  }
  const crop = { width, height, data: out };
  return height / width >= 1.5 ? rotateAnticlockwise(crop) : crop;
}

function sampleInto(image: RgbPixels, x: number, y: number, out: Uint8Array, at: number): void {
  const cx = Math.min(image.width - 1, Math.max(0, x));
  const cy = Math.min(image.height - 1, Math.max(0, y));
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const x1 = Math.min(image.width - 1, x0 + 1);
  const y1 = Math.min(image.height - 1, y0 + 1);
  const fx = cx - x0;
  const fy = cy - y0;
  const { data, width } = image;
  for (let c = 0; c < 3; c++) {
    const top = data[(y0 * width + x0) * 3 + c]! * (1 - fx) + data[(y0 * width + x1) * 3 + c]! * fx;
    const bottom = data[(y1 * width + x0) * 3 + c]! * (1 - fx) + data[(y1 * width + x1) * 3 + c]! * fx;
    out[at + c] = Math.round(top * (1 - fy) + bottom * fy);
  }
}

/** numpy's rot90: the top row becomes the left column, read bottom to top. */
function rotateAnticlockwise(image: RgbPixels): RgbPixels {
  const { width, height, data } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const target = ((width - 1 - x) * height + y) * 3;
      const source = (y * width + x) * 3;
      out[target] = data[source]!;
      out[target + 1] = data[source + 1]!;
      out[target + 2] = data[source + 2]!;
    }
  }
  return { width: height, height: width, data: out };
}
