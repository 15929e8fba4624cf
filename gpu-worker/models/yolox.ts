import type { Candidate } from '../postprocess.js';
import { INPUT_PLANE, INPUT_SIZE, type ModelAdapter } from './adapter.js';

// Input layout and output decoding: MODELS.md in the models folder, section 1 (YOLOX-Nano).
const STRIDES = [8, 16, 32] as const;
const CLASSES = 80;
const ROW = 5 + CLASSES;
const PAD = 114;

export const yolox: ModelAdapter = {
  inputName: 'images',
  outputNames: ['output'],
  resizeFor(frameWidth, frameHeight) {
    const scale = letterboxScale(frameWidth, frameHeight);
    // Clamped to at least 1 px so extreme aspect ratios (e.g. 4096x1) still resize.
    return {
      width: Math.max(1, Math.min(INPUT_SIZE, Math.round(frameWidth * scale))),
      height: Math.max(1, Math.min(INPUT_SIZE, Math.round(frameHeight * scale))),
      // Bilinear, like the reference export's preprocessing.
      kernel: 'linear',
    };
  },
  fillTensor: letterboxBgr,
  decode: (outputs, frame, scoreThreshold) =>
    decodeYolox(outputs[0]!, letterboxScale(frame.width, frame.height), scoreThreshold),
};

function letterboxScale(frameWidth: number, frameHeight: number): number {
  return Math.min(INPUT_SIZE / frameHeight, INPUT_SIZE / frameWidth);
}

/** Pastes the resized RGB pixels top-left on a 114-grey canvas as BGR planes, raw 0..255. */
function letterboxBgr(rgb: Uint8Array, { width, height }: { width: number; height: number }, tensor: Float32Array): void {
  for (let y = 0; y < height; y++) {
    let src = y * width * 3;
    const row = y * INPUT_SIZE;
    for (let dst = row; dst < row + width; src += 3, dst++) {
      tensor[dst] = rgb[src + 2]!;
      tensor[INPUT_PLANE + dst] = rgb[src + 1]!;
      tensor[2 * INPUT_PLANE + dst] = rgb[src]!;
    }
    if (width < INPUT_SIZE) {
      for (let plane = 0; plane < 3; plane++) tensor.fill(PAD, plane * INPUT_PLANE + row + width, plane * INPUT_PLANE + row + INPUT_SIZE);
    }
  }
  if (height < INPUT_SIZE) {
    for (let plane = 0; plane < 3; plane++) tensor.fill(PAD, plane * INPUT_PLANE + height * INPUT_SIZE, (plane + 1) * INPUT_PLANE);
  }
}

/**
 * `output` is [3549, 85] rows of [tx, ty, tw, th, obj, cls0..cls79] with obj and cls already sigmoided.
 * Each anchor contributes its best class; boxes are divided by the letterbox scale.
 */
export function decodeYolox(output: Float32Array, scale: number, scoreThreshold: number): Candidate[] {
  const candidates: Candidate[] = [];
  let row = 0;
  for (const stride of STRIDES) {
    const grid = INPUT_SIZE / stride;
    for (let gy = 0; gy < grid; gy++) {
      for (let gx = 0; gx < grid; gx++, row += ROW) {
        const objectness = output[row + 4]!;
        if (objectness < scoreThreshold) continue;
        let classId = 0;
        let best = output[row + 5]!;
        for (let c = 1; c < CLASSES; c++) {
          const value = output[row + 5 + c]!;
          if (value > best) {
            best = value;
            classId = c;
          }
        }
        const score = objectness * best;
        if (score < scoreThreshold) continue;
        const cx = (output[row]! + gx) * stride;
        const cy = (output[row + 1]! + gy) * stride;
        const halfW = (Math.exp(output[row + 2]!) * stride) / 2;
        const halfH = (Math.exp(output[row + 3]!) * stride) / 2;
        candidates.push({
          classId,
          score,
          box: [(cx - halfW) / scale, (cy - halfH) / scale, (cx + halfW) / scale, (cy + halfH) / scale],
        });
      }
    }
  }
  return candidates;
}
