import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { inheritedEnv, type Config } from '../config/index.js';

/** Newest CLI release whose module has no replace directive, so `go install` works (.ci/run builds the same one). */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const TEMPORAL_CLI_MODULE = `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const toolsBinDir = path.join(repoRoot, '.tools', 'bin');

const installHelp =
  `No Temporal CLI found. Either install Go (https://go.dev/dl/) and rerun, and Vigil builds it once into ` +
  `${toolsBinDir} with \`GOBIN=${toolsBinDir} go install ${TEMPORAL_CLI_MODULE}\`, ` +
  `or install the Temporal CLI (https://docs.temporal.io/cli) and put \`temporal\` on PATH ` +
  `or set TEMPORAL_CLI_PATH to the binary.`;

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function findOnPath(name: string): Promise<string | undefined> {
  for (const dir of (inheritedEnv().PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Runs `go install` once; resolves with its exit code and everything it printed. */
function goInstall(go: string, extraEnv: Record<string, string>, logger: Logger): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(go, ['install', TEMPORAL_CLI_MODULE], {
      env: inheritedEnv({ GOBIN: toolsBinDir, ...extraEnv }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        output += `${line}\n`;
        logger.info(`[go] ${line}`);
      });
    }
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/**
 * `go install` verifies modules against the checksum database (sum.golang.org); on a network that only
 * reaches the module proxy that lookup fails. A checksum mismatch is a real security error: never retried.
 */
function checksumDbUnreachable(goOutput: string): boolean {
  if (/checksum mismatch|SECURITY ERROR/.test(goOutput)) return false;
  return /verifying [^\n]*(sumdb|Get "https?:|reading https?:)/.test(goOutput);
}

async function buildTemporalCli(go: string, logger: Logger): Promise<string> {
  await mkdir(toolsBinDir, { recursive: true });
  logger.info(`building the Temporal CLI ${TEMPORAL_CLI_VERSION} into ${toolsBinDir} with go install (once; takes a few minutes)`);
  const started = Date.now();
  let result = await goInstall(go, {}, logger);
  if (result.code !== 0 && checksumDbUnreachable(result.output)) {
    logger.warn('the Go checksum database is unreachable; retrying once with GOSUMDB=off');
    result = await goInstall(go, { GOSUMDB: 'off' }, logger);
  }
  const binary = path.join(toolsBinDir, 'temporal');
  if (result.code !== 0 || !(await isExecutable(binary))) {
    throw new Error(`go install ${TEMPORAL_CLI_MODULE} failed (exit code ${result.code}); see the [go] lines above. ${installHelp}`);
  }
  logger.info({ ms: Date.now() - started }, `built ${binary}`);
  return binary;
}

/**
 * Locates the Temporal CLI: TEMPORAL_CLI_PATH, `temporal` on PATH, `<repo>/.tools/bin/temporal`, or builds
 * it there with Go. Throws with installation instructions when none of these is possible.
 */
export async function findTemporalCli(config: Config, logger: Logger): Promise<string> {
  const configured = config.temporal.cliPath;
  if (configured !== undefined) {
    const resolved = path.resolve(configured);
    // An explicit setting that is wrong is an error, not a reason to pick some other binary.
    if (!(await isExecutable(resolved))) throw new Error(`TEMPORAL_CLI_PATH=${configured} is not an executable file.`);
    return resolved;
  }
  const onPath = await findOnPath('temporal');
  if (onPath !== undefined) return onPath;
  const built = path.join(toolsBinDir, 'temporal');
  if (await isExecutable(built)) return built;
  const go = await findOnPath('go');
  if (go === undefined) throw new Error(installHelp);
  return buildTemporalCli(go, logger);
}
