import { Worker } from 'node:worker_threads';

export interface DescribeRequest {
  id: number;
  /** `count` chips of `size` x `size` RGB, one after the other. */
  chips: Uint8Array;
  size: number;
  count: number;
}

export interface FaceEstimate {
  /** Years. */
  age: number;
  gender: 'male' | 'female';
  /** The probability of `gender` (FaceRes's sigmoid or one minus it), 0.5–1. */
  genderProbability: number;
}

export type DescribeReply =
  | { id: number; descriptors: Float32Array; estimates: FaceEstimate[]; ms: number }
  | { id: number; error: string };

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
  describe(chips: Uint8Array, size: number, count: number): Promise<DescribedFaces>;
  release(): Promise<void>;
}

/** As session-pool.ts: a worker thread registers tsx before loading its TypeScript entry. */
const threadBootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then(({ register }) => { register(); return import(${JSON.stringify(new URL('./face-thread.ts', import.meta.url).href)}); })`;

/** HSE FaceRes (descriptor, age and gender in one network), loaded once on its own thread; requests take turns there. */
export async function openFaceModels(): Promise<FaceModels> {
  const worker = new Worker(threadBootstrap, { eval: true });
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`face model thread exited with code ${code} while loading`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', () => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      resolve();
    });
  });
  const pending = new Map<number, { resolve(result: DescribedFaces): void; reject(error: Error): void }>();
  let nextId = 1;
  let failure: Error | null = null;
  let released = false;
  worker.on('message', (reply: DescribeReply) => {
    const waiting = pending.get(reply.id);
    pending.delete(reply.id);
    if (!waiting) return;
    if ('error' in reply) return waiting.reject(new Error(`face models failed: ${reply.error}`));
    const descriptors = Array.from({ length: reply.descriptors.length / DESCRIPTOR_LENGTH }, (_, i) => reply.descriptors.slice(i * DESCRIPTOR_LENGTH, (i + 1) * DESCRIPTOR_LENGTH));
    waiting.resolve({ descriptors, estimates: reply.estimates, ms: reply.ms });
  });
  const stop = (error: Error) => {
    if (released) return;
    failure ??= error;
    for (const waiting of pending.values()) waiting.reject(error);
    pending.clear();
  };
  worker.on('error', stop);
  worker.on('exit', (code) => stop(new Error(`face model thread exited with code ${code}`)));
  return {
    describe(chips, size, count) {
      if (failure) return Promise.reject(failure);
      if (count === 0) return Promise.resolve({ descriptors: [], estimates: [], ms: 0 });
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, chips, size, count } satisfies DescribeRequest);
      });
    },
    async release() {
      released = true;
      await new Promise<void>((resolve) => {
        if (worker.threadId === -1) return resolve();
        worker.once('exit', () => resolve());
        worker.postMessage('release');
      });
    },
  };
}
