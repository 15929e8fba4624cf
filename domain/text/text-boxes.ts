/**
 * DB (differentiable binarisation) post-processing of a text-detection probability map, as PaddleOCR's
 * `DBPostProcess` does it: the map is binarised, each connected region becomes its minimum-area rectangle,
 * regions whose mean probability inside that rectangle is low are dropped, and the rectangle is grown
 * ("unclipped") by `area * unclipRatio / perimeter` on every side, because the model is trained on shrunk
 * text regions.
 */

export type Point = [number, number];
/** Four corners, clockwise from the top-left one. */
export type Quad = [Point, Point, Point, Point];

export interface TextBoxOptions {
  /** Pixels whose probability is above this belong to text. PaddleOCR: 0.3. */
  threshold: number;
  /** Minimum mean probability inside a region's rectangle. PaddleOCR: 0.6. */
  boxThreshold: number;
  /** PaddleOCR: 1.5. */
  unclipRatio: number;
  /** Regions whose shorter side is under this many map pixels are dropped. PaddleOCR: 3. */
  minSize: number;
  maxCandidates: number;
}

export const defaultTextBoxOptions: TextBoxOptions = { threshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.5, minSize: 3, maxCandidates: 1000 };

export interface TextBox {
  /** In the source image's pixels. */
  quad: Quad;
  score: number;
}

interface RotatedRect {
  cx: number;
  cy: number;
  /** Along `angle`. */
  width: number;
  height: number;
  /** Radians, the direction of `width`. */
  angle: number;
}

/**
 * Boxes of the text regions in a `mapWidth` x `mapHeight` probability map, scaled to a
 * `sourceWidth` x `sourceHeight` image.
 */
export function textBoxes(
  map: Float32Array,
  mapWidth: number,
  mapHeight: number,
  sourceWidth: number,
  sourceHeight: number,
  options: TextBoxOptions = defaultTextBoxOptions,
): TextBox[] {
  const regions = connectedRegions(map, mapWidth, mapHeight, options.threshold);
  const boxes: TextBox[] = [];
  const scaleX = sourceWidth / mapWidth;
  const scaleY = sourceHeight / mapHeight;
  for (const points of regions.slice(0, options.maxCandidates)) {
    const rect = minAreaRect(points);
    if (Math.min(rect.width, rect.height) < options.minSize) continue;
    const score = meanInside(map, mapWidth, mapHeight, corners(rect));
    if (score < options.boxThreshold) continue;
    const grown = unclip(rect, options.unclipRatio);
    if (Math.min(grown.width, grown.height) < options.minSize + 2) continue;
    const quad = orderClockwise(corners(grown)).map(([x, y]) => [
      clamp(Math.round(x * scaleX), 0, sourceWidth),
      clamp(Math.round(y * scaleY), 0, sourceHeight),
    ]) as Quad;
    boxes.push({ quad, score });
  }
  return sortReadingOrder(boxes);
}

/** 4-connected regions of pixels above `threshold`, each as the pixel centres of its members. */
export function connectedRegions(map: Float32Array, width: number, height: number, threshold: number): Point[][] {
  const seen = new Uint8Array(width * height);
  const regions: Point[][] = [];
  const stack: number[] = [];
  for (let start = 0; start < map.length; start++) {
    if (seen[start] || map[start]! <= threshold) continue;
    const points: Point[] = [];
    seen[start] = 1;
    stack.push(start);
    while (stack.length > 0) {
      const index = stack.pop()!;
      const x = index % width;
      const y = (index - x) / width;
      points.push([x, y]);
      const neighbours = [x > 0 ? index - 1 : -1, x < width - 1 ? index + 1 : -1, y > 0 ? index - width : -1, y < height - 1 ? index + width : -1];
      for (const next of neighbours) {
        if (next >= 0 && !seen[next] && map[next]! > threshold) {
          seen[next] = 1;
          stack.push(next);
        }
      }
    }
    regions.push(points);
  }
  return regions;
}

