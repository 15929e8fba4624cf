import { access, readFile } from 'node:fs/promises';
import type { Config, DetectorModelName } from '../config/index.js';
import type { Detection } from '../domain/types.js';
import { resizableRgb, type ResizableImage, type RgbImage } from '../media/image.js';
import { ModelFileMissingError, modelFilePath } from './model-files.js';
import type { InputResize } from './models/adapter.js';
import { cocoClassNames } from './models/coco-classes.js';
import { detectorAdapters } from './models/index.js';
import { detectorGraph } from './onnx-proto.js';
import { toDetections } from './postprocess.js';
import { isPseudoColour, toLuminance } from './pseudo-colour.js';
import type { SessionDevice, SessionLogger } from './session.js';
import { openSessionPool } from './session-pool.js';

/** The models config names; each must have an adapter below. */
export type DetectorModel = DetectorModelName;

export interface DetectorOptions {
  modelsDir: string;
  model: DetectorModel;
  device: SessionDevice;
  /** Per session; 0 = onnxruntime's default. */
  intraOpThreads: number;
  /** Sessions running side by side, each on its own thread. Default 1. */
  sessions?: number;
  /** Minimum score for persons and vehicles; weapons need at least WEAPON_MIN_SCORE. Default 0.25. */
  scoreThreshold?: number;
  /** Turn pseudo-colour (thermal palette) frames into luminance before the model sees them. Default true. */
  paletteToLuminance?: boolean;
  /**
   * Called with each frame's inference time, from its hand-over to a session's thread to its boxes
   * decoded: the wait for a free session is left out.
   */
  onInference?: (ms: number, detector: DetectorInfo) => void;
  logger?: SessionLogger;
}

export interface DetectorInfo {
  model: string;
  /** 'cpu' or 'cuda:N': where inference actually runs after any fallback. */
  device: string;
  intraOpThreads: number;
  sessions: number;
  executionProviders: string[];
}

/** A frame ready for the model. */
export interface PreparedFrame {
  /** Oriented size of the frame: boxes come back in these pixels. */
  width: number;
  height: number;
  /** The frame was pseudo-colour and reached the model as luminance. */
  pseudoColour: boolean;
  /** NCHW, `dims` ([1, 3, height, width] of the model's input for this frame). */
  tensor: Float32Array;
  dims: [number, number, number, number];
}

export interface Detector {
  readonly info: DetectorInfo;
  readonly inputName: string;
  /**
   * Resizes the frame for this model and fills its input tensor. The resize runs on libvips threads,
   * so a prepare started before an `infer` overlaps it. `pseudoColour`: the decision an earlier pass made
   * on the same frame, so each frame is judged once; without it, judged on this model's resized input.
   */
  prepare(frame: ResizableImage, pseudoColour?: boolean): Promise<PreparedFrame>;
  /**
   * Runs the model on a free session (on its own thread) and decodes the boxes. Consumes the frame: its
   * tensor goes back to a pool for a later `prepare`.
   */
  infer(frame: PreparedFrame): Promise<Detection[]>;
  /** `prepare` then `infer` for decoded pixels. */
  detect(image: RgbImage): Promise<Detection[]>;
  /**
   * Like `infer`, for tagging: every COCO class (not only persons, vehicles and weapons), each with its best
   * score at or above `minScore`, best first. Consumes the frame as `infer` does.
   */
  classScores(frame: PreparedFrame, minScore: number): Promise<{ label: string; score: number }[]>;
  release(): Promise<void>;
}

const DEFAULT_SCORE_THRESHOLD = 0.25;
/** Enough for every session busy and a frame or two prepared ahead, for a few events at once. */
const MAX_SPARE_TENSORS = 8;

/** A detector of `model` as the configuration sets every detector up; a process adds its own hooks. */
export function configuredDetectorOptions(settings: Config['detector'], model: DetectorModelName): DetectorOptions {
  const { modelsDir, device, intraOpThreads, sessions, paletteToLuminance } = settings;
  return { modelsDir, model, device, intraOpThreads, sessions, paletteToLuminance };
}

