import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NotFound,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { MediaStoreUnavailableError, type MediaStore, type StoredObjectInfo } from './store.js';

/** S3 allows 5 MiB parts at least; 8 MiB keeps a 1 GiB video under 130 parts. */
const DEFAULT_PART_SIZE_BYTES = 8 * 1024 * 1024;
/** Parts uploaded at once: the memory a streamed upload holds is about this many parts. */
const UPLOAD_QUEUE_SIZE = 4;
/** DeleteObjects takes at most this many keys; ListObjectsV2 answers at most this many. */
const KEYS_PER_BATCH = 1000;

export interface S3MediaStoreOptions {
  client: S3Client;
  bucket: string;
  /** Size of the parts of a multipart upload (5 MiB at least); a smaller stream is one PUT. */
  partSizeBytes?: number;
}

/**
 * Media in an S3 bucket (AWS S3 or any S3-compatible server), under the same keys as the filesystem store:
 * `alarms/<job id>/frame_00.jpg`. Every role reaches the bucket itself, so hosts share nothing else. An object
 * appears only once it is complete (a PUT, or a multipart upload's completion). Failures reaching the bucket are
 * thrown as they come (retryable: an activity that meets one is tried again by Temporal).
 */
export class S3MediaStore implements MediaStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly partSizeBytes: number;

  constructor({ client, bucket, partSizeBytes = DEFAULT_PART_SIZE_BYTES }: S3MediaStoreOptions) {
    this.client = client;
    this.bucket = bucket;
    this.partSizeBytes = partSizeBytes;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: checkedKey(key), Body: bytes, ContentLength: bytes.byteLength })).catch(rethrowUnavailable);
  }

  async putStream(key: string, source: Readable): Promise<number> {
    let written = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        written += chunk.length;
        done(null, chunk);
      },
    });
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: checkedKey(key), Body: counted },
      partSize: this.partSizeBytes,
      queueSize: UPLOAD_QUEUE_SIZE,
      // A failed multipart upload is aborted: no parts left behind to pay for, and no object.
      leavePartsOnError: false,
    });
    const [reading, uploading] = await Promise.allSettled([
      pipeline(source, counted),
      upload.done().catch((failure: unknown) => {
        const error = unavailableOr(failure);
        // Stops reading the source, which nothing consumes any more.
        counted.destroy(error instanceof Error ? error : new Error(String(error)));
        throw error;
      }),
    ]);
    // The source's own failure is the cause; the upload's is then only its consequence.
    if (reading.status === 'rejected' && uploading.status === 'rejected' && source.errored) throw reading.reason;
    if (uploading.status === 'rejected') throw uploading.reason;
    if (reading.status === 'rejected') throw reading.reason;
    return written;
  }

  async get(key: string): Promise<Buffer> {
    const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: checkedKey(key) })).catch(rethrowUnavailable);
    return Buffer.from(await answer.Body!.transformToByteArray().catch(rethrowUnavailable));
  }

  /** The key and every key below it (`<key>/…`): listed and deleted a thousand at a time. */
  async remove(key: string): Promise<void> {
    const prefix = `${checkedKey(key)}/`;
    await this.deleteKeys([key]);
    let continuationToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: continuationToken, MaxKeys: KEYS_PER_BATCH }),
      ).catch(rethrowUnavailable);
      await this.deleteKeys((page.Contents ?? []).map((object) => object.Key!));
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
  }

  private async deleteKeys(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    const answer = await this.client.send(
      new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }),
    ).catch(rethrowUnavailable);
    // A missing key is deleted as far as S3 is concerned; anything reported here is a real failure.
    const failed = answer.Errors ?? [];
    if (failed.length > 0) {
      throw new Error(`S3 did not delete ${failed.length} of ${keys.length} objects, e.g. ${failed[0]!.Key}: ${failed[0]!.Code} ${failed[0]!.Message}`);
    }
  }

  async stat(key: string): Promise<StoredObjectInfo | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: checkedKey(key) })).catch(rethrowUnavailable);
      return { size: head.ContentLength ?? 0, modifiedAt: head.LastModified ?? new Date(0) };
    } catch (error) {
      if (error instanceof NotFound || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
      throw error;
    }
  }

  read(key: string, range?: { start: number; end: number }): Readable {
    const out = new PassThrough();
    const request = new GetObjectCommand({ Bucket: this.bucket, Key: checkedKey(key), Range: range ? `bytes=${range.start}-${range.end}` : undefined });
    // The request goes out when the stream is created; its failure becomes the stream's error, as a file's would.
    this.client.send(request, { abortSignal: abortedWhenClosed(out) }).then(
      (answer) => pipeline(answer.Body as Readable, out).catch((error: unknown) => out.destroy(error as Error)),
      (error: unknown) => out.destroy(unavailableOr(error) as Error),
    );
    return out;
  }

  async withLocalFile<T>(key: string, use: (localPath: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-media-'));
    try {
      // The key's own name, so tools that look at the extension see it.
      const localPath = path.join(dir, path.posix.basename(key));
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: checkedKey(key) })).catch(rethrowUnavailable);
      await pipeline(answer.Body as Readable, createWriteStream(localPath));
      return await use(localPath);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async check(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket })).catch(rethrowUnavailable);
  }
}

/** A failure another attempt may mend: no HTTP answer at all (the store was not reached), or a 5xx, 408 or 429. */
function unavailableOr(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof MediaStoreUnavailableError) return error;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status !== undefined && status < 500 && status !== 408 && status !== 429) return error;
  return new MediaStoreUnavailableError(`the S3 media store is unavailable: ${error.message || error.name}`, { cause: error });
}

function rethrowUnavailable(error: unknown): never {
  throw unavailableOr(error);
}

/** Keys are relative paths, as in the filesystem store: no leading slash, no empty, `.` or `..` segment. */
function checkedKey(key: string): string {
  if (key.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) throw new Error(`invalid media key: ${key}`);
  return key;
}

/** Aborts the request behind a stream its reader closed early (a client that went away mid-video). */
function abortedWhenClosed(stream: PassThrough): AbortSignal {
  const controller = new AbortController();
  stream.once('close', () => {
    if (!stream.readableEnded) controller.abort();
  });
  return controller.signal;
}
