import { Worker } from 'node:worker_threads';
import type { DetectorModelName } from '../config/index.js';
import type { Candidate } from './postprocess.js';
import type { ModelSource, SessionDevice, SessionLogger } from './session.js';

export interface SessionThreadData {
  model: ModelSource;
  device: SessionDevice;
  intraOpThreads: number;
}

export interface ThreadReady {
  device: string;
  executionProviders: string[];
  inputNames: string[];
  outputNames: string[];
  /** What openSession would have logged (the CUDA fallback), for the pool to log once. */
  warnings: { obj: object; msg: string }[];
}

export interface RunRequest {
  inputName: string;
  input: Float32Array;
  dims: number[];
  outputNames: readonly string[];
  /** A detector's run: its outputs decoded on the session's thread, and only the candidates sent back. */
  decode?: OutputDecoding;
}

/**
 * What a session's thread needs to decode a detector's outputs. The outputs are new buffers of 1.2–1.6 MB
 * every run; left on the thread that made them, they are collected there, in a heap of a few MB, instead of
 * adding to the worker's main heap the external memory that made it run a full collection about every alarm.
 */
export interface OutputDecoding {
  model: DetectorModelName;
  /** The frame the input was made from: candidates come back in its pixels. */
  frame: { width: number; height: number };
  scoreThreshold: number;
}

export type RunReply = { outputs: Float32Array[]; candidates: Candidate[] | null; input: Float32Array } | { error: string; input: Float32Array };

export interface RunResult {
  /** In the order asked for; none when the run asked for its outputs decoded. */
  outputs: Float32Array[];
  /** The decoded candidates, when the run asked for them (`decode`). */
  candidates: Candidate[] | null;
  /** The input buffer, handed back for reuse. */
  input: Float32Array;
  /** From handing the run to its session's thread to its reply: the run itself, without the wait for a free session. */
  ms: number;
}

export interface SessionPool {
  readonly size: number;
  /** 'cpu' or 'cuda:N': where the sessions run after any fallback. */
  readonly device: string;
  readonly executionProviders: string[];
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs on the first free session; the input's buffer is moved to that thread and comes back in the result. */
  run(request: RunRequest): Promise<RunResult>;
  release(): Promise<void>;
}

interface SessionThread {
  worker: Worker;
  /** The run in progress on it, if any, and when it was handed over (performance.now()). */
  pending: { resolve(result: RunResult): void; reject(error: Error): void; dispatchedAt: number } | null;
}

interface QueuedRun {
  request: RunRequest;
  resolve(result: RunResult): void;
  reject(error: Error): void;
}

/**
 * Worker threads do not inherit tsx's loader on Node 20, so each thread registers it before loading
 * the TypeScript entry (both by absolute URL: an eval'd thread resolves nothing relative to us).
 */
const threadBootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then(({ register }) => { register(); return import(${JSON.stringify(new URL('./session-thread.ts', import.meta.url).href)}); })`;

/**
 * `size` sessions of one model, each on its own worker thread. onnxruntime-node runs a session on the
 * calling thread, so in-process it blocks the event loop for every run; here the event loop stays free
 * for decoding the next frames, and sessions run side by side. On a 2-core CPU, two 1-thread sessions
 * do 40–50 % more runs per second than one 2-thread session (BENCHMARKS.md).
 */
export async function openSessionPool(
  model: ModelSource,
  device: SessionDevice,
  intraOpThreads: number,
  size: number,
  logger: SessionLogger | undefined,
): Promise<SessionPool> {
  const workerData: SessionThreadData = { model, device, intraOpThreads };
  const modelName = typeof model === 'string' ? model : `a model of ${model.byteLength} bytes`;
  const threads: SessionThread[] = [];
  const opening = Array.from({ length: size }, () => {
    const worker = new Worker(threadBootstrap, { eval: true, workerData });
    threads.push({ worker, pending: null });
    return new Promise<ThreadReady>((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`detector session thread exited with code ${code} while opening ${modelName}`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', (ready: ThreadReady) => {
        // Only these two: the Worker keeps listeners of its own (removeAllListeners would stop its messages).
        worker.off('error', reject);
        worker.off('exit', onExit);
        resolve(ready);
      });
    });
  });
  let readies: ThreadReady[];
  try {
    readies = await Promise.all(opening);
  } catch (error) {
    await Promise.all(threads.map(({ worker }) => worker.terminate()));
    throw error;
  }
  const first = readies[0]!;
  // Every thread sees the same machine: one fallback warning says it all.
  for (const { obj, msg } of first.warnings) logger?.warn(obj, msg);

  const queue: QueuedRun[] = [];
  let failure: Error | null = null;
  let released = false;

  const dispatch = (thread: SessionThread) => {
    const next = queue.shift();
    if (!next) return;
    thread.pending = { ...next, dispatchedAt: performance.now() };
    try {
      thread.worker.postMessage(next.request, [next.request.input.buffer as ArrayBuffer]);
    } catch (error) {
      // E.g. an input buffer that was already handed over: this run fails, the thread stays usable.
      thread.pending = null;
      next.reject(error instanceof Error ? error : new Error(String(error)));
      dispatch(thread);
    }
  };

  for (const thread of threads) {
    thread.worker.on('message', (reply: RunReply) => {
      const pending = thread.pending!;
      thread.pending = null;
      if ('error' in reply) pending.reject(new Error(`onnxruntime run failed: ${reply.error}`));
      else pending.resolve({ ...reply, ms: performance.now() - pending.dispatchedAt });
      dispatch(thread);
    });
    const stop = (error: Error) => {
      if (released) return;
      // A thread that died cannot be trusted to come back: fail its run, the queue and every later run.
      failure ??= error;
      thread.pending?.reject(error);
      thread.pending = null;
      for (const queued of queue.splice(0)) queued.reject(error);
    };
    thread.worker.on('error', stop);
    thread.worker.on('exit', (code) => stop(new Error(`detector session thread exited with code ${code}`)));
  }

  return {
    size,
    device: first.device,
    executionProviders: first.executionProviders,
    inputNames: first.inputNames,
    outputNames: first.outputNames,
    run(request) {
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        queue.push({ request, resolve, reject });
        const idle = threads.find((thread) => thread.pending === null);
        if (idle) dispatch(idle);
      });
    },
    async release() {
      released = true;
      await Promise.all(
        threads.map(
          ({ worker }) =>
            new Promise<void>((resolve) => {
              // A thread that already died has nothing left to release.
              if (worker.threadId === -1) return resolve();
              worker.once('exit', () => resolve());
              worker.postMessage('release');
            }),
        ),
      );
    },
  };
}
