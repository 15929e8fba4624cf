import { loadConfig } from '../config/index.js';
import { createDatabase } from '../db/database.js';
import { createMediaStore } from '../media/create-store.js';
import { createLogger } from '../logging/logger.js';
import { createApiMetrics } from '../observability/metrics.js';
import { connectClient } from '../temporal/connection.js';
import { runUntilSignal } from '../bin/lifecycle.js';
import { loadSecretKeyring } from '../bin/secret-keys.js';
import { startOwedSignalSweep } from '../commands/vms-signals.js';
import { createApiServer } from './server.js';
import { lazyFaceAnalyser } from '../gpu-worker/faces.js';
import { lazyTextReader } from '../gpu-worker/ocr.js';

const config = loadConfig();
const logger = createLogger(config.logLevel, 'api');
const db = createDatabase(config.database.url, 10, { keepConnections: true });
const temporal = await connectClient(config);
const metrics = createApiMetrics();
const secrets = await loadSecretKeyring(config, (message) => logger.warn(message));
// Opened on the first allowlist photo or enrichment that needs them; on CPU, whatever the detection worker uses.
const faces = lazyFaceAnalyser({ modelsDir: config.detector.modelsDir, device: { kind: 'cpu' }, intraOpThreads: 1, logger });
const text = lazyTextReader({ device: { kind: 'cpu' }, intraOpThreads: 1, logger });
const server = createApiServer({ config, db, media: createMediaStore(config.mediaStore), temporal, logger, secrets, metrics, faces, text }).listen(config.api.port, config.api.host);
server.once('listening', () => logger.info({ host: config.api.host, port: config.api.port }, 'API listening'));
// VMS signals an API killed between its commit and its send left owed: sent again from here.
const stopOwedSignalSweep = startOwedSignalSweep({ db, temporal, logger, analysisTaskQueue: config.temporal.analysisTaskQueue, vms: config.vms });

await runUntilSignal(logger, async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await stopOwedSignalSweep();
  await faces.release();
  await text.release();
  await temporal.connection.close();
  await db.destroy();
});
