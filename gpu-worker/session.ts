import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { DetectorDevice } from '../config/index.js';

export type SessionDevice = DetectorDevice;

/** A model file's path, or a model's bytes (one converted in memory, as FaceRes). */
export type ModelSource = string | Uint8Array;

export interface SessionLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface OpenedSession {
  session: ort.InferenceSession;
  /** 'cpu' or 'cuda:N': where the session actually runs. */
  device: string;
  executionProviders: string[];
}

// onnxruntime-node ships only the CPU provider; the CUDA one must be dropped next to its binding.
const cudaProviderLibraries = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];

/** Opens the model on the requested device, falling back to CPU (with one warning) when CUDA cannot be used. */
export async function openSession(
  model: ModelSource,
  device: SessionDevice,
  intraOpThreads: number,
  logger: SessionLogger | undefined,
): Promise<OpenedSession> {
  const options: ort.InferenceSession.SessionOptions = {
    // Warnings are noise here: PicoDet's file alone logs ~200 "initializer appears in graph inputs" lines (the
    // detectors open their graphs without them, gpu-worker/onnx-proto.ts; the classifier and tests open files as they are).
    logSeverityLevel: 3,
    // Spinning ORT threads keep the cores busy after each run and slow down the sharp resize of the next frame.
    extra: { session: { intra_op: { allow_spinning: '0' } } },
    ...(intraOpThreads > 0 ? { intraOpNumThreads: intraOpThreads } : {}),
  };
  if (device.kind === 'cuda') {
    const requested = `cuda:${device.deviceId}`;
    const missing = missingCudaLibraries();
    let reason = `missing ${missing.join(', ')} in ${bindingDir()}`;
    if (missing.length === 0) {
      try {
        const session = await createSession(model, {
          ...options,
          executionProviders: [{ name: 'cuda', deviceId: device.deviceId }, 'cpu'],
        });
        return { session, device: requested, executionProviders: ['cuda', 'cpu'] };
      } catch (err) {
        reason = err instanceof Error ? err.message : String(err);
      }
    }
    logger?.warn({ requestedDevice: requested, reason }, 'CUDA execution provider unavailable, running the detector on CPU');
  }
  const session = await createSession(model, { ...options, executionProviders: ['cpu'] });
  return { session, device: 'cpu', executionProviders: ['cpu'] };
}

// Two overloads, one per kind of source: a union matches neither.
const createSession = (model: ModelSource, options: ort.InferenceSession.SessionOptions) =>
  typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);

function bindingDir(): string {
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  return path.resolve(path.dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

/**
 * Checked up front because a failed CUDA attempt makes onnxruntime print its own error to stderr.
 * Off Linux, or when the package layout is not the known one, nothing is reported missing and creation is simply tried.
 */
function missingCudaLibraries(): string[] {
  const dir = bindingDir();
  if (process.platform !== 'linux' || !existsSync(path.join(dir, 'onnxruntime_binding.node'))) return [];
  return cudaProviderLibraries.filter((name) => !existsSync(path.join(dir, name)));
}
