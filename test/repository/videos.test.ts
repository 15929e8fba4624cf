import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VideoRepository, type StoredVideoFrame } from '../../db/repositories/videos.js';
import { migratedDatabase } from '../support/database.js';
import { seedAccount, seedCamera, seedJob } from '../support/seed.js';

const db = migratedDatabase();

const frame = (timestampS: number): StoredVideoFrame => ({ timestampS, width: 1280, height: 720, meanLuma: 0.4, detections: [] });

test('a video\'s frames are read in time order, all of them or those of the chunks up to one, only by their account', async () => {
  const videos = new VideoRepository(db());
  const [acme, globex] = await Promise.all([seedAccount(db()), seedAccount(db())]);
  const job = await seedJob(db(), await seedCamera(db(), acme));
  // Stored out of order, as a retried chunk would be.
  for (const chunkIndex of [2, 0, 1]) {
    const startS = chunkIndex * 10;
    assert.equal(await videos.storeChunk(acme, job, { chunkIndex, startS, endS: startS + 10, frames: [frame(startS + 5), frame(startS)] }), true);
  }
  assert.deepEqual((await videos.frames(acme, job)).map((f) => f.timestampS), [0, 5, 10, 15, 20, 25]);
  assert.deepEqual((await videos.frames(acme, job, 1)).map((f) => f.timestampS), [0, 5, 10, 15]);
  assert.deepEqual((await videos.frames(acme, job, 0)).map((f) => f.timestampS), [0, 5]);
  assert.deepEqual(await videos.frames(globex, job, 2), []);
});
