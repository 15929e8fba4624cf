import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../config/index.js';
import { SecretKeyring, secretKeyId } from '../../domain/secret-keyring.js';

const newKey = () => randomBytes(32);

describe('the secret keyring', () => {
  it('seals under its first key, differently each time, and opens what it sealed', () => {
    const [current, older] = [newKey(), newKey()];
    const keyring = new SecretKeyring([current, older]);
    const first = keyring.seal('whsec_signing');
    const second = keyring.seal('whsec_signing');
    assert.equal(first.keyId, secretKeyId(current));
    assert.notEqual(first.sealed, second.sealed);
    assert.ok(!Buffer.from(first.sealed, 'base64').toString('latin1').includes('whsec_signing'));
    assert.equal(keyring.open(first), 'whsec_signing');
  });

  it('opens what an older key sealed while that key is listed, and nothing once it is gone', () => {
    const [older, current] = [newKey(), newKey()];
    const sealedBefore = new SecretKeyring([older]).seal('rotated');
    assert.equal(new SecretKeyring([current, older]).open(sealedBefore), 'rotated');
    assert.throws(() => new SecretKeyring([current]).open(sealedBefore), /not in SECRETS_KEYS/);
  });

  it('refuses a sealed secret that was altered', () => {
    const keyring = new SecretKeyring([newKey()]);
    const { keyId, sealed } = keyring.seal('tamper-proof');
    const bytes = Buffer.from(sealed, 'base64');
    bytes[14]! ^= 1;
    assert.throws(() => keyring.open({ keyId, sealed: bytes.toString('base64') }));
  });

  it('needs at least one key of 32 bytes', () => {
    assert.throws(() => new SecretKeyring([]));
    assert.throws(() => new SecretKeyring([randomBytes(16)]));
  });
});

describe('SECRETS_KEYS', () => {
  it('lists base64 keys of 32 bytes, the first one first', () => {
    const [first, second] = [newKey(), newKey()];
    const { keys } = loadConfig({ SECRETS_KEYS: `${first.toString('base64')}, ${second.toString('base64')}` }).secrets;
    assert.deepEqual(keys, [first, second]);
    assert.deepEqual(loadConfig({}).secrets.keys, []);
  });

  for (const [name, value] of [
    ['a short key', randomBytes(16).toString('base64')],
    ['text that is not base64', 'correct horse battery staple, correct horse battery staple'],
    ['no key at all', ' , '],
  ]) {
    it(`refuses ${name}`, () =>
      assert.throws(() => loadConfig({ SECRETS_KEYS: value }), (error) => error instanceof ConfigError && /SECRETS_KEYS/.test(error.message)));
  }
});
