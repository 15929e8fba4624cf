import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { loadConfig, type Config } from '../../config/index.js';
import { createDatabase, type Db } from '../../db/database.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../db/embedded.js';
import { migrateToLatest } from '../../db/migrator.js';
import { createLogger } from '../../logging/logger.js';
import { findTemporalCli } from '../../temporal/cli.js';
import { connectClient } from '../../temporal/connection.js';
import { freePort, startDevServer } from '../../temporal/dev-server.js';
import { modelsDir, repoRoot } from './paths.js';
import { testSecretsKeys } from './secrets.js';
import { createApiToken } from './tokens.js';
import { ProcessExitedError, waitFor } from './wait.js';

/**
 * The embedded stack with every Vigil role as its own OS process, for fault tests: the API, the analysis
 * worker and the detection worker can be killed with SIGKILL and started again, and PostgreSQL (persistent,
 * in a temp dir) can be restarted on the same data. The Temporal dev server is not restarted.
 */

export interface ServiceProcess {
  readonly name: string;
  /** SIGKILL, as a crash would; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Kills the process (SIGKILL, unless already gone) and starts it again; resolves once it is ready. */
  restart(): Promise<void>;
  /** Throws, with the process's output, when it exited without being killed by the test. */
  assertRunning(): void;
}

export interface ProcessStack {
  /** The configuration the child processes run with. */
  config: Config;
  baseUrl: string;
  temporal: Client;
  /** The test's own connection to the database (its pool reconnects after a PostgreSQL restart). */
  db: Db;
  api: ServiceProcess;
  analysisWorker: ServiceProcess;
  detectionWorker: ServiceProcess;
  /** Stops PostgreSQL (fast shutdown: open connections are cut) and starts it again on the same data and port. */
  restartPostgres(): Promise<void>;
  /** Throws when a Vigil process died on its own; for `waitFor` checks, which then stop waiting at once. */
  assertRunning(): void;
  createToken(account: string, role?: 'user' | 'admin'): Promise<string>;
  stop(): Promise<void>;
}

export interface ProcessStackOptions {
  /** Settings merged over the stack's own environment. */
  env?: Record<string, string>;
}

const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn', 'test');
// A restart makes PostgreSQL log every connection it cuts; its start-up errors carry their own output anyway.
const postgresLogger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'test');
// Enough to see why a process died; the whole output of a long run would only fill memory.
const OUTPUT_LIMIT_CHARS = 64_000;
const OUTPUT_IN_ERRORS_CHARS = 8_000;
const START_TIMEOUT_MS = 120_000;

interface ServiceDefinition {
  name: string;
  entry: string;
  env: NodeJS.ProcessEnv;
  isReady: (output: string) => boolean | Promise<boolean>;
}

async function startService({ name, entry, env, isReady }: ServiceDefinition): Promise<ServiceProcess> {
  let child: ChildProcess | undefined;
  let output = '';
  let exited: Promise<void> = Promise.resolve();
  let killing = false;

  const launch = async () => {
    output = '';
    killing = false;
    const current = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, entry)], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = current;
    // Never leave a Vigil process behind when the test process ends without stop().
    const killOnExit = () => current.kill('SIGKILL');
    process.once('exit', killOnExit);
    current.once('exit', () => process.removeListener('exit', killOnExit));
    const append = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-OUTPUT_LIMIT_CHARS);
    };
    current.stdout!.on('data', append);
    current.stderr!.on('data', append);
    exited = new Promise((resolve) => current.once('exit', () => resolve()));
    try {
      await waitFor(
        `${name} to start`,
        async () => {
          if (current.exitCode !== null || current.signalCode !== null) throw new ProcessExitedError(`${name} exited early:\n${output.slice(-OUTPUT_IN_ERRORS_CHARS)}`);
          return isReady(output);
        },
        START_TIMEOUT_MS,
        200,
      );
    } catch (error) {
      await kill();
      throw error;
    }
  };

  const kill = async () => {
    killing = true;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };

  await launch();
  return {
    name,
    kill,
    async restart() {
      await kill();
      await launch();
    },
    assertRunning() {
      if (killing || !child || (child.exitCode === null && child.signalCode === null)) return;
      throw new ProcessExitedError(`${name} exited early (${child.signalCode ?? `code ${child.exitCode}`}):\n${output.slice(-OUTPUT_IN_ERRORS_CHARS)}`);
    },
  };
}

export async function startProcessStack(options: ProcessStackOptions = {}): Promise<ProcessStack> {
  const cleanups: (() => Promise<void>)[] = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const [cliPath, dataDir, pgPort, apiPort, workerMetricsPort, gpuWorkerMetricsPort] = await Promise.all([
      findTemporalCli(loadConfig({}), logger),
      mkdtemp(path.join(os.tmpdir(), 'vigil-faults-')),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    // Run as root, PostgreSQL runs as the `postgres` user, which must reach its data directory inside.
    await chmod(dataDir, 0o755);

    const postgresDir = path.join(dataDir, 'postgres');
    const startPostgres = () => startEmbeddedPostgres({ persistent: true, dataDir: postgresDir, port: pgPort, logger: postgresLogger });
    let postgres: EmbeddedPostgresHandle = await startPostgres();
    cleanups.push(() => postgres.stop());

    const devServer = await startDevServer({ cliPath, logger });
    cleanups.push(devServer.stop);

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: postgres.url,
      TEMPORAL_ADDRESS: devServer.address,
      DATA_DIR: dataDir,
      MODELS_DIR: modelsDir,
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      METRICS_HOST: '127.0.0.1',
      WORKER_METRICS_PORT: String(workerMetricsPort),
      GPU_WORKER_METRICS_PORT: String(gpuWorkerMetricsPort),
      // Info: the start lines the stack waits for.
      LOG_LEVEL: 'info',
      DETECTOR_THREADS: process.env.DETECTOR_THREADS ?? '1',
      // Webhook receivers in tests listen on 127.0.0.1; retries come soon after an outage.
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_INITIAL_INTERVAL_S: '1',
      WEBHOOK_MAX_INTERVAL_S: '5',
      SECRETS_KEYS: testSecretsKeys,
      ...options.env,
    };
    const config = loadConfig(env);
    await migrateToLatest(config.database.url);
    const db = createDatabase(config.database.url);
    cleanups.push(() => db.destroy());
    const temporal = await connectClient(config);
    cleanups.push(() => temporal.connection.close());

    const baseUrl = `http://127.0.0.1:${apiPort}`;
    const services: ServiceProcess[] = [];
    cleanups.push(async () => {
      for (const service of services) await service.kill();
    });
    const start = async (definition: ServiceDefinition) => {
      const service = await startService(definition);
      services.push(service);
      return service;
    };
    // The workers load models and bundle workflows: started side by side.
    const [analysisWorker, detectionWorker] = await Promise.all([
      start({ name: 'analysis worker', entry: 'temporal/worker.ts', env, isReady: (out) => out.includes('analysis worker started') }),
      start({ name: 'detection worker', entry: 'gpu-worker/main.ts', env, isReady: (out) => out.includes('detection worker started') }),
    ]);
    const api = await start({
      name: 'API',
      entry: 'api/main.ts',
      env,
      isReady: async () => (await fetch(`${baseUrl}/healthz`)).ok,
    });

    return {
      config,
      baseUrl,
      temporal,
      db,
      api,
      analysisWorker,
      detectionWorker,
      assertRunning() {
        for (const service of services) service.assertRunning();
      },
      async restartPostgres() {
        await postgres.stop();
        postgres = await startPostgres();
      },
      createToken: (account, role) => createApiToken(db, account, role),
      stop: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
