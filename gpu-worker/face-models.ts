import { Worker } from 'node:worker_threads';

export interface DescribeRequest {
  id: number;
  /** `count` chips of `size` x `size` RGB, one after the other. */
  chips: Uint8Array;
  size: number;
  count: number;
  /** Also the age and gender network (not needed for allowlist photos). */
  ageGender: boolean;
}

export interface FaceEstimate {
  age: number;
  gender: 'male' | 'female';
  genderProbability: number;
}

export type DescribeReply =
  | { id: number; descriptors: Float32Array; estimates: FaceEstimate[] | null; descriptorMs: number; ageGenderMs: number }
  | { id: number; error: string };

export interface DescribedFaces {
  /** 128 values per chip (the dlib ResNet descriptor). */
  descriptors: Float32Array[];
  /** One per chip; null when not asked for. */
  estimates: FaceEstimate[] | null;
  /** Time in the two models, for the whole batch. */
  descriptorMs: number;
  ageGenderMs: number;
}

export interface FaceModels {
  describe(chips: Uint8Array, size: number, count: number, options: { ageGender: boolean }): Promise<DescribedFaces>;
  release(): Promise<void>;
}

/** As session-pool.ts: a worker thread registers tsx before loading its TypeScript entry. */
const threadBootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then(({ register }) => { register(); return import(${JSON.stringify(new URL('./face-thread.ts', import.meta.url).href)}); })`;

/** face-api's descriptor and age/gender networks, loaded once on their own thread; requests take turns there. */
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
    const descriptors = Array.from({ length: reply.descriptors.length / 128 }, (_, i) => reply.descriptors.slice(i * 128, (i + 1) * 128));
    waiting.resolve({ descriptors, estimates: reply.estimates, descriptorMs: reply.descriptorMs, ageGenderMs: reply.ageGenderMs });
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
    describe(chips, size, count, { ageGender }) {
      if (failure) return Promise.reject(failure);
      if (count === 0) return Promise.resolve({ descriptors: [], estimates: ageGender ? [] : null, descriptorMs: 0, ageGenderMs: 0 });
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, chips, size, count, ageGender } satisfies DescribeRequest);
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
