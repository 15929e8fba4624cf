import { constants, createReadStream, createWriteStream } from 'node:fs';
import { access, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { JobKind } from '../domain/job-kinds.js';

/** Where uploaded frames live. Keys are relative paths under a job's prefix (`jobMediaPrefix`), such as `alarms/<job id>/frame_00.jpg`. */
export interface MediaStore {
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Stores a stream as it arrives (videos), never whole in memory; the key appears only once it is complete. Answers the bytes written. */
  putStream(key: string, source: Readable): Promise<number>;
  get(key: string): Promise<Buffer>;
  /** Removes a key and everything below it; missing keys are fine. */
  remove(key: string): Promise<void>;
  /** Size and modification time of a stored object, or undefined when there is none. */
  stat(key: string): Promise<StoredObjectInfo | undefined>;
  /** The object's bytes, or the inclusive byte range `start`–`end` of them. */
  read(key: string, range?: { start: number; end: number }): Readable;
  /**
   * Runs `use` with a path on local disk holding the object (for tools such as ffmpeg that read files):
   * the stored file itself where the store is a directory, else a temporary copy removed afterwards.
   */
  withLocalFile<T>(key: string, use: (localPath: string) => Promise<T>): Promise<T>;
  /** Resolves when the store can be read and written (readiness checks, start-up); throws with the reason otherwise. */
  check(): Promise<void>;
}

/**
 * The store could not be reached, or answered that it cannot serve now (a network failure, a timeout, a 5xx or
 * 429 from S3): another attempt may get through. Activities let it propagate (Temporal retries it); the API
 * answers 503 with Retry-After.
 */
export class MediaStoreUnavailableError extends Error {
  override name = 'MediaStoreUnavailableError';
}

export interface StoredObjectInfo {
  size: number;
  modifiedAt: Date;
}

export class FileSystemMediaStore implements MediaStore {
  constructor(private readonly root: string) {}

  private resolve(key: string): string {
    const full = path.resolve(this.root, key);
    if (!full.startsWith(path.resolve(this.root) + path.sep)) throw new Error(`media key escapes the store: ${key}`);
    return full;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const target = this.resolve(key);
    await mkdir(path.dirname(target), { recursive: true });
    // Write then rename, so a reader never sees a half-written frame.
    const temporary = `${target}.${randomUUID()}.tmp`;
    await writeFile(temporary, bytes);
    await rename(temporary, target);
  }

  async putStream(key: string, source: Readable): Promise<number> {
    const target = this.resolve(key);
    await mkdir(path.dirname(target), { recursive: true });
    const temporary = `${target}.${randomUUID()}.tmp`;
    let written = 0;
    source.on('data', (chunk: Buffer) => (written += chunk.length));
    try {
      await pipeline(source, createWriteStream(temporary));
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return written;
  }

  async get(key: string): Promise<Buffer> {
    return readFile(this.resolve(key));
  }

  async remove(key: string): Promise<void> {
    await rm(this.resolve(key), { recursive: true, force: true });
  }

  async stat(key: string): Promise<StoredObjectInfo | undefined> {
    try {
      const info = await stat(this.resolve(key));
      return info.isFile() ? { size: info.size, modifiedAt: info.mtime } : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  read(key: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.resolve(key), range);
  }

  async withLocalFile<T>(key: string, use: (localPath: string) => Promise<T>): Promise<T> {
    return use(this.resolve(key));
  }

  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root, constants.R_OK | constants.W_OK);
  }
}

const mediaFolderOfKind: Record<JobKind, string> = {
  alarm: 'alarms',
  video: 'videos',
  image_batch: 'image-batches',
  classification: 'classifications',
  vms_incident: 'vms-incidents',
};

/** Where a job's media live: everything of the job is under this prefix, so erasing it removes them all. */
export function jobMediaPrefix(kind: JobKind, jobId: string): string {
  return `${mediaFolderOfKind[kind]}/${jobId}`;
}
