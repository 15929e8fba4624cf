import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FacesTextRepository, type MediaFace, type MediaTextLine } from '../../db/repositories/faces-text.js';
import { JobErasureRepository } from '../../db/repositories/job-erasure.js';
import { JobRepository } from '../../db/repositories/jobs.js';
import { migratedDatabase } from '../support/database.js';
import { seedAccount, seedCamera, seedJob } from '../support/seed.js';

const db = migratedDatabase();

const descriptor = (seed: number) => Array.from({ length: 1024 }, (_, i) => Math.round(Math.sin(seed + i) * 1e4) / 1e4);
const face = (timestampS: number, withData: boolean): MediaFace => ({
  timestampS,
  frameWidth: 1280,
  frameHeight: 720,
  box: [10, 20, 60, 80],
  score: 0.91,
  age: 40.5,
  gender: 'unidentified',
  ...(withData ? { descriptor: descriptor(timestampS), thumbnail: Buffer.from([0xff, 0xd8, timestampS]) } : {}),
});
const line = (timestampS: number, text: string): MediaTextLine => ({ timestampS, text, confidence: 0.95, box: [0, 0, 200, 30] });

describe('faces and text read in a job\'s media, in PostgreSQL', () => {
  test('parts are stored under their account, replaced when stored again, read in time order, and erased with the job', async () => {
    const repository = new FacesTextRepository(db());
    const [acme, globex] = await Promise.all([seedAccount(db()), seedAccount(db())]);
    const job = await seedJob(db(), await seedCamera(db(), acme));

    assert.equal(
      await repository.replaceParts(acme, job, [
        { partIndex: 1, faces: [face(12, true)], lines: [line(12, 'EXIT 12')] },
        { partIndex: 0, faces: [face(3, true), face(1, false)], lines: [line(1, 'CAM 04'), line(1, '2019-10-24')] },
      ]),
      true,
    );
    const faces = await repository.faces(acme, job);
    assert.deepEqual(faces.map((f) => [f.partIndex, f.timestampS]), [[0, 1], [0, 3], [1, 12]]);
    // A face stored while face analysis was off has neither descriptor nor thumbnail.
    assert.equal(faces[0]!.descriptor, undefined);
    assert.equal(faces[0]!.thumbnail, undefined);
    assert.deepEqual([faces[1]!.box, faces[1]!.gender, faces[1]!.frameWidth, [...faces[1]!.thumbnail!]], [[10, 20, 60, 80], 'unidentified', 1280, [0xff, 0xd8, 3]]);
    Array.from(faces[1]!.descriptor!).forEach((value, i) => assert.ok(Math.abs(value - descriptor(3)[i]!) < 1e-6));
    assert.deepEqual((await repository.textLines(acme, job)).map((l) => l.text), ['CAM 04', '2019-10-24', 'EXIT 12']);
    assert.deepEqual((await repository.textLines(acme, job, [1])).map((l) => l.text), ['EXIT 12']);
    assert.deepEqual(await repository.faces(globex, job), []);
    assert.deepEqual(await repository.textLines(globex, job), []);

    // Part 0 again (a retried chunk): its rows are replaced, part 1 stays.
    assert.equal(await repository.replaceParts(acme, job, [{ partIndex: 0, faces: [], lines: [line(2, 'CAM 05')] }]), true);
    assert.deepEqual((await repository.faces(acme, job)).map((f) => f.timestampS), [12]);
    assert.deepEqual((await repository.textLines(acme, job)).map((l) => l.text), ['CAM 05', 'EXIT 12']);

    await db().transaction().execute((trx) => new JobErasureRepository(trx).erase(acme, job));
    const left = await Promise.all([
      db().selectFrom('media_faces').select('id').where('job_id', '=', job).execute(),
      db().selectFrom('media_text_lines').select('id').where('job_id', '=', job).execute(),
    ]);
    assert.deepEqual(left.map((rows) => rows.length), [0, 0]);
  });

  test('nothing is stored for a job that has ended or does not exist', async () => {
    const repository = new FacesTextRepository(db());
    const acme = await seedAccount(db());
    const job = await seedJob(db(), await seedCamera(db(), acme));
    await new JobRepository(db()).fail(acme, job, { code: 'CANCELLED', message: 'cancelled' }, 'cancelled');
    assert.equal(await repository.replaceParts(acme, job, [{ partIndex: 0, faces: [face(1, true)], lines: [] }]), false);
    assert.deepEqual(await repository.faces(acme, job), []);
    assert.equal(await repository.replaceParts(acme, 'video_000000000000000000000000', [{ partIndex: 0, faces: [], lines: [] }]), false);
  });
});
