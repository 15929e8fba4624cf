import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { FileSystemMediaStore } from '../../media/store.js';

async function withStore(use: (store: FileSystemMediaStore, root: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'vigil-store-'));
  try {
    await use(new FileSystemMediaStore(root), root);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test('putStream stores what arrives and answers its size; withLocalFile reads it from disk', async () => {
  await withStore(async (store) => {
    const chunks = [Buffer.alloc(70_000, 1), Buffer.alloc(30_000, 2)];
    const written = await store.putStream('videos/v1/source', Readable.from(chunks));
    assert.equal(written, 100_000);
    assert.equal((await store.stat('videos/v1/source'))?.size, 100_000);
    const onDisk = await store.withLocalFile('videos/v1/source', (localPath) => readFile(localPath));
    assert.deepEqual(onDisk, Buffer.concat(chunks));
  });
});

test('a stream that fails midway leaves no object and no temporary file', async () => {
  await withStore(async (store, root) => {
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(10_000));
        this.destroy(new Error('client went away'));
      },
    });
    await assert.rejects(store.putStream('videos/v2/source', failing), /client went away/);
    assert.equal(await store.stat('videos/v2/source'), undefined);
    assert.deepEqual(await readdir(path.join(root, 'videos/v2')), []);
  });
});

test('check creates the store directory and answers once it is writable', async () => {
  await withStore(async (_store, root) => {
    const store = new FileSystemMediaStore(path.join(root, 'not-yet'));
    await store.check();
    assert.deepEqual(await readdir(root), ['not-yet']);
  });
});
