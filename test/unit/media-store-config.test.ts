import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../config/index.js';
import { createMediaStore } from '../../media/create-store.js';
import { S3MediaStore } from '../../media/s3-store.js';
import { FileSystemMediaStore } from '../../media/store.js';

test('the filesystem store is the default, at MEDIA_DIR', () => {
  const config = loadConfig({ DATA_DIR: '/var/lib/vigil' });
  assert.deepEqual(config.mediaStore, { kind: 'filesystem', dir: path.resolve('/var/lib/vigil/media') });
  assert.ok(createMediaStore(config.mediaStore) instanceof FileSystemMediaStore);
});

test('MEDIA_STORE=s3 takes the bucket, region, endpoint and credentials; path-style with an endpoint', () => {
  const config = loadConfig({
    MEDIA_STORE: 's3',
    S3_BUCKET: 'vigil-media',
    S3_ENDPOINT: 'http://minio:9000',
    S3_ACCESS_KEY_ID: 'key',
    S3_SECRET_ACCESS_KEY: 'secret',
  });
  assert.deepEqual(config.mediaStore, {
    kind: 's3',
    bucket: 'vigil-media',
    region: 'us-east-1',
    endpoint: 'http://minio:9000',
    forcePathStyle: true,
    credentials: { accessKeyId: 'key', secretAccessKey: 'secret' },
  });
  assert.ok(createMediaStore(config.mediaStore) instanceof S3MediaStore);

  // AWS S3 itself: virtual-hosted addressing, and the SDK's own credential chain.
  const aws = loadConfig({ MEDIA_STORE: 's3', S3_BUCKET: 'vigil-media', S3_REGION: 'eu-central-1' }).mediaStore;
  assert.equal(aws.kind === 's3' && aws.forcePathStyle, false);
  assert.equal(aws.kind === 's3' ? aws.credentials : 'none', undefined);
});

test('MEDIA_STORE=s3 without a bucket, or with half the credentials, does not start', () => {
  assert.throws(() => loadConfig({ MEDIA_STORE: 's3' }), (error: Error) => error instanceof ConfigError && /S3_BUCKET: required/.test(error.message));
  assert.throws(
    () => loadConfig({ MEDIA_STORE: 's3', S3_BUCKET: 'vigil-media', S3_ACCESS_KEY_ID: 'key' }),
    (error: Error) => error instanceof ConfigError && /set both or neither/.test(error.message),
  );
  assert.throws(() => loadConfig({ MEDIA_STORE: 'ftp' }), ConfigError);
  assert.throws(() => loadConfig({ MEDIA_STORE: 's3', S3_BUCKET: 'vigil-media', S3_ENDPOINT: 'minio:9000' }), ConfigError);
});
