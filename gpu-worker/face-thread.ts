/**
 * The face descriptor and age/gender models (face-api on TensorFlow.js WebAssembly) on their own thread:
 * TensorFlow.js runs its kernels on the calling thread, so here they never hold up the worker's event loop.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import * as faceapi from '@vladmandic/face-api/dist/face-api.node-wasm.js';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { DescribeReply, DescribeRequest } from './face-models.js';

const port = parentPort!;
const require = createRequire(import.meta.url);
// The .wasm files ship in the package; without a path TensorFlow.js would look for them beside the bundle.
setWasmPaths(`${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`);
// face-api's type of its TensorFlow.js leaves out the backend functions the bundle has.
const tf = faceapi.tf as unknown as typeof faceapi.tf & { setBackend(name: string): Promise<boolean>; ready(): Promise<void> };
await tf.setBackend('wasm');
await tf.ready();
const modelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
await Promise.all([faceapi.nets.faceRecognitionNet.loadFromDisk(modelDir), faceapi.nets.ageGenderNet.loadFromDisk(modelDir)]);

port.on('message', async (request: DescribeRequest | 'release') => {
  if (request === 'release') {
    port.close();
    return;
  }
  try {
    const { size, count } = request;
    const chips = Array.from({ length: count }, (_, i) =>
      tf.tensor3d(request.chips.subarray(i * size * size * 3, (i + 1) * size * size * 3), [size, size, 3], 'int32'),
    );
    const started = performance.now();
    const descriptors = count === 1 ? [await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(chips[0]!)] : await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(chips);
    const descriptorMs = performance.now() - started;
    const estimates = request.ageGender ? await faceapi.nets.ageGenderNet.predictAgeAndGender(count === 1 ? chips[0]! : chips) : null;
    const ageGenderMs = performance.now() - started - descriptorMs;
    for (const chip of chips) chip.dispose();
    const flat = new Float32Array(count * 128);
    (descriptors as Float32Array[]).forEach((descriptor, i) => flat.set(descriptor, i * 128));
    const list = estimates === null ? null : Array.isArray(estimates) ? estimates : [estimates];
    const reply: DescribeReply = {
      id: request.id,
      descriptors: flat,
      estimates: list?.map(({ age, gender, genderProbability }) => ({ age, gender: gender === 'female' ? 'female' : 'male', genderProbability })) ?? null,
      descriptorMs,
      ageGenderMs,
    };
    port.postMessage(reply, [flat.buffer]);
  } catch (error) {
    port.postMessage({ id: request.id, error: error instanceof Error ? error.message : String(error) } satisfies DescribeReply);
  }
});

port.postMessage('ready');
