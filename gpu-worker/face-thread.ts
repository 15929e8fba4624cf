/**
 * The face model, HSE FaceRes (TensorFlow.js graph model shipped in @vladmandic/human, on the WebAssembly
 * backend), on its own thread: TensorFlow.js runs its kernels on the calling thread, so here they never
 * hold up the worker's event loop. One run gives the descriptor, the age and the gender.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { DescribeReply, DescribeRequest, FaceEstimate } from './face-models.js';

const port = parentPort!;
const require = createRequire(import.meta.url);
// The .wasm files ship in the package; without a path TensorFlow.js would look for them beside the bundle.
setWasmPaths(`${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
await tf.setBackend('wasm');
await tf.ready();

/** The descriptor (global pooling, 1024 values), age (softmax over 0–99 years), gender (sigmoid, 1 = male). */
const OUTPUTS = ['global_pooling/Mean', 'age_pred/Softmax', 'gender_pred/Sigmoid'];
/** Keras' caffe preprocessing, which FaceRes was trained with: BGR minus the VGG means. */
const VGG_MEAN_BGR = [103.939, 116.779, 123.68] as const;

/** FaceRes read from the package's files (TensorFlow.js in Node without tfjs-node has no file:// loader). */
async function loadFaceRes(): Promise<tf.GraphModel> {
  // The package exports only its bundles (dist/); its models folder sits beside that.
  const modelsDir = path.join(path.dirname(require.resolve('@vladmandic/human')), '..', 'models');
  const json = JSON.parse(await readFile(path.join(modelsDir, 'faceres.json'), 'utf8')) as {
    modelTopology: { node: { op: string; attr?: { shape?: { shape?: { dim?: { size: string }[] } } } }[] };
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  // The graph fixes its input at 224 x 224; convolutions and a global pooling take any size, and the chip is smaller.
  for (const node of json.modelTopology.node) {
    const dims = node.op === 'Placeholder' ? node.attr?.shape?.shape?.dim : undefined;
    if (dims?.length === 4) [dims[1]!.size, dims[2]!.size] = ['-1', '-1'];
  }
  const weights = await Promise.all(json.weightsManifest.flatMap((group) => group.paths).map((file) => readFile(path.join(modelsDir, file))));
  const weightData = new Uint8Array(Buffer.concat(weights)).buffer;
  return tf.loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((group) => group.weights), weightData }));
}

const model = await loadFaceRes();

function input(chips: Uint8Array, size: number, count: number): tf.Tensor4D {
  const values = new Float32Array(chips.length);
  for (let i = 0; i < chips.length; i += 3) {
    values[i] = chips[i + 2]! - VGG_MEAN_BGR[0];
    values[i + 1] = chips[i + 1]! - VGG_MEAN_BGR[1];
    values[i + 2] = chips[i]! - VGG_MEAN_BGR[2];
  }
  return tf.tensor4d(values, [count, size, size, 3]);
}

port.on('message', (request: DescribeRequest | 'release') => {
  if (request === 'release') {
    port.close();
    return;
  }
  try {
    const { size, count } = request;
    const started = performance.now();
    const x = input(request.chips, size, count);
    const outputs = model.execute(x, OUTPUTS) as tf.Tensor[];
    const [raw, ages, males] = outputs.map((output) => output.dataSync() as Float32Array) as [Float32Array, Float32Array, Float32Array];
    tf.dispose([x, ...outputs]);
    const length = raw.length / count;
    const descriptors = new Float32Array(raw.length);
    const estimates: FaceEstimate[] = [];
    for (let i = 0; i < count; i++) {
      // Unit length: Euclidean distance then orders pairs as cosine similarity does.
      const descriptor = raw.subarray(i * length, (i + 1) * length);
      const norm = Math.hypot(...descriptor) || 1;
      descriptors.set(descriptor.map((value) => value / norm), i * length);
      // Age: the expectation over the 100 one-year classes.
      const age = ages.subarray(i * 100, (i + 1) * 100).reduce((sum, p, years) => sum + p * years, 0);
      const male = males[i]!;
      estimates.push({ age, gender: male >= 0.5 ? 'male' : 'female', genderProbability: Math.max(male, 1 - male) });
    }
    const reply: DescribeReply = { id: request.id, descriptors, estimates, ms: performance.now() - started };
    port.postMessage(reply, [descriptors.buffer]);
  } catch (error) {
    port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) } satisfies DescribeReply);
  }
});

port.postMessage('ready');
