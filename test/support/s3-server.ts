import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { loadConfig } from '../../config/index.js';
import { buildWithGo, findOnPath, isExecutable } from '../../downloads/go-install.js';
import { createLogger } from '../../logging/logger.js';
import { createMediaStore } from '../../media/create-store.js';
import type { MediaStore } from '../../media/store.js';
import { freePort } from '../../temporal/dev-server.js';
import { repoRoot } from './paths.js';
import { ProcessExitedError, waitFor } from './wait.js';

/**
 * A real S3 server for tests: versitygw (Apache-2.0), S3 over a local directory. Found on PATH or in
 * `.tools/bin`, else built there once with `go install` (as `.ci/run` does).
 */

/** Keep in step with `.ci/run`. */
export const VERSITYGW_MODULE = 'github.com/versity/versitygw/cmd/versitygw@v1.8.0';

const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn', 'test');
const START_TIMEOUT_MS = 30_000;

let found: Promise<string> | undefined;

/** versitygw on PATH, in `.tools/bin`, or built there with Go (a couple of minutes, once). */
export function findVersitygw(): Promise<string> {
  found ??= (async () => {
    const onPath = await findOnPath('versitygw');
    if (onPath) return onPath;
    const binDir = path.join(repoRoot, '.tools', 'bin');
    const installed = path.join(binDir, 'versitygw');
    if (await isExecutable(installed)) return installed;
    const go = await findOnPath('go');
    if (!go) throw new Error(`No versitygw for the S3 tests: install Go (https://go.dev/dl/), or build it into ${binDir} with \`GOBIN=${binDir} go install ${VERSITYGW_MODULE}\`.`);
    logger.warn(`building versitygw into ${binDir} (once; takes a few minutes)`);
    return buildWithGo({ go, module: VERSITYGW_MODULE, binary: 'versitygw', binDir, logger });
  })();
  return found;
}

export interface S3TestServer {
  endpoint: string;
  bucket: string;
  /** The settings that put a Vigil role on this bucket. */
  env: Record<string, string>;
  /** A media store on the bucket, as every role opens it. */
  store: MediaStore;
  client: S3Client;
  /** Every key in the bucket under `prefix`. */
  keys(prefix?: string): Promise<string[]>;
  /** Stops the server (SIGKILL, as a crash would); its data stay. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** versitygw on a free port over a fresh directory, with one empty bucket. */
export async function startS3Server(): Promise<S3TestServer> {
  const [binary, dataDir, port] = await Promise.all([findVersitygw(), mkdtemp(path.join(os.tmpdir(), 'vigil-s3-')), freePort()]);
  const endpoint = `http://127.0.0.1:${port}`;
  const accessKeyId = `vigil${randomBytes(6).toString('hex')}`;
  const secretAccessKey = randomBytes(24).toString('base64url');
  const bucket = 'vigil-media';
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = '';

  const start = async () => {
    output = '';
    const current = spawn(binary, ['--port', `127.0.0.1:${port}`, 'posix', dataDir], {
      env: { ...process.env, ROOT_ACCESS_KEY: accessKeyId, ROOT_SECRET_KEY: secretAccessKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = current;
    const killOnExit = () => current.kill('SIGKILL');
    process.once('exit', killOnExit);
    exited = new Promise((resolve) => current.once('exit', () => resolve()));
    void exited.then(() => process.removeListener('exit', killOnExit));
    current.stdout!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000)));
    current.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000)));
    await waitFor(
      'versitygw to answer',
      async () => {
        if (current.exitCode !== null || current.signalCode !== null) throw new ProcessExitedError(`versitygw exited early:\n${output}`);
        await fetch(endpoint);
        return true;
      },
      START_TIMEOUT_MS,
      50,
    );
  };
  const kill = async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };

  await start();
  const env = {
    MEDIA_STORE: 's3',
    S3_ENDPOINT: endpoint,
    S3_BUCKET: bucket,
    S3_ACCESS_KEY_ID: accessKeyId,
    S3_SECRET_ACCESS_KEY: secretAccessKey,
  };
  const { mediaStore } = loadConfig(env);
  if (mediaStore.kind !== 's3') throw new Error('expected an S3 media store');
  const client = new S3Client({ region: mediaStore.region, endpoint, forcePathStyle: true, credentials: mediaStore.credentials });
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    await kill();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    endpoint,
    bucket,
    env,
    store: createMediaStore(mediaStore),
    client,
    async keys(prefix = '') {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).map((object) => object.Key!));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    kill,
    start,
    async stop() {
      client.destroy();
      await kill();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
