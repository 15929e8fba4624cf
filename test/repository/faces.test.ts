import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FaceRepository, type NewFace } from '../../db/repositories/faces.js';
import { JobErasureRepository } from '../../db/repositories/job-erasure.js';
import { migratedDatabase } from '../support/database.js';
import { seedAccount, seedCamera, seedJob } from '../support/seed.js';

const db = migratedDatabase();

const descriptor = (seed: number) => Array.from({ length: 1024 }, (_, i) => Math.round(Math.sin(seed + i) * 1e4) / 1e4);
const face = (seed: number): NewFace => ({
  mediaKey: `alarms/x/frame-${seed}.jpg`,
  box: [10, 20, 60, 80],
  score: 0.93,
  age: 31.5,
  gender: 'female',
  descriptor: descriptor(seed),
  thumbnail: Buffer.from([0xff, 0xd8, seed]),
});

describe('faces and the face allowlist in PostgreSQL', () => {
  test('face analysis is off for a new account and turned on and off per account', async () => {
    const faces = new FaceRepository(db());
    const [acme, globex] = await Promise.all([seedAccount(db()), seedAccount(db())]);
    assert.equal(await faces.faceAnalysisEnabled(acme), false);
    assert.equal(await faces.setFaceAnalysis(acme, true), true);
    assert.equal(await faces.faceAnalysisEnabled(acme), true);
    assert.equal(await faces.faceAnalysisEnabled(globex), false);
    await faces.setFaceAnalysis(acme, false);
    assert.equal(await faces.faceAnalysisEnabled(acme), false);
  });

  test('a job\'s faces are kept under its account, descriptors intact, and erased with the job', async () => {
    const faces = new FaceRepository(db());
    const acme = await seedAccount(db());
    const globex = await seedAccount(db());
    const job = await seedJob(db(), await seedCamera(db(), acme));
    const ids = await faces.addFaces(acme, job, [face(1), face(2)]);
    assert.equal(ids.length, 2);
    const stored = await faces.facesOfJob(acme, job);
    // Faces written together share their created_at: compare them as a set.
    assert.deepEqual(stored.map((f) => f.id).sort(), [...ids].sort());
    const first = stored.find((f) => f.id === ids[0])!;
    assert.deepEqual([first.mediaKey, first.box, first.gender, first.age], ['alarms/x/frame-1.jpg', [10, 20, 60, 80], 'female', 31.5]);
    assert.equal(first.descriptor.length, 1024);
    first.descriptor.forEach((value, i) => assert.ok(Math.abs(value - descriptor(1)[i]!) < 1e-6));
    assert.deepEqual([...first.thumbnail], [0xff, 0xd8, 1]);
    assert.deepEqual((await faces.facesOfJob(acme, job, [ids[1]!])).map((f) => f.id), [ids[1]]);
    assert.deepEqual(await faces.facesOfJob(globex, job), []);

    await db().transaction().execute((trx) => new JobErasureRepository(trx).erase(acme, job));
    assert.deepEqual(await faces.facesOfJob(acme, job), []);
    assert.equal((await db().selectFrom('faces').select('id').where('id', 'in', ids).execute()).length, 0);
  });

  test('allowlist entries list with their photo counts, per account, and go with their descriptors', async () => {
    const faces = new FaceRepository(db());
    const acme = await seedAccount(db());
    const globex = await seedAccount(db());
    const guard = await faces.addAllowlistEntry(acme, 'Night guard', [descriptor(1), descriptor(2), descriptor(3)]);
    const cleaner = await faces.addAllowlistEntry(acme, 'Cleaner', [descriptor(4)]);
    assert.deepEqual(
      (await faces.allowlist(acme)).map((e) => [e.id, e.name, e.photos]),
      [
        [guard.id, 'Night guard', 3],
        [cleaner.id, 'Cleaner', 1],
      ],
    );
    assert.deepEqual(await faces.allowlist(globex), []);
    assert.equal((await faces.allowlistDescriptors(acme)).length, 4);
    assert.deepEqual(await faces.allowlistDescriptors(globex), []);

    assert.equal(await faces.deleteAllowlistEntry(globex, guard.id), false);
    assert.equal(await faces.deleteAllowlistEntry(acme, guard.id), true);
    assert.deepEqual((await faces.allowlistDescriptors(acme)).map((d) => d.entryId), [cleaner.id]);
    assert.equal(await faces.deleteAllowlistEntry(acme, guard.id), false);
  });

  test('photos described by the dlib ResNet before FaceRes are kept but count for nothing and match no one', async () => {
    const faces = new FaceRepository(db());
    const acme = await seedAccount(db());
    const old = await faces.addAllowlistEntry(acme, 'Enrolled before', [descriptor(5)]);
    // As the migration leaves a photo from before: the old model's 128 values.
    await db().updateTable('face_allowlist_photos').set({ descriptor: descriptor(5).slice(0, 128), descriptor_model: 'dlib-resnet-128' }).where('entry_id', '=', old.id).execute();
    const current = await faces.addAllowlistEntry(acme, 'Enrolled again', [descriptor(6), descriptor(7)]);
    assert.deepEqual(
      (await faces.allowlist(acme)).map((e) => [e.id, e.photos]),
      [
        [old.id, 0],
        [current.id, 2],
      ],
    );
    assert.deepEqual((await faces.allowlistDescriptors(acme)).map((d) => [d.entryId, d.descriptor.length]), [
      [current.id, 1024],
      [current.id, 1024],
    ]);
    // A descriptor's length must be its model's.
    await assert.rejects(db().updateTable('face_allowlist_photos').set({ descriptor_model: 'hse-faceres-1024' }).where('entry_id', '=', old.id).execute(), /descriptor_check/);
  });
});
