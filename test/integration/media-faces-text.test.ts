import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import sharp from 'sharp';
import type { VideoResult } from '../../db/schema.js';
import { FACE_MATCH_THRESHOLD } from '../../domain/faces/allowlist-match.js';
import type { PersonId } from '../../domain/faces/cluster.js';
import { scoreLines, summariseScores, type ExpectedLine } from '../../domain/text/accuracy.js';
import { runVigilCli } from '../support/cli.js';
import { peopleAndTextShots, slideshowClip } from '../support/clips.js';
import { fixturesDir } from '../support/paths.js';
import { startStack, type TestStack } from '../support/stack.js';
import { postVideo, waitForVideo } from '../support/videos.js';
import { waitFor } from '../support/wait.js';

const faces = (relative: string) => path.join(fixturesDir, 'faces', relative);
const textDir = path.join(fixturesDir, 'text');

async function slideshow(dir: string): Promise<Buffer> {
  const out = path.join(dir, 'people.mp4');
  await slideshowClip(peopleAndTextShots(), out);
  return readFile(out);
}

interface GroundTruth {
  images: { file: string; lines: (ExpectedLine & { legibility: string })[] }[];
}

interface BatchItem {
  external_id: string;
  status: string;
  result?: { person_ids: PersonId[]; ocr_results: { full_text: string; language_code?: string; time_segment?: unknown }[] };
}

const peopleOf = (result: VideoResult) => result.person_constellation_scenes.map((scene) => scene.person_ids as PersonId[]);

