import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { S3MediaStore } from '../../media/s3-store.js';
import { MediaStoreUnavailableError } from '../../media/store.js';
import { startS3Server, type S3TestServer } from '../support/s3-server.js';

/** The S3 media store against a real S3 server (versitygw), as every role uses it with MEDIA_STORE=s3. */

const MiB = 1024 * 1024;

describe('S3 media store', { timeout: 5 * 60_000 }, () => {
  let server: S3TestServer;

  before(async () => {
    server = await startS3Server();
  });
  after(async () => {
    await server?.stop();
  });

  test('put, get and stat; a missing key has no stat and cannot be read', async () => {
    const bytes = randomBytes(40_000);
    await server.store.put('alarms/al_1/frame_00.jpg', bytes);
    assert.deepEqual(await server.store.get('alarms/al_1/frame_00.jpg'), bytes);
    const info = await server.store.stat('alarms/al_1/frame_00.jpg');
    assert.equal(info?.size, 40_000);
    assert.ok(Math.abs(info!.modifiedAt.getTime() - Date.now()) < 60_000, `modified ${info!.modifiedAt.toISOString()}`);
    assert.equal(await server.store.stat('alarms/al_1/frame_99.jpg'), undefined);
    assert.equal(await server.store.stat('alarms/al_1'), undefined, 'a prefix is no object');
    await assert.rejects(server.store.get('alarms/al_1/frame_99.jpg'), { name: 'NoSuchKey' });
  });

  test('keys that would escape their prefix are refused', async () => {
    for (const key of ['../other', 'alarms//x', '/alarms/x', 'alarms/./x', 'alarms/x/']) {
      await assert.rejects(server.store.put(key, Buffer.from('x')), /invalid media key/, key);
    }
  });

  test('putStream uploads a large video in parts, answers its size, and reads back whole', async () => {
    const store = new S3MediaStore({ client: server.client, bucket: server.bucket, partSizeBytes: 5 * MiB });
    const chunks = Array.from({ length: 12 }, () => randomBytes(MiB));
    const written = await store.putStream('videos/vid_1/source', Readable.from(chunks));
    assert.equal(written, 12 * MiB);
    assert.equal((await store.stat('videos/vid_1/source'))?.size, 12 * MiB);
    // A multipart upload's ETag ends in the number of its parts: 5 + 5 + 2 MiB.
    const head = await server.client.send(new HeadObjectCommand({ Bucket: server.bucket, Key: 'videos/vid_1/source' }));
    assert.match(head.ETag ?? '', /-3"?$/);
    assert.ok((await store.get('videos/vid_1/source')).equals(Buffer.concat(chunks)));
  });

  test('a stream that fails midway leaves no object and no unfinished upload', async () => {
    const store = new S3MediaStore({ client: server.client, bucket: server.bucket, partSizeBytes: 5 * MiB });
    let sent = 0;
    const failing = new Readable({
      read() {
        // Two parts' worth arrive, so parts were uploaded, then the client goes away.
        if (sent >= 11 * MiB) return this.destroy(new Error('client went away'));
        sent += MiB;
        this.push(randomBytes(MiB));
      },
    });
    await assert.rejects(store.putStream('videos/vid_2/source', failing), /client went away/);
    assert.equal(await store.stat('videos/vid_2/source'), undefined);
    const uploads = await server.client.send(new ListMultipartUploadsCommand({ Bucket: server.bucket, Prefix: 'videos/vid_2/' }));
    assert.deepEqual(uploads.Uploads ?? [], [], 'the multipart upload was aborted');
  });

  test('read streams the object or an inclusive byte range; a missing key fails the stream', async () => {
    await server.store.put('videos/vid_3/clip.mp4', Buffer.from('0123456789abcdef'));
    assert.equal(await text(server.store.read('videos/vid_3/clip.mp4')), '0123456789abcdef');
    assert.equal(await text(server.store.read('videos/vid_3/clip.mp4', { start: 5, end: 9 })), '56789');
    assert.equal(await text(server.store.read('videos/vid_3/clip.mp4', { start: 15, end: 15 })), 'f');
    await assert.rejects(text(server.store.read('videos/vid_3/none.mp4')), { name: 'NoSuchKey' });
  });

  test('remove erases a prefix of more than a thousand keys, and nothing beside it', async () => {
    const keys = Array.from({ length: 1050 }, (_, index) => `alarms/al_2/detections/d_${index}/image.jpg`);
    for (let index = 0; index < keys.length; index += 50) {
      await Promise.all(keys.slice(index, index + 50).map((key) => server.store.put(key, Buffer.from(key))));
    }
    await server.store.put('alarms/al_2/frame_00.jpg', Buffer.from('frame'));
    // Shares the characters of the prefix, yet is another job's.
    await server.store.put('alarms/al_20/frame_00.jpg', Buffer.from('other job'));
    assert.equal((await server.keys('alarms/al_2/')).length, 1051);

    await server.store.remove('alarms/al_2');
    assert.deepEqual(await server.keys('alarms/al_2/'), []);
    assert.deepEqual(await server.keys('alarms/al_20/'), ['alarms/al_20/frame_00.jpg']);
    await server.store.remove('alarms/al_2');
    await server.store.remove('alarms/never_stored');
  });

  test('withLocalFile hands a temporary copy to the tool and removes it afterwards, also when the tool fails', async () => {
    const bytes = randomBytes(100_000);
    await server.store.put('videos/vid_4/source.mp4', bytes);
    let seenPath = '';
    const read = await server.store.withLocalFile('videos/vid_4/source.mp4', async (localPath) => {
      seenPath = localPath;
      return readFile(localPath);
    });
    assert.ok(read.equals(bytes));
    assert.match(seenPath, /source\.mp4$/, 'the key name, extension included');
    assert.equal(existsSync(seenPath), false);

    await assert.rejects(
      server.store.withLocalFile('videos/vid_4/source.mp4', async (localPath) => {
        seenPath = localPath;
        throw new Error('ffmpeg failed');
      }),
      /ffmpeg failed/,
    );
    assert.equal(existsSync(seenPath), false);
  });

  test('check answers while the server does, and throws while it is down', async () => {
    await server.store.check();
    await server.kill();
    try {
      // Unavailable, not missing: retryable by Temporal, a 503 from the API.
      await assert.rejects(server.store.check(), MediaStoreUnavailableError);
      await assert.rejects(server.store.get('alarms/al_1/frame_00.jpg'), MediaStoreUnavailableError);
      await assert.rejects(server.store.stat('alarms/al_1/frame_00.jpg'), MediaStoreUnavailableError);
      await assert.rejects(text(server.store.read('alarms/al_1/frame_00.jpg')), MediaStoreUnavailableError);
    } finally {
      await server.start();
    }
    await server.store.check();
    assert.equal((await server.store.get('alarms/al_1/frame_00.jpg')).length, 40_000, 'the data outlived the restart');
  });
});
