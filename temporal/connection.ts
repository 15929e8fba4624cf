import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config/index.js';

type TemporalSettings = Config['temporal'];

function connectionOptions({ address, tls, apiKey }: TemporalSettings): { address: string; tls: boolean; apiKey?: string } {
  // API keys are bearer tokens: the SDK would send them over TLS by default, so an API key implies TLS.
  return { address, tls: tls || apiKey !== undefined, ...(apiKey === undefined ? {} : { apiKey }) };
}

/** A client for the configured cluster and namespace (API, CLI, tests). */
export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(config.temporal));
  return new Client({ connection, namespace: config.temporal.namespace });
}

/** The connection a `Worker` runs on; the namespace goes into `Worker.create`. */
export function connectNative(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(config.temporal));
}
