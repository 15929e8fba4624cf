import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import type { Logger } from 'pino';
import { vigilSearchAttributes } from './search-attributes.js';

const execFileAsync = promisify(execFile);

export interface DevServerOptions {
  cliPath: string;
  /** Front-end gRPC port on 127.0.0.1; omitted, a free one is picked for each start attempt. */
  port?: number;
  /** Web UI port; 0 or undefined runs headless. */
  uiPort?: number;
  /** SQLite file that keeps the state across restarts; in memory when omitted. */
  dbFile?: string;
  /** Namespaces to create besides `default`. */
  namespaces?: string[];
  logger: Logger;
  /** How long to wait until the server answers and our search attributes exist. */
  readyTimeoutMs?: number;
}

export interface DevServer {
  /** `host:port` for `Connection.connect` / `NativeConnection.connect`. */
  address: string;
  /** Stops the server (SIGTERM, SIGKILL after a deadline); safe to call more than once. */
  stop(): Promise<void>;
  process: ChildProcess;
}

/** The type names `temporal server start-dev --search-attribute` and `operator search-attribute` accept. */
const cliTypeNames: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

const STOP_DEADLINE_MS = 10_000;
const POLL_INTERVAL_MS = 100;
/**
 * The dev server picks its internal service ports itself and panics when one of them is taken in the
 * moment between picking and binding: on a busy machine a start-up crash is worth another try.
 */
const START_ATTEMPTS = 3;
/** Output lines kept for the error message: the head holds a Go panic's reason, the tail its stack. */
const OUTPUT_HEAD_LINES = 10;
const OUTPUT_TAIL_LINES = 20;

/** The server process ended before it was ready. */
class DevServerExitedEarly extends Error {}

/** A TCP port that was free a moment ago (for tests that start their own servers). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A persisted SQLite file keeps the namespaces it was created with, and start-dev registers
 * `--search-attribute` only when it creates a namespace: attributes added since then are registered here.
 */
async function registerMissingSearchAttributes(
  connection: Connection,
  options: DevServerOptions,
  address: string,
  namespaces: string[],
): Promise<void> {
  for (const namespace of namespaces) {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = vigilSearchAttributes.filter((key) => customAttributes?.[key.name] === undefined);
    if (missing.length === 0) continue;
    options.logger.info(
      { namespace, names: missing.map((key) => key.name) },
      '[temporal] registering search attributes missing from the dev server database',
    );
    await execFileAsync(options.cliPath, [
      'operator', 'search-attribute', 'create',
      '--address', address,
      '--namespace', namespace,
      // One --type per --name, in the same order.
      ...missing.flatMap((key) => ['--name', key.name, '--type', cliTypeNames[key.type]]),
    ]);
  }
}

/**
 * SQLite's default rollback journal writes, syncs and deletes a journal file for every transaction; with a
 * write-ahead log each commit is one append and one sync (still `full`: a commit survives a power loss). The
 * dev server's CPU per alarm fell from 115 to 86 ms with it (BENCHMARKS.md, "CPU budget per alarm").
 */
const sqlitePragmas = ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=full'];

/**
 * Starts `temporal server start-dev` with Vigil's search attributes and resolves once a client can use it.
 * Rejects (and stops the process) when it is not ready before the deadline, or keeps exiting early.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServerOnce(options, options.port ?? (await freePort()));
    } catch (error) {
      if (!(error instanceof DevServerExitedEarly) || attempt === START_ATTEMPTS) throw error;
      options.logger.warn({ attempt, err: error }, '[temporal] dev server exited during start-up; starting it again');
    }
  }
}

async function startDevServerOnce(options: DevServerOptions, port: number): Promise<DevServer> {
  const { cliPath, uiPort, dbFile, logger } = options;
  const namespaces = ['default', ...(options.namespaces ?? []).filter((ns) => ns !== 'default')];
  const address = `127.0.0.1:${port}`;
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  // Otherwise the readiness poll below could succeed against whatever already listens there.
  if (await portAccepts(port)) throw new Error(`Cannot start the Temporal dev server: ${address} is already in use.`);
  if (dbFile !== undefined) await mkdir(path.dirname(dbFile), { recursive: true });

  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    ...(uiPort ? ['--ui-port', String(uiPort)] : ['--headless']),
    ...(dbFile === undefined ? [] : ['--db-filename', dbFile, ...sqlitePragmas]),
    '--log-level', 'warn',
    ...namespaces.slice(1).flatMap((ns) => ['--namespace', ns]),
    ...vigilSearchAttributes.flatMap((key) => ['--search-attribute', `${key.name}=${cliTypeNames[key.type]}`]),
  ];
  const started = Date.now();
  const child = spawn(cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });

  let stopping: Promise<void> | undefined;
  // Kept for the error message when the server dies during start-up.
  const outputHead: string[] = [];
  const outputTail: string[] = [];
  let droppedLines = 0;
  const forward = (stream: NodeJS.ReadableStream, level: 'info' | 'warn') =>
    createInterface({ input: stream }).on('line', (line) => {
      if (line.trim() === '') return;
      if (outputHead.length < OUTPUT_HEAD_LINES) outputHead.push(line);
      else {
        outputTail.push(line);
        if (outputTail.length > OUTPUT_TAIL_LINES) {
          outputTail.shift();
          droppedLines++;
        }
      }
      // While stopping, the server's internal workers complain about the closed frontend: expected noise.
      logger[stopping === undefined ? level : 'debug'](`[temporal] ${line}`);
    });
  forward(child.stdout, 'info');
  forward(child.stderr, 'warn');

  let exitDescription: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('error', (error) => {
      exitDescription = `could not be started: ${error.message}`;
      resolve();
    });
    child.once('exit', (code, signal) => {
      exitDescription = signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
      resolve();
    });
  });

  // Never leave the server running when this process exits without stop().
  const stopOnExit = () => child.kill('SIGTERM');
  process.once('exit', stopOnExit);
  void exited.then(() => process.removeListener('exit', stopOnExit));

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exitDescription !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_DEADLINE_MS);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };

  const deadline = started + readyTimeoutMs;
  let lastError: unknown;
  while (exitDescription === undefined && Date.now() < deadline) {
    try {
      if (await portAccepts(port)) {
        const connection = await Connection.connect({ address, connectTimeout: 5_000 });
        try {
          await connection.workflowService.getSystemInfo({});
          await registerMissingSearchAttributes(connection, options, address, namespaces);
        } finally {
          await connection.close();
        }
        logger.info({ address, ui: uiPort ? `http://127.0.0.1:${uiPort}` : null, ms: Date.now() - started }, '[temporal] dev server ready');
        return { address, stop, process: child };
      }
    } catch (error) {
      lastError = error;
    }
    await Promise.race([delay(POLL_INTERVAL_MS), exited]);
  }

  const skipped = droppedLines > 0 ? [`... (${droppedLines} lines)`] : [];
  const outputLines = [...outputHead, ...skipped, ...outputTail];
  const output = outputLines.length > 0 ? `\nOutput:\n${outputLines.join('\n')}` : '';
  if (exitDescription !== undefined) {
    throw new DevServerExitedEarly(`Temporal dev server (${cliPath}) ${exitDescription} before it was ready.${output}`);
  }
  await stop();
  const reason = lastError instanceof Error ? ` Last error: ${lastError.message}` : '';
  throw new Error(`Temporal dev server on ${address} was not ready within ${readyTimeoutMs} ms.${reason}${output}`);
}
