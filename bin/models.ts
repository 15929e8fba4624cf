import { ConfigError, loadConfig } from '../config/index.js';
import { abortedByInterrupt } from '../downloads/verified-download.js';
import { configuredModels, ensureModelFiles } from '../gpu-worker/model-files.js';
import { modelManifest, modelNames, type ModelName } from '../gpu-worker/model-manifest.js';
import { createLogger } from '../logging/logger.js';

/**
 * `npm run models [-- --all | <model>…]`: makes sure the models a detection worker with this configuration
 * opens (DETECTOR_MODEL, DETECTOR_CASCADE_MODEL), the ones named, or every one Vigil knows are in MODELS_DIR,
 * downloading and checking those that are not (`npm start` does the same for the configured ones).
 */

const usage = [
  'Usage: npm run models [-- --all | <model>…]   (no arguments: the configured DETECTOR_MODEL and DETECTOR_CASCADE_MODEL)',
  'Models:',
  ...modelNames.map((name) => `  ${name}: ${modelManifest[name].what}`),
].join('\n');

const isModelName = (arg: string): arg is ModelName => (modelNames as string[]).includes(arg);

async function main(args: string[]): Promise<number> {
  if (args.includes('--help')) {
    console.log(usage);
    return 0;
  }
  const unknown = args.filter((arg) => arg !== '--all' && !isModelName(arg));
  if (unknown.length > 0) {
    console.error(`Unknown model ${unknown.join(', ')}.\n${usage}`);
    return 2;
  }
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return 1;
  }
  const logger = createLogger(config.logLevel, 'models');
  const named = args.filter(isModelName);
  const models = args.includes('--all') ? modelNames : named.length > 0 ? named : configuredModels(config);
  const { modelsDir } = config.detector;
  try {
    await abortedByInterrupt((signal) => ensureModelFiles(models, { modelsDir, downloads: config.downloads, logger, signal }));
  } catch (error) {
    logger.fatal(error instanceof Error ? error.message : String(error));
    return 1;
  }
  logger.info(`${models.join(', ')}: present and verified in ${modelsDir}`);
  return 0;
}

process.exit(await main(process.argv.slice(2)));