/** What a session of `model` opens: its file's graph as `detectorGraph` rewrites it for the model's adapter. */
export async function detectorModelSource(modelsDir: string, model: DetectorModel): Promise<Uint8Array> {
  const modelPath = modelFilePath(modelsDir, model);
  try {
    await access(modelPath);
  } catch {
    throw new ModelFileMissingError(modelPath, model);
  }
  const { inputName, freeImageSize } = detectorAdapters[model];
  return detectorGraph(await readFile(modelPath), { inputName, freeImageSize });
}

export async function createDetector(opts: DetectorOptions): Promise<Detector> {
  const adapter = detectorAdapters[opts.model];
  const modelPath = modelFilePath(opts.modelsDir, opts.model);
  const sessions = opts.sessions ?? 1;
  const pool = await openSessionPool(await detectorModelSource(opts.modelsDir, opts.model), opts.device, opts.intraOpThreads, sessions, opts.logger);
  const missing = [adapter.inputName, ...adapter.outputNames].filter(
    (name) => !pool.inputNames.includes(name) && !pool.outputNames.includes(name),
  );
  if (missing.length > 0) {
    await pool.release();
    throw new Error(`${modelPath} is not the expected ${opts.model} graph: no tensor named ${missing.join(', ')}`);
  }

  const scoreThreshold = opts.scoreThreshold ?? DEFAULT_SCORE_THRESHOLD;
  const paletteToLuminance = opts.paletteToLuminance ?? true;
  const info: DetectorInfo = {
    model: opts.model,
    device: pool.device,
    intraOpThreads: opts.intraOpThreads,
    sessions,
    executionProviders: pool.executionProviders,
  };
  opts.logger?.info({ ...info, modelPath, scoreThreshold, paletteToLuminance }, 'detector ready');

  // Input tensors are up to 2 MB each: reused rather than allocated and zeroed for every frame (one size per aspect ratio).
  const spareTensors: Float32Array[] = [];
  const tensorOf = (length: number) => {
    const spare = spareTensors.findIndex((tensor) => tensor.length === length);
    return spare >= 0 ? spareTensors.splice(spare, 1)[0]! : new Float32Array(length);
  };

  async function prepare(frame: ResizableImage, knownPseudoColour?: boolean): Promise<PreparedFrame> {
    const resize: InputResize = adapter.resizeFor(frame.width, frame.height);
    const rgb = await frame.resize(resize.width, resize.height, resize.kernel);
    const pseudoColour = paletteToLuminance && (knownPseudoColour ?? isPseudoColour(rgb));
    if (pseudoColour) toLuminance(rgb);
    const tensor = tensorOf(3 * resize.inputHeight * resize.inputWidth);
    adapter.fillTensor(rgb, resize, tensor);
    return { width: frame.width, height: frame.height, pseudoColour, tensor, dims: [1, 3, resize.inputHeight, resize.inputWidth] };
  }

  /** The model's candidates at or above `minScore`, decoded on the session's thread (session-pool.ts says why). */
  async function run(frame: PreparedFrame, minScore: number) {
    const result = await pool.run({
      inputName: adapter.inputName,
      input: frame.tensor,
      dims: frame.dims,
      outputNames: adapter.outputNames,
      decode: { model: opts.model, frame: { width: frame.width, height: frame.height }, scoreThreshold: minScore },
    });
    // The oldest spare goes first: sizes no longer asked for (another camera's aspect ratio) do not stay.
    spareTensors.push(result.input);
    if (spareTensors.length > MAX_SPARE_TENSORS) spareTensors.shift();
    return { candidates: result.candidates!, ms: result.ms };
  }

  async function infer(frame: PreparedFrame): Promise<Detection[]> {
    const { candidates, ms } = await run(frame, scoreThreshold);
    opts.onInference?.(ms, info);
    return toDetections(candidates, scoreThreshold, frame.width, frame.height);
  }

  return {
    info,
    inputName: adapter.inputName,
    prepare,
    infer,
    detect: async (image) => infer(await prepare(resizableRgb(image))),
    async classScores(frame, minScore) {
      const { candidates } = await run(frame, minScore);
      const best = new Map<number, number>();
      for (const { classId, score } of candidates) {
        if (score >= minScore && score > (best.get(classId) ?? 0)) best.set(classId, score);
      }
      return [...best]
        .map(([classId, score]) => ({ label: cocoClassNames[classId] ?? `class ${classId}`, score: Math.round(score * 1000) / 1000 }))
        .sort((a, b) => b.score - a.score);
    },
    release: () => pool.release(),
  };
}
