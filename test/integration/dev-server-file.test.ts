import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { loadConfig } from '../../config/index.js';
import { findTemporalCli } from '../../temporal/cli.js';
import { startDevServer } from '../../temporal/dev-server.js';
import { createLogger } from '../../logging/logger.js';

const quietLogger = createLogger('warn', 'test');

it('keeps the dev server state of `npm start` in SQLite with a write-ahead log', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-dev-server-'));
  const dbFile = path.join(dir, 'temporal.sqlite');
  const server = await startDevServer({ cliPath: await findTemporalCli(loadConfig({}), quietLogger), dbFile, logger: quietLogger });
  try {
    assert.ok(existsSync(dbFile), 'the database file');
    assert.ok(existsSync(`${dbFile}-wal`), 'its write-ahead log');
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
