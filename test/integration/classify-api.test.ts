import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import { classificationClasses } from '../../domain/classification/scores.js';
import { eventFrames, type AlarmFile } from '../support/alarms.js';
import { classifyForm, clipExcerpt, getResult, postClassify } from '../support/classify.js';
import { runVigilCli } from '../support/cli.js';
import { fixturesDir } from '../support/paths.js';
import { startStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

async function countFiles(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).length;
}

const images = (frames: AlarmFile[]) => frames.map((file) => ({ field: 'images', file }));

describe('clip classification API', () => {
  let stack: TestStack;
  let token: string;
  let otherToken: string;
  let receiver: WebhookReceiver;
  let people: AlarmFile[];
  let empty: AlarmFile[];
  let clip: AlarmFile;

  before(async () => {
    // Sync answers wait up to 2 minutes here: a first classification on a busy machine loads every model.
    stack = await startStack({ env: { CLASSIFY_SYNC_WAIT_S: '120' } });
    token = await stack.createToken('acme');
    otherToken = await stack.createToken('globex');
    receiver = await startWebhookReceiver();
    people = await eventFrames('pets2009_people_walking_a');
    empty = await eventFrames('parking_lot_empty_a');
    clip = await clipExcerpt(path.join(fixturesDir, 'clips/opencv_vtest_pets2009.avi'), 10, 4, 3);
  });
  after(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  test('sync: a 4 s clip of people walking answers the finished result, every field typed as documented', async () => {
    const metadata = { no_trans: '20818', parc_origine: 'RO', camera_id: 134188 };
    const { status, body } = await postClassify(
      stack.baseUrl,
      token,
      classifyForm({ tenant: 'tenant-a', metadata: JSON.stringify(metadata), analyse_id: '3373550353', parent_id: 'abc123' }, [{ field: 'video', file: clip }]),
      '?sync=true',
    );
    assert.equal(status, 200, JSON.stringify(body));
    assert.match(String(body.id), /^[0-9a-f]{24}$/);
    assert.deepEqual(body.status, { classify: 'done', video: 'done' });
    assert.equal(body.parent_id, 'abc123');
    assert.equal(body.camera_id, '134188', 'from metadata.camera_id');
    assert.equal(body.analyse_id, 3373550353);
    assert.equal(body.tenant, 'tenant-a');
    assert.ok(Number.isInteger(body.duration) && (body.duration as number) > 0);
    assert.equal(body.duration_seconds, Math.floor((body.duration as number) / 1000));
    assert.equal(typeof body.model, 'string');
    assert.equal(typeof body.version, 'string');
    assert.equal(body.error_code, 0);
    assert.equal(body.error_msg, '');
    assert.ok(body.risk === 'danger' || body.risk === 'intrusion', `people walking: ${String(body.risk)}`);
    const scores = body.scores as Record<string, number>;
    assert.deepEqual(Object.keys(scores).sort(), [...classificationClasses].sort());
    for (const value of Object.values(scores)) assert.ok(typeof value === 'number' && value >= 0 && value <= 1);
    assert.ok(scores.person! >= 0.5, `person ${scores.person}`);
    const labels = body.labels as string[];
    assert.ok(labels.includes('person'));
    assert.deepEqual(labels, [...labels].sort((a, b) => scores[b]! - scores[a]!), 'highest first');
    assert.ok(labels.every((label) => scores[label]! >= 0.5));
    const video = body.video as { videoname: string; filesize: number; specs: Record<string, number> };
    assert.equal(video.videoname, clip.name);
    assert.equal(video.filesize, clip.bytes.byteLength);
    assert.equal(video.specs['original.width'], 768);
    assert.equal(video.specs['original.height'], 576);
    assert.ok(Math.abs(video.specs['original.fps']! - 3) < 0.1);
    assert.ok(video.specs['original.nframes']! >= 11);
    assert.equal(video.specs.width, 640);
    assert.equal(video.specs.height, 480);
    assert.equal(video.specs.fps, 3);
    assert.ok(video.specs.nframes! >= 11 && video.specs.nframes! <= 13, `nframes ${video.specs.nframes}`);
    assert.ok(video.specs.duration! > 3.5);
    assert.ok(typeof (body.timing as { total: number }).total === 'number');
    assert.deepEqual(body.metadata, metadata);
    assert.ok(!Number.isNaN(Date.parse(String(body.created_at))));
    assert.ok(!Number.isNaN(Date.parse(String(body.started_at))));

    const again = await getResult(stack.baseUrl, token, String(body.id));
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, body, 'GET /api/result answers the same document');
    const across = await getResult(stack.baseUrl, otherToken, String(body.id));
    assert.equal(across.status, 404, 'another account sees no such classification');
  });

  test('async: 202 with the accepted document, then done on GET; an empty scene is safe; the webhook carries the result, signed', async () => {
    const { status, body, headers } = await postClassify(
      stack.baseUrl,
      token,
      classifyForm({ tenant: 't', camera_id: 'lot-1', webhook_url: receiver.url('/classified'), webhook_secret: 'whsec_classify' }, images(empty)),
    );
    assert.equal(status, 202, JSON.stringify(body));
    // The workflow may have marked the job running before the answer was written.
    assert.ok(['accepted', 'in_progress'].includes((body.status as { classify: string }).classify), JSON.stringify(body.status));
    assert.equal(body.risk, null);
    assert.equal(body.scores, null);
    assert.equal(body.camera_id, 'lot-1');
    assert.equal(headers.get('location'), `/api/result/${String(body.id)}`);
    const done = await waitFor('the classification to end', async () => {
      const result = await getResult(stack.baseUrl, token, String(body.id));
      return (result.body.status as { classify: string }).classify === 'done' ? result.body : undefined;
    }, 90_000);
    assert.equal(done.risk, 'safe');
    assert.equal((done.video as { videoname: null }).videoname, null);
    assert.equal((done.video as { specs: Record<string, number> }).specs.nframes, 8);

    const [hook] = await waitFor('the webhook', () => (receiver.received('/classified').length > 0 ? receiver.received('/classified') : undefined));
    const payload = JSON.parse(hook!.body.toString()) as { type: string; job_id: string; data: unknown };
    assert.equal(payload.type, 'classification.finished');
    assert.equal(payload.job_id, body.id);
    assert.deepEqual(payload.data, done, 'the webhook data is what GET /api/result answers');
    assert.equal(hook!.headers['x-webhook-signature'], `sha256=${createHmac('sha256', 'whsec_classify').update(hook!.body).digest('hex')}`);
  });

  test('a camera\'s thresholds, set with the operator CLI, change its risk', async () => {
    const submit = async (cameraId: string) => {
      const { status, body } = await postClassify(stack.baseUrl, token, classifyForm({ tenant: 't', camera_id: cameraId }, images(people)), '?sync=true');
      assert.equal(status, 200, JSON.stringify(body));
      return body as { risk: string; scores: { intrusion: number } };
    };
    const before = await submit('gate-1');
    assert.equal(before.risk, 'intrusion', `intrusion ${before.scores.intrusion}`);
    await runVigilCli(stack.config.database.url, ['classify', 'thresholds', 'set', '--account', 'acme', '--camera', 'gate-2', '--low', '0.5', '--high', '0.995']);
    const strict = await submit('gate-2');
    assert.equal(strict.scores.intrusion, before.scores.intrusion, 'the same frames score the same');
    assert.equal(strict.risk, 'danger', 'under the camera\'s higher threshold');
    assert.equal((await submit('gate-1')).risk, 'intrusion', 'other cameras keep the defaults');
  });

  describe('bad requests, each refused with its code and field, leaving nothing behind', () => {
    const footprint = async () => {
      const { rows } = await sql<{ jobs: number }>`select count(*)::int as jobs from jobs`.execute(stack.db);
      return { jobs: rows[0]!.jobs, files: await countFiles(stack.config.mediaDir) };
    };
    const cases: { name: string; code: string; field: string; form: () => FormData }[] = [
      { name: 'no file', code: 'VALIDATION_ERROR', field: 'video', form: () => classifyForm({ tenant: 't' }, []) },
      { name: 'both a video and images', code: 'VALIDATION_ERROR', field: 'video', form: () => classifyForm({ tenant: 't' }, [{ field: 'video', file: clip }, ...images(people.slice(0, 2))]) },
      { name: '1 image', code: 'INVALID_IMAGE_COUNT', field: 'images', form: () => classifyForm({ tenant: 't' }, images(people.slice(0, 1))) },
      { name: '61 images', code: 'INVALID_IMAGE_COUNT', field: 'images', form: () => classifyForm({ tenant: 't' }, images(Array.from({ length: 61 }, (_, i) => people[i % 8]!))) },
      { name: 'not a video', code: 'INVALID_VIDEO', field: 'video', form: () => classifyForm({ tenant: 't' }, [{ field: 'video', file: { name: 'clip.mp4', bytes: people[0]!.bytes } }]) },
      { name: 'a truncated clip', code: 'INVALID_VIDEO', field: 'video', form: () => classifyForm({ tenant: 't' }, [{ field: 'video', file: { name: 'clip.mp4', bytes: clip.bytes.subarray(0, Math.floor(clip.bytes.byteLength / 2)) } }]) },
      { name: 'metadata that is not JSON', code: 'VALIDATION_ERROR', field: 'metadata', form: () => classifyForm({ tenant: 't', metadata: '{camera_id: 1' }, images(people.slice(0, 2))) },
      { name: 'metadata that is a JSON array', code: 'VALIDATION_ERROR', field: 'metadata', form: () => classifyForm({ tenant: 't', metadata: '[1]' }, images(people.slice(0, 2))) },
      { name: 'no tenant', code: 'VALIDATION_ERROR', field: 'tenant', form: () => classifyForm({}, images(people.slice(0, 2))) },
      { name: 'analyse_id that is not a number', code: 'VALIDATION_ERROR', field: 'analyse_id', form: () => classifyForm({ tenant: 't', analyse_id: 'x1' }, images(people.slice(0, 2))) },
    ];
    for (const { name, code, field, form } of cases) {
      test(name, async () => {
        const before = await footprint();
        const { status, body } = await postClassify(stack.baseUrl, token, form(), '?sync=true');
        assert.equal(status, 400, JSON.stringify(body));
        assert.equal(body.error?.code, code);
        assert.equal(body.error?.field, field);
        assert.deepEqual(await footprint(), before);
      });
    }

    test('no token: 401', async () => {
      const { status, body } = await postClassify(stack.baseUrl, undefined, classifyForm({ tenant: 't' }, images(people.slice(0, 2))));
      assert.equal(status, 401);
      assert.equal(body.error?.code, 'UNAUTHENTICATED');
    });
  });
});
