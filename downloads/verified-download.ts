import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Agent, fetch } from 'undici';
import type { DownloadConfig } from '../config/index.js';
import type { Logger } from '../logging/logger.js';

/** A file whose exact bytes are known before it is fetched. */
export interface ExpectedFile {
  fileName: string;
  sha256: string;
  /** Checked before the hash, and while downloading; unset where no size is published. */
  bytes?: number;
}

/** One URL that did not give the expected bytes, and why. */
export interface FailedAttempt {
  url: string;
  problem: string;
}

export class DownloadFailedError extends Error {
  constructor(
    readonly fileName: string,
    readonly attempts: FailedAttempt[],
  ) {
    super(`${fileName} could not be downloaded: ${attempts.map(({ url, problem }) => `${url}: ${problem}`).join('; ')}`);
    this.name = 'DownloadFailedError';
  }
}

const progressIntervalMs = 1000;
const undiciTimeoutCodes = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

export const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** The mirrors, each serving the file by name, when any are configured; else the file's public URLs. */
export function downloadUrls(fileName: string, publicUrls: readonly string[], downloads: DownloadConfig): string[] {
  if (downloads.mirrors.length === 0) return [...publicUrls];
  return downloads.mirrors.map((mirror) => new URL(encodeURIComponent(fileName), mirror.endsWith('/') ? mirror : `${mirror}/`).href);
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** What is wrong with the file at `file` compared with `expected`, or null when it is exactly that file. */
export async function fileMismatch(file: string, expected: ExpectedFile): Promise<string | null> {
  const { size } = await stat(file);
  if (expected.bytes !== undefined && size !== expected.bytes) return `it has ${size} bytes, expected ${expected.bytes}`;
  const sha256 = await sha256OfFile(file);
  return sha256 === expected.sha256 ? null : `its sha256 is ${sha256}, expected ${expected.sha256}`;
}

function describeFailure(error: unknown, idleTimeoutSeconds: number): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const code = (cause as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && undiciTimeoutCodes.has(code)) return `nothing received for ${idleTimeoutSeconds} s`;
  const message = cause instanceof Error ? cause.message : String(cause);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

interface AttemptContext {
  expected: ExpectedFile;
  temporaryFile: string;
  agent: Agent;
  logger: Logger;
  signal: AbortSignal | undefined;
}

/** Streams one URL into the temporary file, hashing as it goes; throws with the reason the bytes are not the expected ones. */
async function fetchInto(url: string, { expected, temporaryFile, agent, logger, signal }: AttemptContext): Promise<void> {
  const response = await fetch(url, { dispatcher: agent, signal, headers: { 'user-agent': 'Vigil' } });
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status}`);
  }
  const announced = Number(response.headers.get('content-length')) || undefined;
  if (expected.bytes !== undefined && announced !== undefined && announced !== expected.bytes) {
    await response.body.cancel();
    throw new Error(`the server offers ${announced} bytes, expected ${expected.bytes}`);
  }
  const total = expected.bytes ?? announced;
  const hash = createHash('sha256');
  let received = 0;
  let reportedAt = Date.now();
  const file = await open(temporaryFile, 'wx');
  try {
    for await (const chunk of response.body) {
      received += chunk.byteLength;
      if (expected.bytes !== undefined && received > expected.bytes) throw new Error(`more than the expected ${expected.bytes} bytes`);
      hash.update(chunk);
      await file.write(chunk);
      if (Date.now() - reportedAt >= progressIntervalMs) {
        reportedAt = Date.now();
        const of = total === undefined ? '' : ` of ${megabytes(total)} (${Math.floor((100 * received) / total)}%)`;
        logger.info(`${expected.fileName}: ${megabytes(received)}${of}`);
      }
    }
    // On disk before the rename makes it the real file, so a crash cannot leave a renamed but empty file.
    await file.sync();
  } finally {
    await file.close();
  }
  if (expected.bytes !== undefined && received !== expected.bytes) throw new Error(`got ${received} bytes, expected ${expected.bytes}`);
  const sha256 = hash.digest('hex');
  if (sha256 !== expected.sha256) throw new Error(`sha256 ${sha256}, expected ${expected.sha256}`);
}

export interface DownloadOptions {
  /** Tried in order until one gives exactly the expected bytes. */
  urls: readonly string[];
  /** Where the file ends up; nothing else is left in its folder, whatever happens. */
  destination: string;
  idleTimeoutSeconds: number;
  logger: Logger;
  /** Stops the download (Ctrl-C): the temporary file is removed and the abort reason thrown. */
  signal?: AbortSignal;
}

/**
 * Downloads `expected` into `destination`: streamed into a temporary file beside it, size and sha256 checked,
 * then renamed, so the destination is either absent or exactly the expected file. Redirects are followed
 * (release hosts answer with one). Throws DownloadFailedError naming every URL tried and what went wrong there.
 */
export async function downloadVerified(expected: ExpectedFile, options: DownloadOptions): Promise<void> {
  const { urls, destination, idleTimeoutSeconds, logger, signal } = options;
  const timeoutMs = Math.round(idleTimeoutSeconds * 1000);
  // No deadline for the whole file (it may be large and the link slow): only silence abandons a URL.
  const agent = new Agent({ connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const attempts: FailedAttempt[] = [];
  try {
    for (const url of urls) {
      const temporaryFile = path.join(path.dirname(destination), `.${path.basename(destination)}.${randomUUID()}.partial`);
      logger.info(`downloading ${expected.fileName}${expected.bytes === undefined ? '' : ` (${megabytes(expected.bytes)})`} from ${url}`);
      try {
        await fetchInto(url, { expected, temporaryFile, agent, logger, signal });
        await rename(temporaryFile, destination);
        logger.info(`${expected.fileName}: sha256 ${expected.sha256} verified, saved as ${destination}`);
        return;
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const problem = describeFailure(error, idleTimeoutSeconds);
        attempts.push({ url, problem });
        logger.warn(`${expected.fileName} from ${url} failed: ${problem}`);
      } finally {
        await rm(temporaryFile, { force: true });
      }
    }
  } finally {
    await agent.close();
  }
  throw new DownloadFailedError(expected.fileName, attempts);
}

/**
 * Runs `work` with a signal that Ctrl-C or SIGTERM aborts, so a download in progress removes its temporary
 * file before the process ends (the signals' usual handling resumes afterwards).
 */
export async function abortedByInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const abort = (signal: NodeJS.Signals) => controller.abort(new Error(`interrupted by ${signal}`));
  process.once('SIGINT', abort);
  process.once('SIGTERM', abort);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', abort);
    process.off('SIGTERM', abort);
  }
}
