import type { ResizeKernel } from '../../media/image.js';
import type { Candidate } from '../postprocess.js';

/** Both COCO detectors take a square 416x416 NCHW float32 input. */
export const INPUT_SIZE = 416;
export const INPUT_PLANE = INPUT_SIZE * INPUT_SIZE;

/** How a model wants a frame resized before it becomes the input tensor. */
export interface InputResize {
  /** Size of the resized pixels, at most INPUT_SIZE each. */
  width: number;
  height: number;
  kernel: ResizeKernel;
}

export interface ModelAdapter {
  inputName: string;
  outputNames: readonly string[];
  /** The resize this model needs for a frame of the given (oriented) size. */
  resizeFor(frameWidth: number, frameHeight: number): InputResize;
  /** Writes the resized RGB pixels into `tensor` ([1, 3, INPUT_SIZE, INPUT_SIZE], every element). */
  fillTensor(rgb: Uint8Array, resize: InputResize, tensor: Float32Array): void;
  /** Maps the outputs (in `outputNames` order) back to candidates in the frame's pixels. */
  decode(outputs: readonly Float32Array[], frame: { width: number; height: number }, scoreThreshold: number): Candidate[];
}
