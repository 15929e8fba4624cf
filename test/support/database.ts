import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import pg from 'pg';
import { createDatabase, type Db } from '../../db/database.js';
import { startEmbeddedPostgres } from '../../db/embedded.js';
import { migrateToLatest } from '../../db/migrator.js';
import { createLogger } from '../../logging/logger.js';
import { freePort } from '../../temporal/dev-server.js';

export interface TestDatabase {
  url: string;
  stop(): Promise<void>;
}

const quietLogger = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn', 'test');

/** A fresh database: on DATABASE_URL's server when set, else an embedded PostgreSQL in a temp dir. */
export async function startDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) return startEmbeddedPostgres({ port: await freePort(), logger: quietLogger, persistent: false });
  const name = `vigil_test_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async stop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * A fresh, migrated database for the calling test file: started before its first test and stopped after
 * its last. Call once at the top level of the file; the returned function gives the connection inside tests.
 * Node 20 starts a top-level `before` hook as soon as it is registered, without waiting for earlier ones,
 * so a file builds its repositories from this function lazily rather than in a hook of its own.
 */
export function migratedDatabase(): () => Db {
  let database: TestDatabase | undefined;
  let db: Db | undefined;
  before(async () => {
    database = await startDatabase();
    await migrateToLatest(database.url);
    db = createDatabase(database.url);
  });
  after(async () => {
    await db?.destroy();
    await database?.stop();
  });
  return () => {
    if (!db) throw new Error('the test database is only there while the tests of the file run');
    return db;
  };
}
