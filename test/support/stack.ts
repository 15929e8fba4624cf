import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import { DefaultLogger, Runtime, bundleWorkflowCode, type NativeConnection, type Worker } from '@temporalio/worker';
import { createApiServer } from '../../api/server.js';
import { lazyFaceAnalyser } from '../../gpu-worker/faces.js';
import { lazyTextReader } from '../../gpu-worker/ocr.js';
import { loadConfig, type Config } from '../../config/index.js';
import { createDatabase, type Db } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrator.js';
import { createMediaStore } from '../../media/create-store.js';
import { createLogger, type Logger } from '../../logging/logger.js';
import { createAnalysisWorkerMetrics, createApiMetrics, type AnalysisWorkerMetrics, type ApiMetrics } from '../../observability/metrics.js';
import { serveMetrics } from '../../observability/metrics-server.js';
import { createAnalysisWorker, workflowsPath } from '../../temporal/analysis-worker.js';
import { findTemporalCli } from '../../temporal/cli.js';
import { connectClient, connectNative } from '../../temporal/connection.js';
import { freePort, startDevServer } from '../../temporal/dev-server.js';
import { writeTemporalLogEntry } from '../../temporal/runtime-logging.js';
import { SecretKeyring } from '../../domain/secret-keyring.js';
import { startDatabase } from './database.js';
import { modelsDir, repoRoot } from './paths.js';
import { testSecretsKeys } from './secrets.js';
import { createApiToken } from './tokens.js';
import { ProcessExitedError, waitFor } from './wait.js';

