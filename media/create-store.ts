import { S3Client } from '@aws-sdk/client-s3';
import type { MediaStoreConfig } from '../config/index.js';
import { S3MediaStore } from './s3-store.js';
import { FileSystemMediaStore, type MediaStore } from './store.js';

/** How long connecting to the S3 endpoint may take, and how long a request may wait for its answer to move. */
const S3_CONNECTION_TIMEOUT_MS = 5_000;
const S3_REQUEST_TIMEOUT_MS = 60_000;

/** The configured media store; every role (API, analysis worker, detection worker, supervisor) opens it here. */
export function createMediaStore(config: MediaStoreConfig): MediaStore {
  if (config.kind === 'filesystem') return new FileSystemMediaStore(config.dir);
  const client = new S3Client({
    region: config.region,
    endpoint: config.endpoint,
    forcePathStyle: config.forcePathStyle,
    credentials: config.credentials,
    requestHandler: { connectionTimeout: S3_CONNECTION_TIMEOUT_MS, requestTimeout: S3_REQUEST_TIMEOUT_MS },
  });
  return new S3MediaStore({ client, bucket: config.bucket });
}
