import type { Candidate } from '../postprocess.js';
import { INPUT_SIZE, type InputResize, type ModelAdapter } from './adapter.js';

// Input layout and output decoding: MODELS.md in the models folder, section 1 (YOLOX-Nano).
const STRIDES = [8, 16, 32] as const;
const LARGEST_STRIDE = 32;
/**
 * Grey kept below or beside a picture shorter than the square: the last cells see the letterbox grey they saw in
 * training, not the convolutions' zero padding. Without it, one far-away person of the evaluation's thermal stills
 * went unseen with the thermal pass off (BENCHMARKS "Detection cut by a fifth").
 */
const MIN_PADDING = LARGEST_STRIDE / 2;
const CLASSES = 80;
const ROW = 5 + CLASSES;
const PAD = 114;

/**
 * Letterboxed as in training (the longer side to 416, pasted top-left on 114 grey), but on a canvas only as large as
 * the frame needs, rounded up to the largest stride: the graph is fully convolutional, so a 16:9 frame runs on
 * 416 x 256 instead of 416 x 416, about 40 % less work for the same pixels (as YOLOv5's "rectangular inference").
 */
export const yolox: ModelAdapter = {
  inputName: 'images',
  outputNames: ['output'],
  freeImageSize: true,
  resizeFor: letterbox,
  fillTensor: letterboxBgr,
  decode: (outputs, frame, scoreThreshold) =>
    decodeYolox(outputs[0]!, { scale: letterboxScale(frame.width, frame.height), ...letterbox(frame.width, frame.height) }, scoreThreshold),
};

function letterbox(frameWidth: number, frameHeight: number): InputResize {
  const scale = letterboxScale(frameWidth, frameHeight);
  // Clamped to at least 1 px so extreme aspect ratios (e.g. 4096x1) still resize.
  const width = Math.max(1, Math.min(INPUT_SIZE, Math.round(frameWidth * scale)));
  const height = Math.max(1, Math.min(INPUT_SIZE, Math.round(frameHeight * scale)));
  const canvas = (side: number) => Math.min(INPUT_SIZE, Math.ceil((side + MIN_PADDING) / LARGEST_STRIDE) * LARGEST_STRIDE);
  // Bilinear, like the reference export's preprocessing.
  return { width, height, kernel: 'linear', inputWidth: canvas(width), inputHeight: canvas(height) };
}

function letterboxScale(frameWidth: number, frameHeight: number): number {
  return Math.min(INPUT_SIZE / frameHeight, INPUT_SIZE / frameWidth);
}

/** Pastes the resized RGB pixels top-left on a 114-grey canvas as BGR planes, raw 0..255. */
function letterboxBgr(rgb: Uint8Array, { width, height, inputWidth, inputHeight }: InputResize, tensor: Float32Array): void {
  const plane = inputWidth * inputHeight;
  for (let y = 0; y < height; y++) {
    let src = y * width * 3;
    const row = y * inputWidth;
    for (let dst = row; dst < row + width; src += 3, dst++) {
      tensor[dst] = rgb[src + 2]!;
      tensor[plane + dst] = rgb[src + 1]!;
      tensor[2 * plane + dst] = rgb[src]!;
    }
    if (width < inputWidth) {
      for (let channel = 0; channel < 3; channel++) tensor.fill(PAD, channel * plane + row + width, channel * plane + row + inputWidth);
    }
  }
  if (height < inputHeight) {
    for (let channel = 0; channel < 3; channel++) tensor.fill(PAD, channel * plane + height * inputWidth, (channel + 1) * plane);
  }
}

/**
 * `output` is one row of [tx, ty, tw, th, obj, cls0..cls79] per cell of each stride's grid over the input
 * (3549 for 416 x 416), obj and cls already sigmoided. Each anchor contributes its best class; boxes are divided
 * by the letterbox scale.
 */
export function decodeYolox(
  output: Float32Array,
  { scale, inputWidth, inputHeight }: { scale: number; inputWidth: number; inputHeight: number },
  scoreThreshold: number,
): Candidate[] {
  const candidates: Candidate[] = [];
  let row = 0;
  for (const stride of STRIDES) {
    for (let gy = 0; gy < inputHeight / stride; gy++) {
      for (let gx = 0; gx < inputWidth / stride; gx++, row += ROW) {
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
