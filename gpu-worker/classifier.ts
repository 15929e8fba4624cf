import { access, readFile } from 'node:fs/promises';
import { z } from 'zod';
import { openResizable, resizableRgb, type ResizableImage, type RgbImage } from '../media/image.js';
import { ModelFileMissingError, modelFilePath } from './model-files.js';
import type { SessionDevice, SessionLogger } from './session.js';
import { openSessionPool } from './session-pool.js';

/** The ImageNet classifier's model (see model-manifest.ts). */
export const CLASSIFIER_MODEL = 'mobilenetv2_12_int8_imagenet' as const;

/** MobileNetV2 takes a 224x224 centre crop of the image scaled so its shorter side is 256 (the model zoo's preprocessing). */
const CROP = 224;
const SHORT_SIDE = 256;
const PLANE = CROP * CROP;
const MEAN = [0.485, 0.456, 0.406] as const;
const STD = [0.229, 0.224, 0.225] as const;
const CLASSES = 1000;
const INPUT_NAME = 'input';
const OUTPUT_NAME = 'output';
const DEFAULT_TOP_K = 5;

/** One ImageNet class and its softmax probability. */
export interface ClassLabel {
  /** Index of the class in the model's output (0..999). */
  index: number;
  /** WordNet id, e.g. `n02110063`. */
  synset: string;
  /** First name of the class, e.g. `malamute`. */
  label: string;
  probability: number;
}

/** A group of classes (`imagenet_groups.json`) and the sum of their probabilities. */
export interface GroupProbability {
  group: string;
  probability: number;
}

export interface Classification {
  /** The `topK` most probable classes, most probable first. */
  top: ClassLabel[];
  /** Every group, most probable first. */
  groups: GroupProbability[];
}

export interface ClassifierInfo {
  model: string;
  /** 'cpu' or 'cuda:N': where inference actually runs after any fallback. */
  device: string;
  intraOpThreads: number;
  sessions: number;
  executionProviders: string[];
}

export interface Classifier {
  readonly info: ClassifierInfo;
  /** Encoded image bytes (any format `media/image.ts` decodes) or decoded pixels. */
  classify(image: Uint8Array | RgbImage | ResizableImage, topK?: number): Promise<Classification>;
  release(): Promise<void>;
}

export interface ClassifierOptions {
  modelsDir: string;
  device: SessionDevice;
  /** Per session; 0 = onnxruntime's default. */
  intraOpThreads: number;
  /** Sessions side by side, each on its own thread. Default 1. */
  sessions?: number;
  logger?: SessionLogger;
}

const groupsFileSchema = z.object({
  groups: z.record(z.string(), z.object({ indices: z.array(z.number().int().min(0).max(CLASSES - 1)) })),
});

/** Class names and groups ship with the code: they describe the model's outputs, not a downloadable file. */
const labelsDir = new URL('./models/imagenet/', import.meta.url);

export interface ImagenetLabels {
  synsets: string[];
  labels: string[];
  groups: { name: string; indices: number[] }[];
}

export async function loadImagenetLabels(): Promise<ImagenetLabels> {
  const lines = (await readFile(new URL('imagenet_synset.txt', labelsDir), 'utf8')).split('\n').filter((line) => line.trim() !== '');
  if (lines.length !== CLASSES) throw new Error(`imagenet_synset.txt has ${lines.length} classes, expected ${CLASSES}`);
  const synsets = lines.map((line) => line.slice(0, 9));
  const labels = lines.map((line) => line.slice(10).split(',')[0]!.trim());
  const file = groupsFileSchema.parse(JSON.parse(await readFile(new URL('imagenet_groups.json', labelsDir), 'utf8')));
  const groups = Object.entries(file.groups).map(([name, { indices }]) => ({ name, indices }));
  return { synsets, labels, groups };
}

/** Softmax of the logits (a new array). */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp(logits[i]! - max);
    sum += out[i]!;
  }
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

const round4 = (value: number) => Math.round(value * 10_000) / 10_000;

