import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './paths.js';

const execFileAsync = promisify(execFile);

/** Runs the operator CLI (`npm run vigil -- …`) against a test stack's database, with extra settings on top. */
export function runVigilCli(databaseUrl: string, args: string[], env: Record<string, string> = {}) {
  return execFileAsync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bin/vigil.ts'), ...args], {
    cwd: repoRoot,
    env: { ...process.env, DATABASE_URL: databaseUrl, ...env },
  });
}
