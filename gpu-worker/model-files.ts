/** Where each model's file is, and making sure it is there and exactly the expected file: light enough for the supervisor. */
import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Config, DownloadConfig } from '../config/index.js';
import { DownloadFailedError, downloadUrls, downloadVerified, fileMismatch, megabytes } from '../downloads/verified-download.js';
import type { Logger } from '../logging/logger.js';
import { modelManifest, type ModelName } from './model-manifest.js';

export function modelFilePath(modelsDir: string, model: ModelName): string {
  return path.resolve(modelsDir, modelManifest[model].fileName);
}

/** The models a detection worker with this configuration opens (the ImageNet classifier always). */
export function configuredModels(config: Config): ModelName[] {
  return [config.detector.model, ...(config.detector.cascadeModel ? [config.detector.cascadeModel] : []), 'mobilenetv2_12_int8_imagenet'];
}

/** How to place a model by hand: the folder, the file, its sha256 and where a copy is. */
function byHand(model: ModelName, modelsDir: string): string {
  const { fileName, bytes, sha256, urls } = modelManifest[model];
  return (
    `Place ${fileName} (${bytes} bytes, sha256 ${sha256}) in ${modelsDir} by hand ` +
    `(a copy is at ${urls.join(' or ')}; check it with \`sha256sum ${fileName}\`), ` +
    `or set MODELS_DIR to a folder that holds it.`
  );
}

export class ModelFileMissingError extends Error {
  constructor(
    readonly modelPath: string,
    model: ModelName,
    why = 'run `npm run models` to download it',
  ) {
    super(`Model file not found: ${modelPath}; ${why}. ${byHand(model, path.dirname(modelPath))}`);
    this.name = 'ModelFileMissingError';
  }
}

/** A file in MODELS_DIR that is not the model it is named after: never replaced on its own, it may be someone's. */
export class ModelFileMismatchError extends Error {
  constructor(
    readonly modelPath: string,
    model: ModelName,
    problem: string,
  ) {
    super(`${modelPath} is not the expected ${model} model: ${problem}. Delete it and start again to download it, or: ${byHand(model, path.dirname(modelPath))}`);
    this.name = 'ModelFileMismatchError';
  }
}

export interface EnsureModelFilesOptions {
  modelsDir: string;
  downloads: DownloadConfig;
  logger: Logger;
  signal?: AbortSignal;
}

/**
 * Makes sure each model's file is in `modelsDir` and is exactly the manifest's file: a present file is checked
 * (size and sha256, about 60 ms for the two default detectors on a 2-core machine, so every start checks
 * again rather than trusting a cache), a missing one is downloaded unless downloads are off. Throws
 * ModelFileMissingError or ModelFileMismatchError, whose messages say how to place the file by hand.
 */
export async function ensureModelFiles(models: readonly ModelName[], options: EnsureModelFilesOptions): Promise<void> {
  const { modelsDir, downloads, logger, signal } = options;
  for (const model of new Set(models)) {
    const entry = modelManifest[model];
    const modelPath = modelFilePath(modelsDir, model);
    const present = await access(modelPath).then(
      () => true,
      () => false,
    );
    if (present) {
      const problem = await fileMismatch(modelPath, entry);
      if (problem !== null) throw new ModelFileMismatchError(modelPath, model, problem);
      logger.debug({ model, modelPath }, 'model file verified');
      continue;
    }
    if (downloads.offline) throw new ModelFileMissingError(modelPath, model, 'VIGIL_OFFLINE=true forbids downloading it');
    await mkdir(modelsDir, { recursive: true });
    const urls = downloadUrls(entry.fileName, entry.urls, downloads);
    logger.info(`model ${model} is missing from ${modelsDir}: downloading it (${megabytes(entry.bytes)}; licence ${entry.licence.name}, ${entry.licence.url})`);
    try {
      await downloadVerified(entry, { urls, destination: modelPath, idleTimeoutSeconds: downloads.idleTimeoutSeconds, logger, signal });
    } catch (error) {
      if (!(error instanceof DownloadFailedError)) throw error;
      const tried = error.attempts.map(({ url, problem }) => `${url} (${problem})`).join(', ');
      throw new ModelFileMissingError(modelPath, model, `downloading it failed from ${tried}`);
    }
  }
}
