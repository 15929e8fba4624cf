import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

// BIGINT counts come back as numbers; our counts never approach 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type Db = Kysely<Database>;

/**
 * `keepConnections`: connections once opened stay open, where pg closes those idle for 10 s. Opening one costs
 * a PostgreSQL backend's start and an authentication, tens of ms on a busy machine, which the first requests of
 * a burst after a quiet spell would otherwise wait for (the API's).
 */
export function createDatabase(url: string, poolSize = 10, { keepConnections = false } = {}): Db {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, min: keepConnections ? poolSize : 0 });
  // The server may close a connection at any time (restart, failover). pg reports that as an 'error' event,
  // which crashes the process where nobody listens: on the pool for an idle connection, on the client for one
  // in use. The pool drops a broken connection either way, and a query that used it fails (and is retried).
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** SQLSTATE class 22, data exception: PostgreSQL refused a value (a NUL in text, an invalid byte sequence, a number out of range). */
export function isDataException(error: unknown): boolean {
  return error instanceof pg.DatabaseError && error.code?.startsWith('22') === true;
}
