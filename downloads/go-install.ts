import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { inheritedEnv } from '../config/index.js';

/** Runs `go install` once; resolves with its exit code and everything it printed. */
function goInstall(go: string, module: string, binDir: string, extraEnv: Record<string, string>, logger: Logger): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(go, ['install', module], {
      env: inheritedEnv({ GOBIN: binDir, ...extraEnv }),
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

export async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Builds `module` (`<path>@<version>`) into binDir with `go install`, once more without the checksum database when
 * only that was unreachable; answers the path of `binary` there. Throws when the build fails.
 */
export async function buildWithGo(options: { go: string; module: string; binary: string; binDir: string; logger: Logger }): Promise<string> {
  const { go, module, binary, binDir, logger } = options;
  await mkdir(binDir, { recursive: true });
  const started = Date.now();
  let result = await goInstall(go, module, binDir, {}, logger);
  if (result.code !== 0 && checksumDbUnreachable(result.output)) {
    logger.warn('the Go checksum database is unreachable; retrying once with GOSUMDB=off');
    result = await goInstall(go, module, binDir, { GOSUMDB: 'off' }, logger);
  }
  const built = path.join(binDir, binary);
  if (result.code !== 0 || !(await isExecutable(built))) {
    throw new Error(`go install ${module} failed (exit code ${result.code}; see the [go] lines above)`);
  }
  logger.info({ ms: Date.now() - started }, `built ${built}`);
  return built;
}

/** The first executable `name` on PATH, if any. */
export async function findOnPath(name: string): Promise<string | undefined> {
  for (const dir of (inheritedEnv().PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}
