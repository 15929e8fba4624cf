/**
 * Face alignment for the face descriptor (HSE FaceRes): the five landmarks YuNet gives (eyes, nose tip,
 * mouth corners) are mapped by a similarity transform (rotation, uniform scale, shift; least squares) onto
 * dlib's face-chip geometry at padding 0.4, and the face is resampled into that 144 x 144 chip.
 */
import { cropRgb, type RgbPixels } from './pixels.js';

export type Landmark = [number, number];

/**
 * dlib's mean face shape (`get_face_chip_details`, size 150, padding 0.25) at the five points: the
 * subject's right eye centre, left eye centre, nose tip, right and left mouth corners, in chip pixels.
 */
const DLIB_150_LANDMARKS: readonly Landmark[] = [
  [47.55, 46.6],
  [100.48, 46.6],
  [74.01, 76.56],
  [50.41, 103.02],
  [97.61, 103.02],
];

/** dlib's chip points at another size and padding (dlib puts its mean face in [p, 1 + p] / (1 + 2p) of the chip). */
export function chipLandmarks(size: number, padding: number): Landmark[] {
  return DLIB_150_LANDMARKS.map(([x, y]) => {
    const [u, v] = [(x / 150) * 1.5 - 0.25, (y / 150) * 1.5 - 0.25];
    return [((u + padding) / (1 + 2 * padding)) * size, ((v + padding) / (1 + 2 * padding)) * size];
  });
}

/**
 * FaceRes's chip: 144 px with padding 0.4, chosen among 14 crops on the labelled face fixtures
 * (BENCHMARKS.md "Other face embedders"): as good as 224 px there at the CPU cost of dlib's descriptor.
 */
export const CHIP_SIZE = 144;
export const CHIP_LANDMARKS: readonly Landmark[] = chipLandmarks(CHIP_SIZE, 0.4);

/** x' = a x - b y + tx, y' = b x + a y + ty. */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/** The least-squares similarity taking `from` onto `to` (Umeyama, without reflection). */
export function similarityTransform(from: readonly Landmark[], to: readonly Landmark[]): Similarity {
  const n = from.length;
  const mean = (points: readonly Landmark[]) => points.reduce<Landmark>((acc, [x, y]) => [acc[0] + x / n, acc[1] + y / n], [0, 0]);
  const [fx, fy] = mean(from);
  const [tx, ty] = mean(to);
  let dot = 0;
  let cross = 0;
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const ux = from[i]![0] - fx;
    const uy = from[i]![1] - fy;
    const vx = to[i]![0] - tx;
    const vy = to[i]![1] - ty;
    dot += ux * vx + uy * vy;
    cross += ux * vy - uy * vx;
    norm += ux * ux + uy * uy;
  }
  const a = norm > 0 ? dot / norm : 1;
  const b = norm > 0 ? cross / norm : 0;
  return { a, b, tx: tx - (a * fx - b * fy), ty: ty - (b * fx + a * fy) };
}

/** The face's CHIP_SIZE x CHIP_SIZE chip: each chip pixel sampled (bilinearly) from where the inverse transform puts it. */
export function alignedChip(image: RgbPixels, landmarks: readonly Landmark[]): RgbPixels {
  const { a, b, tx, ty } = similarityTransform(landmarks, CHIP_LANDMARKS);
  const det = a * a + b * b;
  // Inverse of [[a, -b], [b, a]] is [[a, b], [-b, a]] / det.
  const inverse = (x: number, y: number): Landmark => {
    const dx = x - tx;
    const dy = y - ty;
    return [(a * dx + b * dy) / det, (-b * dx + a * dy) / det];
  };
  return cropRgb(image, CHIP_SIZE, CHIP_SIZE, inverse);
}