export interface DetectionWorkerProcess {
  process: ChildProcess;
  output: () => string;
  /** Its own GET /metrics. */
  metricsUrl: string;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

export interface TestStack {
  config: Config;
  baseUrl: string;
  db: Db;
  temporal: Client;
  /** The keyring of the stack's API and analysis worker (SECRETS_KEYS). */
  secrets: SecretKeyring;
  /** The dev server's Web UI, when started with `temporalUi`. */
  temporalUiUrl: string | undefined;
  /** The registries of the in-process API and analysis worker; the API serves its at `${baseUrl}/metrics`. */
  metrics: { api: ApiMetrics; worker: AnalysisWorkerMetrics };
  /** The analysis worker's GET /metrics, as `npm run worker` serves it. */
  workerMetricsUrl: string;
  /**
   * Every log line so far of each detection worker started and, with `captureLogs`, of the API and the
   * analysis worker (at trace level, the Temporal SDK's lines included), as they would reach stdout.
   */
  logLines(): string[];
  createToken(account: string, role?: 'user' | 'admin'): Promise<string>;
  startDetectionWorker(): Promise<DetectionWorkerProcess>;
  stop(): Promise<void>;
}

const quietLogger = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn', 'test');

let bundlePromise: ReturnType<typeof bundleWorkflowCode> | undefined;

/** The workflow code every analysis worker of this test process runs, bundled once. */
export function testWorkflowBundle(): ReturnType<typeof bundleWorkflowCode> {
  bundlePromise ??= bundleWorkflowCode({ workflowsPath, logger: undefined });
  return bundlePromise;
}

/** A stack capturing its logs gets the SDK's own lines too, as the workers' entry points route them. */
let sdkLogCapture: Logger | undefined;
const sdkWarnings = new DefaultLogger('WARN');
// Otherwise the SDK's own lines stay out of test output unless something is wrong.
Runtime.install({
  logger: new DefaultLogger('TRACE', (entry) => {
    if (sdkLogCapture) writeTemporalLogEntry(sdkLogCapture, entry);
    else sdkWarnings.log(entry.level, entry.message, entry.meta);
  }),
});

export interface StackOptions {
  detectionWorker?: boolean;
  /** Settings merged over the stack's own environment, e.g. LLM_BASE_URL pointing at a double. */
  env?: Record<string, string>;
  /** Collect every log line of every process at trace level, for `logLines()`. */
  captureLogs?: boolean;
  /** Serve the Temporal Web UI too, at `temporalUiUrl`. */
  temporalUi?: boolean;
}

export async function startStack(options: StackOptions = {}): Promise<TestStack> {
  const cleanups: (() => Promise<void>)[] = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const [database, cliPath, dataDir] = await Promise.all([
      startDatabase(),
      findTemporalCli(loadConfig({}), quietLogger),
      mkdtemp(path.join(os.tmpdir(), 'vigil-test-')),
    ]);
    cleanups.push(database.stop, () => rm(dataDir, { recursive: true, force: true }));
    const uiPort = options.temporalUi ? await freePort() : undefined;
    const devServer = await startDevServer({ cliPath, uiPort, logger: quietLogger });
    cleanups.push(devServer.stop);

    const env: NodeJS.ProcessEnv = {
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: devServer.address,
      DATA_DIR: dataDir,
      MODELS_DIR: modelsDir,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
      DETECTOR_THREADS: process.env.DETECTOR_THREADS ?? '1',
      // Webhook receivers in tests listen on 127.0.0.1.
      WEBHOOK_ALLOW_PRIVATE: 'true',
      SECRETS_KEYS: testSecretsKeys,
      ...options.env,
    };
    const config = loadConfig(env);
    const capturedLines: string[] = [];
    const logger = options.captureLogs ? createLogger('trace', 'test', { write: (line: string) => void capturedLines.push(line) }) : quietLogger;
    if (options.captureLogs) {
      sdkLogCapture = logger;
      cleanups.push(async () => void (sdkLogCapture = undefined));
    }
    await migrateToLatest(config.database.url);
    const db = createDatabase(config.database.url);
    cleanups.push(() => db.destroy());
    const media = createMediaStore(config.mediaStore);
    const secrets = new SecretKeyring(config.secrets.keys);

    const temporal = await connectClient(config);
    cleanups.push(() => temporal.connection.close());
    const connection: NativeConnection = await connectNative(config);
    const metrics = { api: createApiMetrics(), worker: createAnalysisWorkerMetrics() };
    const worker: Worker = await createAnalysisWorker({ config, connection, db, media, logger, secrets, metrics: metrics.worker, workflowBundle: await testWorkflowBundle() });
    const workerRun = worker.run();
    cleanups.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerRun;
      await connection.close();
    });

    const workerMetricsServer = await serveMetrics(metrics.worker.registry, { host: '127.0.0.1', port: 0 }, logger);
    if (!workerMetricsServer) throw new Error('the analysis worker metrics server did not start');
    cleanups.push(workerMetricsServer.close);

    // Opened only by a test that posts an allowlist photo.
    const faces = lazyFaceAnalyser({ modelsDir: config.detector.modelsDir, device: { kind: 'cpu' }, intraOpThreads: 1 });
    const text = lazyTextReader({ device: { kind: 'cpu' }, intraOpThreads: 1 });
    cleanups.push(faces.release, text.release);
    const server: Server = createApiServer({ config, db, media, temporal, logger, secrets, metrics: metrics.api, faces, text }).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const detectionWorkers: DetectionWorkerProcess[] = [];
    cleanups.push(async () => {
      for (const w of detectionWorkers) await w.kill();
    });
    const startDetectionWorker = async (): Promise<DetectionWorkerProcess> => {
      const metricsPort = await freePort();
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'gpu-worker/main.ts')], {
        cwd: repoRoot,
        // Info level at least: the test waits for the worker's start line.
        env: { ...process.env, ...env, LOG_LEVEL: options.captureLogs ? 'trace' : 'info', GPU_WORKER_METRICS_PORT: String(metricsPort) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const handle: DetectionWorkerProcess = {
        process: child,
        output: () => output,
        metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
        async kill() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      };
      detectionWorkers.push(handle);
      await waitFor('the detection worker to start', () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new ProcessExitedError(`detection worker exited early (${child.signalCode ?? `code ${child.exitCode}`}):\n${output}`);
        }
        return output.includes('detection worker started');
        // It opens every model first: on a busy machine that takes longer (TEST_DETECTION_WORKER_START_S).
      }, Number(process.env.TEST_DETECTION_WORKER_START_S ?? 60) * 1000);
      return handle;
    };
    if (options.detectionWorker !== false) await startDetectionWorker();

    return {
      config,
      baseUrl,
      db,
      temporal,
      secrets,
      temporalUiUrl: uiPort === undefined ? undefined : `http://127.0.0.1:${uiPort}`,
      metrics,
      workerMetricsUrl: workerMetricsServer.url,
      logLines: () => [...capturedLines, ...detectionWorkers.flatMap((w) => w.output().split('\n'))].filter((line) => line.trim() !== ''),
      startDetectionWorker,
      createToken: (account, role) => createApiToken(db, account, role),
      stop: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