/** Andrew's monotone chain; counter-clockwise in image coordinates' mirror, without repeated points. */
export function convexHull(points: readonly Point[]): Point[] {
  const sorted = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (sorted.length <= 2) return sorted;
  const cross = (o: Point, a: Point, b: Point) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: Point[] = [];
  for (const p of sorted) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (const p of sorted.reverse()) {
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

/** The smallest rectangle around the points (rotating calipers over the hull's edges). */
export function minAreaRect(points: readonly Point[]): RotatedRect {
  const hull = convexHull(points);
  if (hull.length === 1) return { cx: hull[0]![0], cy: hull[0]![1], width: 0, height: 0, angle: 0 };
  let best: RotatedRect | null = null;
  let bestArea = Infinity;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i]!;
    const b = hull[(i + 1) % hull.length]!;
    const angle = Math.atan2(b[1] - a[1], b[0] - a[0]);
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    let minU = Infinity;
    let maxU = -Infinity;
    let minV = Infinity;
    let maxV = -Infinity;
    for (const [x, y] of hull) {
      const u = x * cos + y * sin;
      const v = -x * sin + y * cos;
      minU = Math.min(minU, u);
      maxU = Math.max(maxU, u);
      minV = Math.min(minV, v);
      maxV = Math.max(maxV, v);
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea) {
      bestArea = area;
      const u = (minU + maxU) / 2;
      const v = (minV + maxV) / 2;
      best = { cx: u * cos - v * sin, cy: u * sin + v * cos, width: maxU - minU, height: maxV - minV, angle };
    }
  }
  return best!;
}

/**
 * The polygon offset of a rectangle by d (what pyclipper's round-joined offset gives, up to its
 * rounded corners, whose minimum-area rectangle is this one).
 */
function unclip(rect: RotatedRect, ratio: number): RotatedRect {
  const area = rect.width * rect.height;
  const perimeter = 2 * (rect.width + rect.height);
  const distance = perimeter > 0 ? (area * ratio) / perimeter : 0;
  return { ...rect, width: rect.width + 2 * distance, height: rect.height + 2 * distance };
}

function corners({ cx, cy, width, height, angle }: RotatedRect): Quad {
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const offsets: Point[] = [
    [-width / 2, -height / 2],
    [width / 2, -height / 2],
    [width / 2, height / 2],
    [-width / 2, height / 2],
  ];
  return offsets.map(([u, v]) => [cx + u * cos - v * sin, cy + u * sin + v * cos]) as Quad;
}

/** Top-left, top-right, bottom-right, bottom-left, as PaddleOCR's `get_mini_boxes` orders them. */
export function orderClockwise(quad: Quad): Quad {
  const byX = [...quad].sort((a, b) => a[0] - b[0]);
  const [leftTop, leftBottom] = byX[0]![1] <= byX[1]![1] ? [byX[0]!, byX[1]!] : [byX[1]!, byX[0]!];
  const [rightTop, rightBottom] = byX[2]![1] <= byX[3]![1] ? [byX[2]!, byX[3]!] : [byX[3]!, byX[2]!];
  return [leftTop, rightTop, rightBottom, leftBottom];
}

/** Mean of the map over the pixels inside the (convex) quad. */
function meanInside(map: Float32Array, width: number, height: number, quad: Quad): number {
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  const x0 = clamp(Math.floor(Math.min(...xs)), 0, width - 1);
  const x1 = clamp(Math.ceil(Math.max(...xs)), 0, width - 1);
  const y0 = clamp(Math.floor(Math.min(...ys)), 0, height - 1);
  const y1 = clamp(Math.ceil(Math.max(...ys)), 0, height - 1);
  let sum = 0;
  let count = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (!insideConvex(quad, x, y)) continue;
      sum += map[y * width + x]!;
      count++;
    }
  }
  return count > 0 ? sum / count : 0;
}

function insideConvex(quad: Quad, x: number, y: number): boolean {
  let sign = 0;
  for (let i = 0; i < 4; i++) {
    const [ax, ay] = quad[i]!;
    const [bx, by] = quad[(i + 1) % 4]!;
    const cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
    if (Math.abs(cross) < 1e-9) continue;
    const s = Math.sign(cross);
    if (sign === 0) sign = s;
    else if (s !== sign) return false;
  }
  return true;
}

/** Top to bottom, then left to right for boxes within 10 px of the same line (PaddleOCR's `sorted_boxes`). */
export function sortReadingOrder<T extends { quad: Quad }>(boxes: readonly T[]): T[] {
  const sorted = [...boxes].sort((a, b) => a.quad[0][1] - b.quad[0][1] || a.quad[0][0] - b.quad[0][0]);
  for (let i = 0; i < sorted.length - 1; i++) {
    for (let j = i; j >= 0; j--) {
      const a = sorted[j]!;
      const b = sorted[j + 1]!;
      if (Math.abs(b.quad[0][1] - a.quad[0][1]) < 10 && b.quad[0][0] < a.quad[0][0]) {
        sorted[j] = b;
        sorted[j + 1] = a;
      } else break;
    }
  }
  return sorted;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
