import type { ResizeKernel } from '../../media/image.js';
import type { Candidate } from '../postprocess.js';

/** Both COCO detectors were trained on a square 416x416 NCHW float32 input. */
export const INPUT_SIZE = 416;
export const INPUT_PLANE = INPUT_SIZE * INPUT_SIZE;

/** How a model wants a frame resized before it becomes the input tensor. */
export interface InputResize {
  /** Size of the resized pixels, at most INPUT_SIZE each. */
  width: number;
  height: number;
  kernel: ResizeKernel;
  /** The input tensor's size, [1, 3, inputHeight, inputWidth]: the resized pixels and any padding. */
  inputWidth: number;
  inputHeight: number;
}

export interface ModelAdapter {
  inputName: string;
  outputNames: readonly string[];
  /**
   * Whether the graph runs on any input size its strides divide, though its file declares INPUT_SIZE square: it is
   * then opened with the size set free (`detectorGraph`, gpu-worker/onnx-proto.ts) and `resizeFor` gives each
   * frame an input as small as it allows.
   */
  freeImageSize: boolean;
  /** The resize and input size this model needs for a frame of the given (oriented) size. */
  resizeFor(frameWidth: number, frameHeight: number): InputResize;
  /** Writes the resized RGB pixels into `tensor` ([1, 3, inputHeight, inputWidth], every element). */
  fillTensor(rgb: Uint8Array, resize: InputResize, tensor: Float32Array): void;
  /** Maps the outputs (in `outputNames` order) back to candidates in the frame's pixels. */
  decode(outputs: readonly Float32Array[], frame: { width: number; height: number }, scoreThreshold: number): Candidate[];
}
