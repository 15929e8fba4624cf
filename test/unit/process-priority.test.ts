import { execFile } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ConfigError, loadConfig } from '../../config/index.js';
import { repoRoot } from '../support/paths.js';

const execFileAsync = promisify(execFile);

/**
 * A Node process like a worker: it lowers its priority to `nice`, then starts a worker thread (as libuv, ONNX
 * Runtime and Temporal's core start theirs) and prints the niceness it reported and every thread's niceness.
 */
async function childNiceness(nice: number, startedUnder?: number): Promise<{ reported: number; threads: number[] }> {
  const script = `
    import { readdirSync } from 'node:fs';
    import os from 'node:os';
    import { Worker } from 'node:worker_threads';
    import { lowerOwnPriority } from ${JSON.stringify(path.join(repoRoot, 'bin/process-priority.ts'))};
    import { createLogger } from ${JSON.stringify(path.join(repoRoot, 'logging/logger.ts'))};
    const reported = lowerOwnPriority(${nice}, createLogger('silent', 'test'));
    const worker = new Worker('setInterval(() => {}, 1000)', { eval: true });
    await new Promise((resolve) => worker.once('online', resolve));
    const threads = readdirSync('/proc/self/task').map((tid) => os.getPriority(Number(tid)));
    await worker.terminate();
    console.log(JSON.stringify({ reported, threads }));
  `;
  const node = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', script];
  const [command, ...args] = startedUnder === undefined ? node : ['nice', '-n', String(startedUnder), ...node];
  const { stdout } = await execFileAsync(command!, args, { cwd: repoRoot });
  return JSON.parse(stdout) as { reported: number; threads: number[] };
}

test('a worker lowers every thread it has, and those it starts afterwards inherit the niceness', { skip: process.platform !== 'linux' }, async () => {
  const { reported, threads } = await childNiceness(7);
  assert.equal(reported, 7);
  // Node's own threads, the module loader's and the worker thread started afterwards: more than the main one.
  assert.ok(threads.length > 2, `threads: ${threads.length}`);
  assert.deepEqual(new Set(threads), new Set([7]));
});

test('a worker started at a lower priority than WORKER_NICE keeps it; 0 leaves the priority alone', { skip: process.platform !== 'linux' }, async () => {
  const under = await childNiceness(7, 12);
  assert.equal(under.reported, 12);
  assert.deepEqual(new Set(under.threads), new Set([12]));

  // The test's own niceness, which the child inherits.
  const own = os.getPriority(0);
  const untouched = await childNiceness(0);
  assert.equal(untouched.reported, own);
  assert.deepEqual(new Set(untouched.threads), new Set([own]));
});

test('WORKER_NICE is 10 unless set, and 0 to 19', () => {
  assert.equal(loadConfig({}).workerNice, 10);
  assert.equal(loadConfig({ WORKER_NICE: '0' }).workerNice, 0);
  assert.equal(loadConfig({ WORKER_NICE: '19' }).workerNice, 19);
  for (const refused of ['20', '-1', 'low']) {
    assert.throws(() => loadConfig({ WORKER_NICE: refused }), (error: Error) => error instanceof ConfigError && /WORKER_NICE/.test(error.message));
  }
});
