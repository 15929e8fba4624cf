import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { api } from '../support/alarms.js';
import { runVigilCli } from '../support/cli.js';
import { fixturesDir } from '../support/paths.js';
import { startStack, type TestStack } from '../support/stack.js';

interface Entry {
  id: string;
  name: string;
  photo_count: number;
  created_at: string;
}

const facesDir = path.join(fixturesDir, 'faces');

function allowlistForm(name: string | undefined, photos: { bytes: Uint8Array; type: string }[]): FormData {
  const form = new FormData();
  if (name !== undefined) form.append('name', name);
  photos.forEach((photo, i) => form.append('photos', new Blob([photo.bytes], { type: photo.type }), `photo${i}`));
  return form;
}

describe('face allowlist API', () => {
  let stack: TestStack;
  let owner: string;
  let stranger: string;
  let lisa: { bytes: Uint8Array; type: string }[];
  let twoFaces: { bytes: Uint8Array; type: string };
  let noFace: { bytes: Uint8Array; type: string };

  before(async () => {
    stack = await startStack({ detectionWorker: false });
    [owner, stranger] = await Promise.all([stack.createToken('acme'), stack.createToken('globex')]);
    lisa = await Promise.all(['webmorph_lisa1.jpg', 'webmorph_zoom_30cm.jpg'].map(async (file) => ({ bytes: await readFile(path.join(facesDir, 'lisa', file)), type: 'image/jpeg' })));
    // Two people side by side: one photo of each, joined.
    const left = await sharp(path.join(facesDir, 'asl_m1/asl_again_t0.50.jpg')).resize(640, 480).toBuffer();
    const right = await sharp(path.join(facesDir, 'asl_f1/asl_book_t1.00.jpg')).resize(640, 480).toBuffer();
    twoFaces = {
      bytes: await sharp({ create: { width: 1280, height: 480, channels: 3, background: '#000' } })
        .composite([{ input: left, left: 0, top: 0 }, { input: right, left: 640, top: 0 }])
        .jpeg()
        .toBuffer(),
      type: 'image/jpeg',
    };
    noFace = { bytes: await readFile(path.join(fixturesDir, 'text/otl_hannover_K50_day_timestamp.jpg')), type: 'image/jpeg' };
  });
  after(async () => {
    await stack?.stop();
  });

  const post = (token: string, form: FormData) => api<Entry>(stack.baseUrl, '/api/v1/faces/allowlist', { method: 'POST', body: form, token });

  test('is refused with a stable code while face analysis is off for the account', async () => {
    const refused = await post(owner, allowlistForm('Night guard', lisa));
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error?.code, 'FACE_ANALYSIS_DISABLED');
    const listed = await api<{ items: Entry[] }>(stack.baseUrl, '/api/v1/faces/allowlist', { token: owner });
    assert.deepEqual(listed.body.data.items, []);
  });

  test('adds a person from good photos once an operator turned face analysis on, and lists them to their account only', async () => {
    const { stdout } = await runVigilCli(stack.config.database.url, ['faces', 'enable', '--account', 'acme']);
    assert.match(stdout, /Face analysis is on for account acme/);
    const added = await post(owner, allowlistForm('Night guard', lisa));
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal(added.body.data.name, 'Night guard');
    assert.equal(added.body.data.photo_count, 2);
    const listed = await api<{ items: Entry[] }>(stack.baseUrl, '/api/v1/faces/allowlist', { token: owner });
    assert.deepEqual(listed.body.data.items, [added.body.data]);
    const theirs = await api<{ items: Entry[] }>(stack.baseUrl, '/api/v1/faces/allowlist', { token: stranger });
    assert.deepEqual(theirs.body.data.items, []);
    // globex never had face analysis turned on.
    assert.equal((await post(stranger, allowlistForm('Visitor', lisa))).body.error?.code, 'FACE_ANALYSIS_DISABLED');
  });

  test('refuses a photo without a face, with two faces, or that is not an image, naming the photo, and stores nothing', async () => {
    const before = await api<{ items: Entry[] }>(stack.baseUrl, '/api/v1/faces/allowlist', { token: owner });
    const cases: [FormData, string, string][] = [
      [allowlistForm('Empty road', [lisa[0]!, noFace]), 'NO_FACE', 'photos[1]'],
      [allowlistForm('Two people', [twoFaces]), 'MULTIPLE_FACES', 'photos[0]'],
      [allowlistForm('Not a photo', [{ bytes: new TextEncoder().encode('not an image at all'), type: 'image/jpeg' }]), 'INVALID_IMAGE', 'photos[0]'],
    ];
    for (const [form, code, field] of cases) {
      const refused = await post(owner, form);
      assert.equal(refused.status, 400, code);
      assert.equal(refused.body.error?.code, code);
      assert.equal(refused.body.error?.field, field);
    }
    const noName = await post(owner, allowlistForm(undefined, lisa));
    assert.equal(noName.body.error?.code, 'VALIDATION_ERROR');
    assert.equal(noName.body.error?.field, 'name');
    const noPhotos = await post(owner, allowlistForm('Nobody', []));
    assert.equal(noPhotos.body.error?.field, 'photos');
    const after = await api<{ items: Entry[] }>(stack.baseUrl, '/api/v1/faces/allowlist', { token: owner });
    assert.deepEqual(after.body.data.items, before.body.data.items);
  });

  test('DELETE erases the person and their descriptors, for their own account only', async () => {
    const { body } = await api<{ items: Entry[] }>(stack.baseUrl, '/api/v1/faces/allowlist', { token: owner });
    const entry = body.data.items[0]!;
    const remove = (token: string, id: string) => fetch(`${stack.baseUrl}/api/v1/faces/allowlist/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.equal((await remove(stranger, entry.id)).status, 404);
    const photosOf = () => stack.db.selectFrom('face_allowlist_photos').select('id').where('entry_id', '=', entry.id).execute();
    assert.equal((await photosOf()).length, 2);
    assert.equal((await remove(owner, entry.id)).status, 204);
    assert.equal((await photosOf()).length, 0);
    assert.equal((await remove(owner, entry.id)).status, 404);
    assert.equal((await remove(owner, 'not-a-uuid')).status, 400);
    const listed = await api<{ items: Entry[] }>(stack.baseUrl, '/api/v1/faces/allowlist', { token: owner });
    assert.deepEqual(listed.body.data.items, []);
  });
});
