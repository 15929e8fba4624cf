import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm test [unit|workflows|repository|integration|faults|faults-s3]`: runs each tier's test/<tier>/**\/*.test.ts with the
 * Node test runner, cheapest first. Workflow tests run workflows against stub activities on a local Temporal
 * server; repository tests talk to PostgreSQL alone; integration and fault files run one at a time, each with
 * its own Temporal dev server and PostgreSQL (fault tests also kill and restart Vigil's processes). `faults-s3`
 * runs the fault rounds once more with the roles' media in an S3 bucket (versitygw) instead of a directory.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const suites: Record<string, { dir: string; runnerArgs: string[]; env?: Record<string, string> }> = {
  unit: { dir: 'test/unit', runnerArgs: [] as string[] },
  workflows: { dir: 'test/workflows', runnerArgs: ['--test-concurrency=1'] },
  repository: { dir: 'test/repository', runnerArgs: ['--test-concurrency=1'] },
  integration: { dir: 'test/integration', runnerArgs: ['--test-concurrency=1'] },
  faults: { dir: 'test/faults', runnerArgs: ['--test-concurrency=1'] },
  'faults-s3': { dir: 'test/faults', runnerArgs: ['--test-concurrency=1'], env: { TEST_MEDIA_STORE: 's3' } },
};
type Suite = keyof typeof suites;

function findTestFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => path.join(dir, file))
    .sort();
}

function runNodeTests(args: string[], env: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: 'inherit',
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

const requested = process.argv[2];
if (requested !== undefined && !(requested in suites)) {
  console.error(`Unknown test suite "${requested}"; expected one of: ${Object.keys(suites).join(', ')}.`);
  process.exit(2);
}
const selected = requested === undefined ? (Object.keys(suites) as Suite[]) : [requested as Suite];

let exitCode = 0;
for (const name of selected) {
  const { dir, runnerArgs, env } = suites[name]!;
  const files = findTestFiles(path.join(repoRoot, dir)).map((file) => path.relative(repoRoot, file));
  if (files.length === 0) {
    console.log(`No ${name} tests (${dir}/**/*.test.ts).`);
    continue;
  }
  console.log(`Running ${files.length} ${name} test file(s).`);
  const code = await runNodeTests([...runnerArgs, ...files], env);
  // Later suites still run after a failing one: one run reports everything.
  if (exitCode === 0) exitCode = code;
}
process.exit(exitCode);
