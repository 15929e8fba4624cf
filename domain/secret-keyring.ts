import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Secrets at rest (webhook secrets): AES-256-GCM under the keys of `SECRETS_KEYS`. The first key seals; every
 * key opens, so a key can be rotated in: each sealed secret names the key that sealed it.
 */

export const secretKeyBytes = 32;
const nonceBytes = 12;
const tagBytes = 16;

/** A secret as stored: `sealed` is base64 of the nonce, the ciphertext and the authentication tag. */
export interface SealedSecret {
  keyId: string;
  sealed: string;
}

/** A short, stable name of a key, stored with what it sealed; it reveals nothing of the key. */
export function secretKeyId(key: Uint8Array): string {
  return createHash('sha256').update('vigil secrets key id\0').update(key).digest('hex').slice(0, 16);
}

export class SecretKeyring {
  /** Private, so logging the keyring shows no key. */
  readonly #keys: Map<string, Uint8Array>;
  readonly currentKeyId: string;

  /** `keys[0]` seals; the others only open what they sealed before. */
  constructor(keys: readonly Uint8Array[]) {
    const [current] = keys;
    if (!current) throw new Error('A secret keyring needs at least one key.');
    if (keys.some((key) => key.byteLength !== secretKeyBytes)) throw new Error(`Secret keys are ${secretKeyBytes} bytes.`);
    this.#keys = new Map(keys.map((key) => [secretKeyId(key), key]));
    this.currentKeyId = secretKeyId(current);
  }

  seal(secret: string): SealedSecret {
    const nonce = randomBytes(nonceBytes);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(this.currentKeyId)!, nonce);
    const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return { keyId: this.currentKeyId, sealed: Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]).toString('base64') };
  }

  /** The secret; throws when its key is not in the keyring or the stored bytes were altered. */
  open({ keyId, sealed }: SealedSecret): string {
    const key = this.#keys.get(keyId);
    if (!key) throw new Error(`This secret was sealed under key ${keyId}, which is not in SECRETS_KEYS.`);
    const bytes = Buffer.from(sealed, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, nonceBytes));
    decipher.setAuthTag(bytes.subarray(bytes.length - tagBytes));
    return Buffer.concat([decipher.update(bytes.subarray(nonceBytes, bytes.length - tagBytes)), decipher.final()]).toString('utf8');
  }
}
