import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, secretKeysSchema, type Config } from '../config/index.js';
import { SecretKeyring, secretKeyBytes } from '../domain/secret-keyring.js';

/**
 * The keys that seal secrets at rest: `SECRETS_KEYS`. Without it only `npm start`'s embedded PostgreSQL works
 * out of the box, with a key kept next to its data and made on first use (`announce` says so); with
 * `DATABASE_URL` the keys must be configured, so they never lie beside a database they would unlock.
 */
export async function secretKeysOf(config: Config, announce: (message: string) => void): Promise<Uint8Array[]> {
  if (config.secrets.keys.length > 0) return config.secrets.keys;
  if (!config.database.embedded) {
    throw new ConfigError(`Invalid configuration:\n  SECRETS_KEYS: required with DATABASE_URL (openssl rand -base64 ${secretKeyBytes})`);
  }
  const file = config.secrets.embeddedKeyFile;
  const stored = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (stored !== undefined) return parseKeyFile(file, stored);
  await mkdir(path.dirname(file), { recursive: true });
  const key = randomBytes(secretKeyBytes);
  try {
    await writeFile(file, `${key.toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    // Another process of this start made it first: use that one.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return parseKeyFile(file, await readFile(file, 'utf8'));
    throw error;
  }
  announce(`Made a key for the secrets of the embedded database at ${file}; with DATABASE_URL, set SECRETS_KEYS instead.`);
  return [key];
}

export async function loadSecretKeyring(config: Config, announce: (message: string) => void): Promise<SecretKeyring> {
  return new SecretKeyring(await secretKeysOf(config, announce));
}

/** `SECRETS_KEYS` as a child process is given it. */
export function secretKeysSetting(keys: readonly Uint8Array[]): string {
  return keys.map((key) => Buffer.from(key).toString('base64')).join(',');
}

function parseKeyFile(file: string, text: string): Uint8Array[] {
  const parsed = secretKeysSchema.safeParse(text.trim());
  if (!parsed.success) throw new ConfigError(`${file} does not hold a base64 key of ${secretKeyBytes} bytes.`);
  return parsed.data;
}
