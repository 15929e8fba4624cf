import { loadSecretKeyring } from '../bin/secret-keys.js';
import { loadConfig } from '../config/index.js';
import { lowerOwnPriority } from '../bin/process-priority.js';
import { createDatabase } from '../db/database.js';
import { createMediaStore } from '../media/create-store.js';
import { createLogger } from '../logging/logger.js';
import { createAnalysisWorkerMetrics } from '../observability/metrics.js';
import { serveMetrics } from '../observability/metrics-server.js';
import { createAnalysisWorker } from './analysis-worker.js';
import { connectNative } from './connection.js';
import { installTemporalLogging } from './runtime-logging.js';

const config = loadConfig();
const logger = createLogger(config.logLevel, 'worker');
// First, so every thread the process starts from here on inherits it.
logger.info({ nice: lowerOwnPriority(config.workerNice, logger) }, 'CPU priority');
installTemporalLogging(logger);
const db = createDatabase(config.database.url);
const connection = await connectNative(config);
const metrics = createAnalysisWorkerMetrics();
const secrets = await loadSecretKeyring(config, (message) => logger.warn(message));
const worker = await createAnalysisWorker({ config, connection, db, media: createMediaStore(config.mediaStore), logger, secrets, metrics });
const metricsServer = config.metrics.workerPort
  ? await serveMetrics(metrics.registry, { host: config.metrics.host, port: config.metrics.workerPort }, logger)
  : null;
logger.info({ taskQueue: config.temporal.analysisTaskQueue }, 'analysis worker started');
// Worker.run() handles SIGINT/SIGTERM itself: it drains in-flight tasks, then resolves.
await worker.run();
await metricsServer?.close();
await connection.close();
await db.destroy();
