/**
 * One onnxruntime session on its own thread (see session-pool.ts). onnxruntime-node runs a session
 * synchronously on the calling thread, so here it blocks only this thread, never the worker's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { detectorAdapters } from './models/index.js';
import { openSession } from './session.js';
import type { RunReply, RunRequest, SessionThreadData, ThreadReady } from './session-pool.js';

const port = parentPort!;
const { model, device, intraOpThreads } = workerData as SessionThreadData;
const warnings: ThreadReady['warnings'] = [];
const opened = await openSession(model, device, intraOpThreads, {
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
    const outputs = request.outputNames.map((name) => results[name]!.data as Float32Array);
    const { decode } = request;
    reply = decode
      ? { outputs: [], candidates: detectorAdapters[decode.model].decode(outputs, decode.frame, decode.scoreThreshold), input: request.input }
      : { outputs, candidates: null, input: request.input };
  } catch (error) {
    reply = { error: error instanceof Error ? error.message : String(error), input: request.input };
  }
  // Moved, not copied: the input goes back to the caller's tensor pool, and outputs not decoded here
  // (1.2–1.6 MB a frame) are the caller's to decode. A Set, in case two outputs ever share one buffer.
  // Should a runtime ever hand out buffers that cannot move, they are copied as before.
  const outputBuffers = 'outputs' in reply ? reply.outputs.map((output) => output.buffer as ArrayBuffer) : [];
  try {
    port.postMessage(reply, [...new Set([reply.input.buffer as ArrayBuffer, ...outputBuffers])]);
  } catch {
    port.postMessage(reply, [reply.input.buffer as ArrayBuffer]);
  }
});

port.postMessage({
  device: opened.device,
  executionProviders: opened.executionProviders,
  inputNames: [...session.inputNames],
  outputNames: [...session.outputNames],
  warnings,
} satisfies ThreadReady);
