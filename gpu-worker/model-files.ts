/** Where a detector model's file is, and the error when it is not there: light enough for the supervisor to check at start. */
import path from 'node:path';
import type { DetectorModelName } from '../config/index.js';

export function modelFilePath(modelsDir: string, model: DetectorModelName): string {
  return path.resolve(modelsDir, `${model}.onnx`);
}

export class ModelFileMissingError extends Error {
  constructor(readonly modelPath: string) {
    super(
      `Detector model file not found: ${modelPath}. Set MODELS_DIR to a folder holding ` +
        `${path.basename(modelPath)} (in this workspace: MODELS_DIR=../shared/models; see MODELS.md there).`,
    );
    this.name = 'ModelFileMissingError';
  }
}
