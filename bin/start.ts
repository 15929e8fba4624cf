import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, inheritedEnv, loadConfig, type Config } from '../config/index.js';
import { startEmbeddedPostgres } from '../db/embedded.js';
import { classifyAddress } from '../domain/webhooks.js';
import { migrateToLatest } from '../db/migrator.js';
import { createLogger, type Logger } from '../logging/logger.js';
import { configuredModels, ensureModelFiles } from '../gpu-worker/model-files.js';
import { findTemporalCli } from '../temporal/cli.js';
import { startDevServer } from '../temporal/dev-server.js';
import { createMediaStore } from '../media/create-store.js';
import { ChildProcessGroup } from './child-process-group.js';
import { secretKeysOf, secretKeysSetting } from './secret-keys.js';

/**
 * `npm start`: the embedded stack under one supervisor. Temporal dev server and PostgreSQL
 * first, then migrations, then the API and both workers as child processes. Ctrl-C or SIGTERM, or any child
 * dying, stops everything in reverse order.
 *
 * `npm start -- --cpu-prof [--cpu-prof-dir DIR]`: each Node role writes a V8 CPU profile when it stops
 * (`CPU.<date>.<pid>….cpuprofile`, in DIR, by default the working directory), for `npm run bench:budget`.
 */

const { values: options } = parseArgs({
  options: { 'cpu-prof': { type: 'boolean', default: false }, 'cpu-prof-dir': { type: 'string' } },
});
const cpuProfileArgs = options['cpu-prof'] ? ['--cpu-prof', ...(options['cpu-prof-dir'] ? [`--cpu-prof-dir=${path.resolve(options['cpu-prof-dir'])}`] : [])] : [];

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHILD_STOP_DEADLINE_MS = 15_000;

const roles = [
  { name: 'api', entry: 'api/main.ts' },
  { name: 'worker', entry: 'temporal/worker.ts' },
  { name: 'gpu-worker', entry: 'gpu-worker/main.ts' },
] as const;

/** Signals closer together than this are one Ctrl-C delivered more than once. */
const duplicateSignalWindowMs = 1000;

interface StopRequest {
  exitCode: number;
  reason: string;
}

class Supervisor {
  private readonly cleanups: Array<{ name: string; stop: () => Promise<void> }> = [];
  private resolveStop!: (request: StopRequest) => void;
  private readonly stopRequested = new Promise<StopRequest>((resolve) => (this.resolveStop = resolve));
  private stopping = false;
  private readonly stopController = new AbortController();
  readonly children: ChildProcessGroup;

  constructor(private readonly logger: Logger) {
    this.children = new ChildProcessGroup(logger, (name, description) =>
      this.requestStop({ exitCode: 1, reason: `${name} ${description}` }),
    );
    let firstSignalAt = 0;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (!this.stopping) {
          firstSignalAt = Date.now();
          return this.requestStop({ exitCode: 0, reason: signal });
        }
        // One Ctrl-C arrives several times (the terminal signals the whole group, npm and tsx relay it):
        // only a press well after the first means "stop waiting".
        if (Date.now() - firstSignalAt < duplicateSignalWindowMs) return;
        logger.warn(`${signal} again: killing the child processes`);
        this.children.kill('SIGKILL');
      });
    }
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Aborted when a stop is requested: downloads under way stop and remove their temporary files. */
  get stopSignal(): AbortSignal {
    return this.stopController.signal;
  }

  requestStop(request: StopRequest): void {
    if (this.stopping) return;
    this.stopping = true;
    this.logger.info(`stopping (${request.reason})`);
    this.stopController.abort(new Error(request.reason));
    this.resolveStop(request);
  }

  /** Registers a service to stop after the children, in reverse order of registration. */
  adopt(name: string, stop: () => Promise<void>): void {
    this.cleanups.push({ name, stop });
  }

  waitForStop(): Promise<StopRequest> {
    return this.stopRequested;
  }

  async stopEverything(): Promise<void> {
    this.stopping = true;
    await this.children.stopAll(CHILD_STOP_DEADLINE_MS);
    for (const { name, stop } of this.cleanups.reverse()) {
      try {
        await stop();
        this.logger.info(`[${name}] stopped`);
      } catch (error) {
        this.logger.error({ err: error }, `[${name}] did not stop cleanly`);
      }
    }
  }
}

