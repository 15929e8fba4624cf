import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './paths.js';
import { testSecretsKeys } from './secrets.js';

const execFileAsync = promisify(execFile);

/** Runs the operator CLI (`npm run vigil -- …`) against a test stack's database and keys, with extra settings on top. */
export function runVigilCli(databaseUrl: string, args: string[], env: Record<string, string> = {}) {
  return execFileAsync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bin/vigil.ts'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: databaseUrl, SECRETS_KEYS: testSecretsKeys, ...env },
  });
}
