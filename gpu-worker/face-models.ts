import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { SessionDevice, SessionLogger } from './session.js';
import { openSessionPool } from './session-pool.js';
import { convertTfjsGraph, type TfjsGraphModel } from './tfjs-to-onnx.js';

export interface FaceEstimate {
  /** Years. */
  age: number;
  gender: 'male' | 'female';
  /** The probability of `gender` (FaceRes's sigmoid or one minus it), 0.5–1. */
  genderProbability: number;
}

/** HSE FaceRes's descriptor: 1024 values of unit length. */
export const DESCRIPTOR_LENGTH = 1024;

export interface DescribedFaces {
  /** DESCRIPTOR_LENGTH values per chip. */
  descriptors: Float32Array[];
  /** Age and gender, one per chip. */
  estimates: FaceEstimate[];
  /** Time in the model, for the whole batch. */
  ms: number;
}

export interface FaceModels {
  /** 'cpu' or 'cuda:N': where FaceRes runs after any fallback. */
  readonly device: string;
  /** `count` chips of `size` x `size` RGB, one after the other. */
  describe(chips: Uint8Array, size: number, count: number): Promise<DescribedFaces>;
  release(): Promise<void>;
}

export interface FaceModelsOptions {
  device: SessionDevice;
  intraOpThreads: number;
  logger?: SessionLogger;
}

/** The descriptor (global pooling, 1024 values), age (softmax over 0–99 years), gender (sigmoid, 1 = male). */
const OUTPUTS = ['global_pooling/Mean', 'age_pred/Softmax', 'gender_pred/Sigmoid'];
const AGE_CLASSES = 100;
/** Keras' caffe preprocessing, which FaceRes was trained with: BGR minus the VGG means. */
const VGG_MEAN_BGR = [103.939, 116.779, 123.68] as const;

/** FaceRes as the package ships it: a TensorFlow.js graph (faceres.json) and its float16 weights. */
async function readFaceRes(): Promise<TfjsGraphModel> {
  const require = createRequire(import.meta.url);
  // The package exports only its bundles (dist/); its models folder sits beside that.
  const modelsDir = path.join(path.dirname(require.resolve('@vladmandic/human')), '..', 'models');
  const json = JSON.parse(await readFile(path.join(modelsDir, 'faceres.json'), 'utf8')) as {
    modelTopology: { node: TfjsGraphModel['nodes'] };
    weightsManifest: { paths: string[]; weights: TfjsGraphModel['weightSpecs'] }[];
  };
  const files = await Promise.all(json.weightsManifest.flatMap((group) => group.paths).map((file) => readFile(path.join(modelsDir, file))));
  return { nodes: json.modelTopology.node, weightSpecs: json.weightsManifest.flatMap((group) => group.weights), weightData: new Uint8Array(Buffer.concat(files)) };
}

/** NCHW float input: BGR minus the VGG means, as FaceRes was trained. */
function faceResInput(chips: Uint8Array, size: number, count: number): Float32Array {
  const plane = size * size;
  const input = new Float32Array(count * 3 * plane);
  for (let chip = 0; chip < count; chip++) {
    const base = chip * 3 * plane;
    for (let i = 0; i < plane; i++) {
      const pixel = (chip * plane + i) * 3;
      input[base + i] = chips[pixel + 2]! - VGG_MEAN_BGR[0];
      input[base + plane + i] = chips[pixel + 1]! - VGG_MEAN_BGR[1];
      input[base + 2 * plane + i] = chips[pixel]! - VGG_MEAN_BGR[2];
    }
  }
  return input;
}

/**
 * HSE FaceRes (descriptor, age and gender in one network), converted from the package's TensorFlow.js graph to
 * ONNX once per process and run in an onnxruntime session on its own thread, like the detectors.
 */
export async function openFaceModels(options: FaceModelsOptions): Promise<FaceModels> {
  const { onnx, conversion } = convertTfjsGraph(await readFaceRes(), OUTPUTS);
  const pool = await openSessionPool(onnx, options.device, options.intraOpThreads, 1, options.logger);
  return {
    device: pool.device,
    async describe(chips, size, count) {
      if (count === 0) return { descriptors: [], estimates: [], ms: 0 };
      const { outputs, ms } = await pool.run({ inputName: conversion.inputName, input: faceResInput(chips, size, count), dims: [count, 3, size, size], outputNames: OUTPUTS });
      const [raw, ages, males] = outputs as [Float32Array, Float32Array, Float32Array];
      const descriptors: Float32Array[] = [];
      const estimates: FaceEstimate[] = [];
      for (let i = 0; i < count; i++) {
        // Unit length: Euclidean distance then orders pairs as cosine similarity does.
        const descriptor = raw.slice(i * DESCRIPTOR_LENGTH, (i + 1) * DESCRIPTOR_LENGTH);
        const norm = Math.hypot(...descriptor) || 1;
        descriptors.push(descriptor.map((value) => value / norm));
        // Age: the expectation over the one-year classes.
        const age = ages.subarray(i * AGE_CLASSES, (i + 1) * AGE_CLASSES).reduce((sum, p, years) => sum + p * years, 0);
        const male = males[i]!;
        estimates.push({ age, gender: male >= 0.5 ? 'male' : 'female', genderProbability: Math.max(male, 1 - male) });
      }
      return { descriptors, estimates, ms };
    },
    release: () => pool.release(),
  };
}
