import { loadConfig } from '../config/index.js';
import { lowerOwnPriority } from '../bin/process-priority.js';
import { createMediaStore } from '../media/create-store.js';
import { createLogger } from '../logging/logger.js';
import { connectNative } from '../temporal/connection.js';
import { installTemporalLogging } from '../temporal/runtime-logging.js';
import { createDetectionWorkerMetrics } from '../observability/metrics.js';
import { serveMetrics } from '../observability/metrics-server.js';
import { abortedByInterrupt } from '../downloads/verified-download.js';
import { createClassifier } from './classifier.js';
import { configuredDetectorOptions, createDetector, type DetectorModel } from './detector.js';
import { configuredEngineOptions, createDetectionEngine } from './engine.js';
import { observeInference } from './metrics.js';
import { configuredModels, ensureModelFiles } from './model-files.js';
import { createDetectionWorker } from './worker.js';
import { createTextReader } from './ocr.js';
import { createFaceAnalyser } from './faces.js';
import { createDatabase } from '../db/database.js';

const config = loadConfig();
const logger = createLogger(config.logLevel, 'gpu-worker');
// First, so every thread the process starts from here on inherits it.
logger.info({ nice: lowerOwnPriority(config.workerNice, logger) }, 'CPU priority');
// Before the Temporal runtime takes over Ctrl-C, so an interrupted download still ends the process.
try {
  await abortedByInterrupt((signal) =>
    ensureModelFiles(configuredModels(config), { modelsDir: config.detector.modelsDir, downloads: config.downloads, logger, signal }),
  );
} catch (error) {
  logger.fatal(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
installTemporalLogging(logger);
const metrics = createDetectionWorkerMetrics();
// Each model's sessions open once for the whole process: the cascade model's too, up front.
const openDetector = (model: DetectorModel) =>
  createDetector({ ...configuredDetectorOptions(config.detector, model), onInference: observeInference(metrics), logger });
const detector = await openDetector(config.detector.model);
const cascade = config.detector.cascadeModel ? await openDetector(config.detector.cascadeModel) : null;
// PP-OCR's two models, opened once for the process like the detector's.
const reader = await createTextReader({ device: config.detector.device, intraOpThreads: config.detector.intraOpThreads, logger });
const modelOptions = { modelsDir: config.detector.modelsDir, device: config.detector.device, intraOpThreads: config.detector.intraOpThreads, logger };
const classifier = await createClassifier(modelOptions);
const faceAnalyser = await createFaceAnalyser(modelOptions);
// Face descriptors are written here, so they never travel through workflow histories.
const db = createDatabase(config.database.url, 2);
const connection = await connectNative(config);
const engine = createDetectionEngine({ detector, cascade, ...configuredEngineOptions(config.detector) });
const worker = await createDetectionWorker({ config, connection, engine, media: createMediaStore(config.mediaStore), detector, classifier, reader, faces: { analyser: faceAnalyser, db } });
metrics.trackWorker(worker, config.temporal.detectTaskQueue, config.detector.concurrency);
const metricsServer = config.metrics.gpuWorkerPort
  ? await serveMetrics(metrics.registry, { host: config.metrics.host, port: config.metrics.gpuWorkerPort }, logger)
  : null;
logger.info(
  {
    taskQueue: config.temporal.detectTaskQueue,
    concurrency: config.detector.concurrency,
    cascadeModel: cascade?.info.model ?? null,
    classifierModel: classifier.info.model,
    ...detector.info,
  },
  'detection worker started',
);
await worker.run();
await metricsServer?.close();
await connection.close();
await detector.release();
await cascade?.release();
await classifier.release();
await reader.release();
await faceAnalyser.release();
await db.destroy();
