/**
 * One onnxruntime session on its own thread (see session-pool.ts). onnxruntime-node runs a session
 * synchronously on the calling thread, so here it blocks only this thread, never the worker's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { openSession } from './session.js';
import type { RunReply, RunRequest, SessionThreadData, ThreadReady } from './session-pool.js';

const port = parentPort!;
const { modelPath, device, intraOpThreads } = workerData as SessionThreadData;
const warnings: ThreadReady['warnings'] = [];
const opened = await openSession(modelPath, device, intraOpThreads, {
  info: () => undefined,
  warn: (obj, msg) => warnings.push({ obj, msg }),
});
const { session } = opened;

port.on('message', async (request: RunRequest | 'release') => {
  if (request === 'release') {
    await session.release();
    port.close();
    return;
  }
  let reply: RunReply;
  try {
    const results = await session.run({ [request.inputName]: new ort.Tensor('float32', request.input, request.dims) });
    reply = { outputs: request.outputNames.map((name) => results[name]!.data as Float32Array), input: request.input };
  } catch (error) {
    reply = { error: error instanceof Error ? error.message : String(error), input: request.input };
  }
  // The input goes back to the caller's tensor pool; outputs are copied (they are small).
  port.postMessage(reply, [reply.input.buffer as ArrayBuffer]);
});

port.postMessage({
  device: opened.device,
  executionProviders: opened.executionProviders,
  inputNames: [...session.inputNames],
  outputNames: [...session.outputNames],
  warnings,
} satisfies ThreadReady);
