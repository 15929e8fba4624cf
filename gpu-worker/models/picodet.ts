import type { Candidate } from '../postprocess.js';
import { INPUT_PLANE, INPUT_SIZE, type ModelAdapter } from './adapter.js';

// Input layout and output decoding: MODELS.md in the models folder, section 2 (PP-PicoDet-S 416).
const STRIDES = [8, 16, 32, 64] as const;
const CLASSES = 80;
const BINS = 8;
const MEAN = [0.485, 0.456, 0.406] as const;
const STD = [0.229, 0.224, 0.225] as const;

/** Normalised value of every 8-bit sample, per channel: index channel * 256 + value. */
const NORMALISED = Float32Array.from({ length: 3 * 256 }, (_, i) => {
  const channel = Math.floor(i / 256);
  return ((i % 256) / 255 - MEAN[channel]!) / STD[channel]!;
});

export const picodet: ModelAdapter = {
  inputName: 'image',
  outputNames: Array.from({ length: 2 * STRIDES.length }, (_, i) => `save_infer_model/scale_${i}.tmp_1`),
  // Stretched to the square, not letterboxed, with a cubic kernel: what Paddle's reader did in training.
  freeImageSize: false,
  resizeFor: () => ({ width: INPUT_SIZE, height: INPUT_SIZE, kernel: 'cubic', inputWidth: INPUT_SIZE, inputHeight: INPUT_SIZE }),
  fillTensor: normalisedRgb,
  decode: (outputs, frame, scoreThreshold) =>
    decodePicodet(
      outputs.slice(0, STRIDES.length),
      outputs.slice(STRIDES.length),
      frame.width / INPUT_SIZE,
      frame.height / INPUT_SIZE,
      scoreThreshold,
    ),
};

function normalisedRgb(rgb: Uint8Array, _resize: unknown, tensor: Float32Array): void {
  for (let i = 0, src = 0; i < INPUT_PLANE; i++, src += 3) {
    tensor[i] = NORMALISED[rgb[src]!]!;
    tensor[INPUT_PLANE + i] = NORMALISED[256 + rgb[src + 1]!]!;
    tensor[2 * INPUT_PLANE + i] = NORMALISED[512 + rgb[src + 2]!]!;
  }
}

/**
 * Per stride level: `scores[level]` is [N, 80] (sigmoided joint scores), `distributions[level]` is
 * [N, 32] = 4 sides (l, t, r, b) x 8 bins of logits. Anchor centres sit at cell centres (offset 0.5).
 * Each anchor contributes its best class; boxes are stretched back by scaleX/scaleY.
 */
export function decodePicodet(
  scores: readonly Float32Array[],
  distributions: readonly Float32Array[],
  scaleX: number,
  scaleY: number,
  scoreThreshold: number,
): Candidate[] {
  const candidates: Candidate[] = [];
  STRIDES.forEach((stride, level) => {
    const levelScores = scores[level]!;
    const levelDistributions = distributions[level]!;
    const grid = Math.ceil(INPUT_SIZE / stride);
    for (let anchor = 0; anchor < grid * grid; anchor++) {
      const row = anchor * CLASSES;
      let classId = 0;
      let best = levelScores[row]!;
      for (let c = 1; c < CLASSES; c++) {
        const value = levelScores[row + c]!;
        if (value > best) {
          best = value;
          classId = c;
        }
      }
      if (best < scoreThreshold) continue;
      const cx = ((anchor % grid) + 0.5) * stride;
      const cy = (Math.floor(anchor / grid) + 0.5) * stride;
      const base = anchor * 4 * BINS;
      const left = expectedBin(levelDistributions, base) * stride;
      const top = expectedBin(levelDistributions, base + BINS) * stride;
      const right = expectedBin(levelDistributions, base + 2 * BINS) * stride;
      const bottom = expectedBin(levelDistributions, base + 3 * BINS) * stride;
      candidates.push({
        classId,
        score: best,
        box: [(cx - left) * scaleX, (cy - top) * scaleY, (cx + right) * scaleX, (cy + bottom) * scaleY],
      });
    }
  });
  return candidates;
}

/** Σ i·softmax(logits)_i over the BINS logits starting at `offset`. */
function expectedBin(logits: Float32Array, offset: number): number {
  let max = -Infinity;
  for (let i = 0; i < BINS; i++) max = Math.max(max, logits[offset + i]!);
  let sum = 0;
  let weighted = 0;
  for (let i = 0; i < BINS; i++) {
    const p = Math.exp(logits[offset + i]! - max);
    sum += p;
    weighted += i * p;
  }
  return weighted / sum;
}
