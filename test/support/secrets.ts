import { randomBytes } from 'node:crypto';
import { secretKeyBytes } from '../../domain/secret-keyring.js';

/** `SECRETS_KEYS` of every stack and CLI run of this test process: one key, made for it. */
export const testSecretsKeys = randomBytes(secretKeyBytes).toString('base64');
