import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
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
import { startS3Server, type S3TestServer } from './s3-server.js';
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
  /** The last of what the process printed since it last started. */
  output(): string;
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
  /** The S3 server the roles keep their media in, on the S3 store. */
  s3: S3TestServer | undefined;
  /** Each role's working directory and DATA_DIR: one shared folder, or with `separateHosts` one folder each. */
  hostDirs: Record<Role, string>;
  /** Every media key stored under `prefix`, in whichever store the roles use. */
  mediaKeys(prefix: string): Promise<string[]>;
  stop(): Promise<void>;
}

export type Role = 'api' | 'analysisWorker' | 'detectionWorker';

export interface ProcessStackOptions {
  /** Settings merged over the stack's own environment. */
  env?: Record<string, string>;
  /** `s3`: media in a versitygw bucket. Defaults to TEST_MEDIA_STORE, else `filesystem`. */
  mediaStore?: 'filesystem' | 's3';
  /** Each role in its own working directory with its own DATA_DIR, as on hosts of their own (needs the S3 store). */
  separateHosts?: boolean;
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
  cwd: string;
  isReady: (output: string) => boolean | Promise<boolean>;
}

// Resolved here, so a child finds tsx whatever its working directory.
const tsx = import.meta.resolve('tsx');

async function startService({ name, entry, env, cwd, isReady }: ServiceDefinition): Promise<ServiceProcess> {
  let child: ChildProcess | undefined;
  let output = '';
  let exited: Promise<void> = Promise.resolve();
  let killing = false;

  const launch = async () => {
    output = '';
    killing = false;
    const current = spawn(process.execPath, ['--import', tsx, path.join(repoRoot, entry)], {
      cwd,
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
    output: () => output,
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
    const mediaStore = options.mediaStore ?? (process.env.TEST_MEDIA_STORE === 's3' ? 's3' : 'filesystem');
    if (options.separateHosts && mediaStore !== 's3') throw new Error('separate hosts share nothing but the S3 store');
    const s3 = mediaStore === 's3' ? await startS3Server() : undefined;
    if (s3) cleanups.push(s3.stop);
    const hostDirs: Record<Role, string> = { api: dataDir, analysisWorker: dataDir, detectionWorker: dataDir };
    if (options.separateHosts) {
      for (const role of Object.keys(hostDirs) as Role[]) {
        hostDirs[role] = path.join(dataDir, 'hosts', role);
        await mkdir(hostDirs[role], { recursive: true });
      }
    }

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
      ...s3?.env,
      ...options.env,
    };
    const config = loadConfig(env);
    const envOf = (role: Role): NodeJS.ProcessEnv => ({ ...env, DATA_DIR: hostDirs[role] });
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
      start({
        name: 'analysis worker',
        entry: 'temporal/worker.ts',
        env: envOf('analysisWorker'),
        cwd: hostDirs.analysisWorker,
        isReady: (out) => out.includes('analysis worker started'),
      }),
      start({
        name: 'detection worker',
        entry: 'gpu-worker/main.ts',
        env: envOf('detectionWorker'),
        cwd: hostDirs.detectionWorker,
        isReady: (out) => out.includes('detection worker started'),
      }),
    ]);
    const api = await start({
      name: 'API',
      entry: 'api/main.ts',
      env: envOf('api'),
      cwd: hostDirs.api,
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
      s3,
      hostDirs,
      async mediaKeys(prefix) {
        if (s3) return s3.keys(`${prefix}/`);
        const entries = await readdir(path.join(config.mediaDir, prefix), { recursive: true, withFileTypes: true }).catch(() => []);
        return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(config.mediaDir, path.join(entry.parentPath, entry.name))).sort();
      },
      stop: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