describe('faces and text in videos and image batches', () => {
  let stack: TestStack;
  let acme: string;
  let globex: string;
  let clip: Buffer;
  let tmp: string;
  let acmeJob: string;
  let acmeResult: VideoResult;

  const json = async <T>(token: string, route: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${stack.baseUrl}${route}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
    return { status: response.status, body: (await response.json()) as T };
  };
  /** An image batch of these files submitted as `token`, waited for to its end: its id and its document. */
  const analysedBatch = async (token: string, images: { external_id: string; file: string }[]) => {
    const body = { images: await Promise.all(images.map(async (image) => ({ external_id: image.external_id, data_base64: (await readFile(image.file)).toString('base64') }))) };
    const submitted = await json<{ job_id: string }>(token, '/api/v1/images', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const done = await waitFor(
      'the batch to end',
      async () => {
        const { body: batch } = await json<{ status: string; items: BatchItem[] }>(token, `/api/v1/images/${submitted.body.job_id}`);
        return ['finished', 'failed', 'cancelled'].includes(batch.status) ? batch : undefined;
      },
      600_000,
      500,
    );
    assert.equal(done.status, 'finished', JSON.stringify(done));
    return { jobId: submitted.body.job_id, done };
  };
  const facesOfJob = async (jobId: string) => {
    const { rows } = await sql<{ faces: number; described: number; thumbnails: number; lines: number }>`
      select (select count(*) from media_faces where job_id = ${jobId})::int as faces,
             (select count(*) from media_faces where job_id = ${jobId} and descriptor is not null)::int as described,
             (select count(*) from media_faces where job_id = ${jobId} and thumbnail is not null)::int as thumbnails,
             (select count(*) from media_text_lines where job_id = ${jobId})::int as lines`.execute(stack.db);
    return rows[0]!;
  };

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'vigil-faces-text-'));
    [stack, clip] = await Promise.all([startStack(), slideshow(tmp)]);
    [acme, globex] = await Promise.all([stack.createToken('acme'), stack.createToken('globex')]);
    await runVigilCli(stack.config.database.url, ['faces', 'enable', '--account', 'acme']);
    // Lisa is on acme's allowlist from two other photos of her; the clip shows a third.
    const form = new FormData();
    form.append('name', 'Lisa');
    for (const file of ['webmorph_lisa1.jpg', 'webmorph_zoom_30cm.jpg']) form.append('photos', new Blob([await readFile(faces(`lisa/${file}`))], { type: 'image/jpeg' }), file);
    const added = await json<unknown>(acme, '/api/v1/faces/allowlist', { method: 'POST', body: form });
    assert.equal(added.status, 201, JSON.stringify(added.body));
  });
  after(async () => {
    await stack?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test('a clip with people yields distinct people per scene with thumbnails, the allowlisted one marked, and its text', async () => {
    const accepted = await postVideo(stack.baseUrl, acme, clip);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    acmeJob = accepted.body.job_id;
    const done = await waitForVideo(stack.baseUrl, acme, acmeJob, 600_000);
    assert.equal(done.status, 'finished', JSON.stringify(done));
    acmeResult = done.result!;

    assert.equal(acmeResult.raw_scenes.length, 4, JSON.stringify(acmeResult.raw_scenes));
    assert.deepEqual(acmeResult.person_constellation_scenes.map((scene) => scene.time_segment), acmeResult.raw_scenes);
    const people = peopleOf(acmeResult);
    // One face in each of the three shots of a person, none in the traffic picture.
    assert.deepEqual(people.map((scene) => scene.length), [1, 1, 0, 1], JSON.stringify(people.map((scene) => scene.map(({ age, gender, allowlisted }) => ({ age, gender, allowlisted })))));
    const [stranger, lisa, , otherStranger] = people.map((scene) => scene[0]);
    assert.equal(lisa!.allowlisted, true);
    assert.equal(stranger!.allowlisted, false);
    assert.equal(otherStranger!.allowlisted, false);
    // Three distinct people: three different embeddings, further apart than a match.
    const embeddings = [stranger!, lisa!, otherStranger!].map((person) => person.face_embedding!);
    assert.ok(embeddings.every((embedding) => embedding.length === 1024));
    const distance = (a: number[], b: number[]) => Math.hypot(...a.map((value, i) => value - b[i]!));
    assert.ok(
      [distance(embeddings[0]!, embeddings[1]!), distance(embeddings[0]!, embeddings[2]!), distance(embeddings[1]!, embeddings[2]!)].every((d) => d > FACE_MATCH_THRESHOLD),
      JSON.stringify([distance(embeddings[0]!, embeddings[1]!), distance(embeddings[0]!, embeddings[2]!), distance(embeddings[1]!, embeddings[2]!)]),
    );
    for (const person of [stranger!, lisa!, otherStranger!]) {
      const thumbnail = await sharp(Buffer.from(person.face_thumbnail!, 'base64')).metadata();
      assert.equal(thumbnail.format, 'jpeg');
      assert.ok(thumbnail.width! > 16 && thumbnail.width! <= 112);
      assert.ok(person.age > 5 && person.age < 80);
      assert.equal(person.relative_prominence, 1, 'alone in its scene, each person is its most prominent');
    }
    assert.equal(stranger!.gender, 'male');

    // The traffic camera's timestamp is read on the keyframe of its scene (6–9 s) and reported once, for that
    // scene. Shrunk to two thirds in the clip, its space may be lost: how well lines are read is measured on the
    // stills (last test, BENCHMARKS.md).
    const timestamp = acmeResult.ocr_results.filter((result) => result.full_text.replaceAll(' ', '') === '2019-10-2409:06:10');
    assert.equal(timestamp.length, 1, JSON.stringify(acmeResult.ocr_results));
    const textScene = acmeResult.raw_scenes[2]!;
    assert.ok(timestamp[0]!.time_segment!.start_seconds - textScene.start_seconds <= 0.5 + 1e-6, JSON.stringify([timestamp, textScene]));
    assert.equal(timestamp[0]!.time_segment!.end_seconds, textScene.end_seconds);
    for (const result of acmeResult.ocr_results) {
      const segment = result.time_segment!;
      assert.ok(acmeResult.raw_scenes.some((scene) => segment.start_seconds >= scene.start_seconds && segment.end_seconds <= scene.end_seconds), JSON.stringify(result));
    }

    // Descriptors and thumbnails wait in PostgreSQL, never in the workflow's history.
    const stored = await facesOfJob(acmeJob);
    assert.ok(stored.faces >= 3 && stored.described === stored.faces && stored.thumbnails === stored.faces, JSON.stringify(stored));
    const history = JSON.stringify(await stack.temporal.workflow.getHandle(acmeJob).fetchHistory());
    // FaceRes's values are small and many are 0, so one value alone could be in the history by chance: three in a row, from the largest.
    const embedding = lisa!.face_embedding!;
    const largest = embedding.indexOf(Math.max(...embedding));
    const run = embedding.slice(largest, largest + 3).join(',');
    assert.ok(!history.includes(run) && !history.includes(lisa!.face_thumbnail!.slice(0, 40)));
  });

  test('an account with face analysis off gets people without embeddings or thumbnails, and nothing of their faces is stored', async () => {
    const accepted = await postVideo(stack.baseUrl, globex, clip);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const done = await waitForVideo(stack.baseUrl, globex, accepted.body.job_id, 600_000);
    assert.equal(done.status, 'finished', JSON.stringify(done));
    // Who is who cannot be told without descriptors: each scene counts the faces of its busiest frame.
    assert.deepEqual(peopleOf(done.result!).map((scene) => scene.length), [1, 1, 0, 1], JSON.stringify(done.result!.person_constellation_scenes));
    const people = peopleOf(done.result!).flat();
    for (const person of people) {
      assert.deepEqual([person.face_embedding, person.face_thumbnail, person.allowlisted], [undefined, undefined, false]);
      assert.ok(['male', 'female', 'unidentified'].includes(person.gender));
    }
    const stored = await facesOfJob(accepted.body.job_id);
    assert.ok(stored.faces >= 3, JSON.stringify(stored));
    assert.deepEqual([stored.described, stored.thumbnails], [0, 0]);
  });

  test('an erased job leaves no face or text row', async () => {
    assert.ok(acmeJob, 'the first test submitted the job');
    const before = await facesOfJob(acmeJob);
    assert.ok(before.faces > 0 && before.lines > 0);
    const erased = await fetch(`${stack.baseUrl}/api/v1/jobs/${acmeJob}`, { method: 'DELETE', headers: { authorization: `Bearer ${acme}` } });
    assert.equal(erased.status, 204);
    assert.deepEqual(await facesOfJob(acmeJob), { faces: 0, described: 0, thumbnails: 0, lines: 0 });
  });

  test('an image batch: the text fixtures\' lines come back in ocr_results, faces are matched against the allowlist', async () => {
    const truth = JSON.parse(await readFile(path.join(textDir, 'ground_truth.json'), 'utf8')) as GroundTruth;
    const images = [
      ...truth.images.map((image) => ({ external_id: image.file, file: path.join(textDir, image.file) })),
      { external_id: 'lisa', file: faces('lisa/webmorph_lisa4.jpg') },
      { external_id: 'stranger', file: faces('asl_m2/asl_bird_t1.50.jpg') },
    ];
    const { done } = await analysedBatch(acme, images);
    const byId = new Map(done.items.map((item) => [item.external_id, item]));

    const scores = truth.images.flatMap((image) => {
      const read = byId.get(image.file)!.result!.ocr_results;
      assert.ok(read.every((result) => result.time_segment === undefined), 'an image\'s text has no time');
      return scoreLines(image.lines, read.map((result) => result.full_text));
    });
    const summary = summariseScores(scores);
    // The reader reads about four lines in five of these exactly (BENCHMARKS.md); the clear timestamps always.
    assert.ok(summary.exactShare >= 0.7, JSON.stringify(scores.filter((score) => !score.exact)));
    for (const line of ['2019-10-24 09:06:10', '2019-10-23 21:00:02']) assert.ok(scores.find((score) => score.expected === line)?.exact, line);

    const [lisa, stranger] = ['lisa', 'stranger'].map((id) => byId.get(id)!.result!.person_ids);
    assert.equal(lisa!.length, 1);
    assert.equal(lisa![0]!.allowlisted, true);
    assert.equal(stranger!.length, 1);
    assert.equal(stranger![0]!.allowlisted, false);
    assert.ok(stranger![0]!.face_embedding?.length === 1024 && stranger![0]!.face_thumbnail);
  });

  test('an image batch of an account with face analysis off: its people have no embedding or thumbnail, none stored, its text still read', async () => {
    const images = [
      { external_id: 'lisa', file: faces('lisa/webmorph_lisa4.jpg') },
      { external_id: 'text', file: path.join(textDir, 'otl_hannover_K50_day_timestamp.jpg') },
    ];
    const { jobId, done } = await analysedBatch(globex, images);
    const byId = new Map(done.items.map((item) => [item.external_id, item.result!]));
    const lisa = byId.get('lisa')!.person_ids;
    assert.equal(lisa.length, 1);
    assert.deepEqual([lisa[0]!.face_embedding, lisa[0]!.face_thumbnail, lisa[0]!.allowlisted], [undefined, undefined, false]);
    assert.ok(byId.get('text')!.ocr_results.length > 0);
    const stored = await facesOfJob(jobId);
    assert.ok(stored.faces >= 1 && stored.lines > 0, JSON.stringify(stored));
    assert.deepEqual([stored.described, stored.thumbnails], [0, 0]);
  });
});