/** Host and port of `TEMPORAL_ADDRESS` (`host:port`, `[ipv6]:port`). */
function parseAddress(address: string): { host: string; port: number } {
  const url = new URL(`tcp://${address}`);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? 7233 : Number(url.port) };
}

const isLoopback = (host: string) => host === 'localhost' || classifyAddress(host) === 'loopback';

async function startStack(config: Config, supervisor: Supervisor, logger: Logger): Promise<void> {
  // Before anything starts, so a model that cannot be had stops the start with how to place it by hand.
  await ensureModelFiles(configuredModels(config), {
    modelsDir: config.detector.modelsDir,
    downloads: config.downloads,
    logger,
    signal: supervisor.stopSignal,
  });
  if (supervisor.isStopping) return;

  // The store every role writes to and reads from: unreachable, nothing would work, so nothing starts.
  try {
    await createMediaStore(config.mediaStore).check();
  } catch (error) {
    throw new Error(`the media store (MEDIA_STORE=${config.mediaStore.kind}) is not usable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (supervisor.isStopping) return;

  let temporalAddress = config.temporal.address;
  const { host, port } = parseAddress(config.temporal.address);
  if (isLoopback(host)) {
    const cliPath = await findTemporalCli(config, logger, supervisor.stopSignal);
    const devServer = await startDevServer({
      cliPath,
      port,
      uiPort: config.temporal.uiPort,
      dbFile: config.temporal.devServerDbFile,
      namespaces: [config.temporal.namespace],
      logger,
    });
    supervisor.adopt('temporal', devServer.stop);
    devServer.process.once('exit', () => supervisor.requestStop({ exitCode: 1, reason: 'the Temporal dev server exited' }));
    temporalAddress = devServer.address;
  } else {
    logger.info(`TEMPORAL_ADDRESS ${config.temporal.address} is not local: using that cluster, no dev server`);
  }
  if (supervisor.isStopping) return;

  let databaseUrl = config.database.url;
  if (config.database.embedded) {
    const postgres = await startEmbeddedPostgres({
      persistent: true,
      dataDir: config.database.embeddedDir,
      port: config.database.embeddedPort,
      logger,
    });
    supervisor.adopt('postgres', postgres.stop);
    databaseUrl = postgres.url;
  }
  if (supervisor.isStopping) return;

  const applied = await migrateToLatest(databaseUrl);
  logger.info({ applied }, 'database migrated');
  if (supervisor.isStopping) return;

  // Resolved here so the children find tsx whatever their working directory.
  const tsx = import.meta.resolve('tsx');
  // Given DATABASE_URL, the children need SECRETS_KEYS too: the configured keys, or the one kept for the embedded database.
  const secretKeys = await secretKeysOf(config, (message) => logger.warn(message));
  const env = inheritedEnv({ DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: temporalAddress, SECRETS_KEYS: secretKeysSetting(secretKeys) });
  for (const { name, entry } of roles) {
    supervisor.children.start(name, process.execPath, [...cpuProfileArgs, '--import', tsx, path.join(repoRoot, entry)], env);
  }
}

async function main(): Promise<number> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    createLogger('info', 'supervisor').fatal(error.message);
    return 1;
  }
  const logger = createLogger(config.logLevel, 'supervisor');
  const supervisor = new Supervisor(logger);
  try {
    await startStack(config, supervisor, logger);
  } catch (error) {
    // A Ctrl-C reaches the whole process group: a dev server or build killed by it is no start-up failure.
    if (!supervisor.isStopping) {
      logger.fatal({ err: error }, `start-up failed: ${error instanceof Error ? error.message : String(error)}`);
      supervisor.requestStop({ exitCode: 1, reason: 'start-up failed' });
    }
  }
  if (!supervisor.isStopping) logger.info('all services started; Ctrl-C stops them');
  const { exitCode } = await supervisor.waitForStop();
  await supervisor.stopEverything();
  return exitCode;
}

process.exit(await main());
