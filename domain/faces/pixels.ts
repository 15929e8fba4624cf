/** Plain RGB pixel buffers and bilinear sampling, for face chips and thumbnails. */

export interface RgbPixels {
  width: number;
  height: number;
  /** RGB interleaved, row-major. */
  data: Uint8Array;
}

/** A `width` x `height` image whose pixel (x, y) is the source sampled at `source(x, y)`, the border repeated. */
export function cropRgb(image: RgbPixels, width: number, height: number, source: (x: number, y: number) => [number, number]): RgbPixels {
  const out = new Uint8Array(width * height * 3);
  const { data } = image;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [sx, sy] = source(x, y);
      const cx = Math.min(image.width - 1, Math.max(0, sx));
      const cy = Math.min(image.height - 1, Math.max(0, sy));
      const x0 = Math.floor(cx);
      const y0 = Math.floor(cy);
      const x1 = Math.min(image.width - 1, x0 + 1);
      const y1 = Math.min(image.height - 1, y0 + 1);
      const fx = cx - x0;
      const fy = cy - y0;
      const at = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const top = data[(y0 * image.width + x0) * 3 + c]! * (1 - fx) + data[(y0 * image.width + x1) * 3 + c]! * fx;
        const bottom = data[(y1 * image.width + x0) * 3 + c]! * (1 - fx) + data[(y1 * image.width + x1) * 3 + c]! * fx;
        out[at + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return { width, height, data: out };
}

/**
 * Mean HSV saturation (0–1) of the pixels: grey and infrared faces are near 0, so their colour says
 * nothing and a gender estimate from them is not given.
 */
export function meanSaturation({ data }: RgbPixels): number {
  let sum = 0;
  const pixels = data.length / 3;
  for (let i = 0; i < data.length; i += 3) {
    const max = Math.max(data[i]!, data[i + 1]!, data[i + 2]!);
    const min = Math.min(data[i]!, data[i + 1]!, data[i + 2]!);
    sum += max > 0 ? (max - min) / max : 0;
  }
  return pixels > 0 ? sum / pixels : 0;
}