/** Top classes and group sums of one output row. */
export function interpret(logits: ArrayLike<number>, labels: ImagenetLabels, topK: number): Classification {
  const probabilities = softmax(logits);
  const order = Array.from(probabilities.keys())
    .sort((a, b) => probabilities[b]! - probabilities[a]!)
    .slice(0, topK);
  const top = order.map((index) => ({ index, synset: labels.synsets[index]!, label: labels.labels[index]!, probability: round4(probabilities[index]!) }));
  const groups = labels.groups
    .map(({ name, indices }) => ({ group: name, probability: round4(indices.reduce((sum, i) => sum + probabilities[i]!, 0)) }))
    .sort((a, b) => b.probability - a.probability);
  return { top, groups };
}

/** The size the shorter side scales to SHORT_SIDE at, the other side rounded (the zoo's `resize(256)`). */
export function scaledSize(width: number, height: number): { width: number; height: number } {
  const scale = SHORT_SIDE / Math.min(width, height);
  return width <= height
    ? { width: SHORT_SIDE, height: Math.max(SHORT_SIDE, Math.round(height * scale)) }
    : { width: Math.max(SHORT_SIDE, Math.round(width * scale)), height: SHORT_SIDE };
}

/** Centre crop of the scaled RGB pixels, normalised into planar RGB. */
function fillTensor(rgb: Uint8Array, width: number, height: number, tensor: Float32Array): void {
  const left = Math.floor(width / 2) - CROP / 2;
  const top = Math.floor(height / 2) - CROP / 2;
  for (let y = 0; y < CROP; y++) {
    let src = ((top + y) * width + left) * 3;
    const row = y * CROP;
    for (let x = 0; x < CROP; x++, src += 3) {
      for (let c = 0; c < 3; c++) tensor[c * PLANE + row + x] = (rgb[src + c]! / 255 - MEAN[c]!) / STD[c]!;
    }
  }
}

async function resizableOf(image: Uint8Array | RgbImage | ResizableImage): Promise<ResizableImage> {
  if (image instanceof Uint8Array) return openResizable(image);
  if ('resize' in image) return image;
  return resizableRgb(image);
}

/** Opens the ImageNet classifier's sessions (CUDA when asked and available, else CPU, as the detectors). */
export async function createClassifier(opts: ClassifierOptions): Promise<Classifier> {
  const modelPath = modelFilePath(opts.modelsDir, CLASSIFIER_MODEL);
  try {
    await access(modelPath);
  } catch {
    throw new ModelFileMissingError(modelPath, CLASSIFIER_MODEL);
  }
  const labels = await loadImagenetLabels();
  const sessions = opts.sessions ?? 1;
  const pool = await openSessionPool(modelPath, opts.device, opts.intraOpThreads, sessions, opts.logger);
  if (!pool.inputNames.includes(INPUT_NAME) || !pool.outputNames.includes(OUTPUT_NAME)) {
    await pool.release();
    throw new Error(`${modelPath} is not the expected ${CLASSIFIER_MODEL} graph: no tensors named ${INPUT_NAME} and ${OUTPUT_NAME}`);
  }
  const info: ClassifierInfo = {
    model: CLASSIFIER_MODEL,
    device: pool.device,
    intraOpThreads: opts.intraOpThreads,
    sessions,
    executionProviders: pool.executionProviders,
  };
  opts.logger?.info({ ...info, modelPath }, 'classifier ready');

  return {
    info,
    async classify(image, topK = DEFAULT_TOP_K) {
      const source = await resizableOf(image);
      const size = scaledSize(source.width, source.height);
      const rgb = await source.resize(size.width, size.height, 'linear');
      const tensor = new Float32Array(3 * PLANE);
      fillTensor(rgb, size.width, size.height, tensor);
      const { outputs } = await pool.run({ inputName: INPUT_NAME, input: tensor, dims: [1, 3, CROP, CROP], outputNames: [OUTPUT_NAME] });
      return interpret(outputs[0]!, labels, topK);
    },
    release: () => pool.release(),
  };
}
