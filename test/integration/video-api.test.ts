import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'kysely';
import sharp from 'sharp';
import { ffmpegPath, ffprobePath, runTool } from '../../media/video/ffmpeg.js';
import { fixtureClip, fixtureClips } from '../support/clips.js';
import { fixturesDir } from '../support/paths.js';
import { startStack, type TestStack } from '../support/stack.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { getVideo, postVideo, postVideoForm, waitForVideo } from '../support/videos.js';
import { waitFor } from '../support/wait.js';

async function countFiles(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).length;
}

describe('video API', () => {
  let stack: TestStack;
  let token: string;
  let receiver: WebhookReceiver;

  const footprint = async () => {
    const { rows } = await sql<{ jobs: number; frames: number; chunks: number; motion: number; detections: number; keys: number }>`
      select (select count(*) from jobs)::int as jobs, (select count(*) from video_frames)::int as frames,
             (select count(*) from video_chunks)::int as chunks, (select count(*) from video_motion)::int as motion,
             (select count(*) from detections)::int as detections, (select count(*) from idempotency_keys)::int as keys`.execute(stack.db);
    return { ...rows[0]!, files: await countFiles(stack.config.mediaDir) };
  };

  before(async () => {
    // A small upload limit, so the 413 is reached without sending a large body.
    stack = await startStack({ env: { MAX_VIDEO_BYTES: String(9 * 1024 * 1024), MAX_VIDEO_SECONDS: '120' } });
    token = await stack.createToken('acme');
    receiver = await startWebhookReceiver();
  });
  after(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  describe('every fixture clip, submitted and analysed to the end', () => {
    for (const clip of fixtureClips()) {
      test(clip.name, async () => {
        const accepted = await postVideo(stack.baseUrl, token, await readFile(clip.file), { 'content-type': 'application/octet-stream' });
        assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
        const jobId = accepted.body.job_id;
        assert.match(jobId, /^video_[0-9a-f]{24}$/);
        assert.equal(accepted.headers.get('location'), `/api/v1/videos/${jobId}`);
        assert.ok(Number(accepted.headers.get('retry-after')) > 0);

        const done = await waitForVideo(stack.baseUrl, token, jobId);
        assert.equal(done.status, 'finished', JSON.stringify(done));
        assert.equal(done.progress, undefined);
        const result = done.result!;
        assert.equal(result.raw_scenes[0]?.start_seconds, 0);
        assert.ok(Math.abs(result.raw_scenes.at(-1)!.end_seconds - clip.durationS) < 0.2);
        // One activity value per sampled frame at 2 per second.
        assert.ok(Math.abs(result.frame_activity_diffs.length - clip.durationS * 2) <= 2, `${result.frame_activity_diffs.length} activity values`);
        assert.ok(result.frame_activity_diffs.every((value) => value >= 0 && value <= 1));
        assert.ok(result.sections.length > 0);
        for (const section of result.sections) {
          assert.ok(section.thumbnail_timestamp >= 0 && section.thumbnail_timestamp <= clip.durationS);
          assert.ok(section.confidence >= 0 && section.confidence <= 1);
        }

        // Per-frame data stays in PostgreSQL: one row per sampled frame, one chunk row per 10 s.
        const { rows } = await sql<{ frames: number; chunks: number }>`
          select (select count(*) from video_frames where job_id = ${jobId})::int as frames,
                 (select count(*) from video_chunks where job_id = ${jobId})::int as chunks`.execute(stack.db);
        assert.ok(Math.abs(rows[0]!.frames - clip.durationS * 2) <= 2, `${rows[0]!.frames} sampled frames`);
        assert.equal(rows[0]!.chunks, Math.ceil(clip.durationS / 10 - 1e-9));

        const thumbnail = await fetch(`${stack.baseUrl}/api/v1/videos/${jobId}/sections/0/thumbnail`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(thumbnail.status, 200);
        assert.equal(thumbnail.headers.get('content-type'), 'image/jpeg');
        const meta = await sharp(Buffer.from(await thumbnail.arrayBuffer())).metadata();
        assert.equal(meta.width, Math.min(640, clip.width));
      });
    }
  });

  test('the cuts of the multi-shot clip are found within 0.5 s of where they are', async () => {
    const clip = fixtureClip('multishot_cuts.mp4');
    const truth = JSON.parse(await readFile(path.join(fixturesDir, 'clips/multishot_cuts.json'), 'utf8')) as { cuts_s: number[] };
    const accepted = await postVideo(stack.baseUrl, token, await readFile(clip.file));
    const done = await waitForVideo(stack.baseUrl, token, accepted.body.job_id);
    const cuts = done.result!.raw_scenes.slice(1).map((scene) => scene.start_seconds);
    assert.equal(cuts.length, truth.cuts_s.length, `cuts at ${cuts.join(', ')}`);
    cuts.forEach((cut, i) => assert.ok(Math.abs(cut - truth.cuts_s[i]!) <= 0.5, `cut ${cut} s, truth ${truth.cuts_s[i]} s`));
  });

  test('the tracked objects of a video become detections of media type video, one per track', async () => {
    const accepted = await postVideo(stack.baseUrl, token, await readFile(fixtureClip('intel_car-detection.mp4').file));
    const done = await waitForVideo(stack.baseUrl, token, accepted.body.job_id);
    assert.equal(done.status, 'finished');
    const rows = await stack.db
      .selectFrom('detections')
      .select(['category', 'media_type', 'camera_id', 'video_timestamp_s', 'video_codec', 'video_duration_s', 'video_bytes'])
      .where('job_id', '=', accepted.body.job_id)
      .execute();
    assert.ok(rows.some((row) => row.category === 'vehicle'), JSON.stringify(rows));
    // Far fewer than one per sampled frame in which a car shows.
    assert.ok(rows.length < 20, `${rows.length} detections`);
    for (const row of rows) {
      assert.deepEqual([row.media_type, row.camera_id, row.video_codec, Number(row.video_bytes)], ['video', null, 'h264', 2811553]);
      assert.ok(row.video_timestamp_s! >= 0 && row.video_timestamp_s! <= 30.2);
    }

    // The detections API serves the clip (H.264/MP4 already: as stored) by ranges, and the detection's frame.
    const [first] = await stack.db.selectFrom('detections').select('public_id as id').where('job_id', '=', accepted.body.job_id).execute();
    const auth = { authorization: `Bearer ${token}` };
    const ranged = await fetch(`${stack.baseUrl}/api/detections/${first!.id}/video`, { headers: { ...auth, range: 'bytes=100-199' } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get('content-range'), 'bytes 100-199/2811553');
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), (await readFile(fixtureClip('intel_car-detection.mp4').file)).subarray(100, 200));
    const frame = await fetch(`${stack.baseUrl}/api/detections/${first!.id}/video/thumbnail`, { headers: auth });
    assert.equal(frame.status, 200);
    assert.equal((await sharp(Buffer.from(await frame.arrayBuffer())).metadata()).format, 'jpeg');
    const stranger = await stack.createToken('initech');
    assert.equal((await fetch(`${stack.baseUrl}/api/detections/${first!.id}/video`, { headers: { authorization: `Bearer ${stranger}` } })).status, 404);

    // Listed like any detection: no camera, the video's facts filled in.
    const listed = (await (await fetch(`${stack.baseUrl}/api/detections?limit=100`, { headers: auth })).json()) as {
      items: { id: number; camera_id: string | null; media_type: string; duration: number | null; video_codec: string | null; video_width: number | null; video_height: number | null }[];
    };
    const item = listed.items.find((candidate) => candidate.id === first!.id);
    assert.ok(item, 'the video detection is in the list');
    assert.deepEqual([item.camera_id, item.media_type, item.video_codec, item.video_width, item.video_height], [null, 'video', 'h264', 768, 432]);
    assert.ok(Math.abs(item.duration! - 30.2) < 0.2, `duration ${item.duration}`);
  });

  test('a video browsers cannot play (MPEG-4 Part 2 in AVI) is served as H.264/MP4, transcoded once', async () => {
    const accepted = await postVideo(stack.baseUrl, token, await readFile(fixtureClip('bgslibrary_video02_highway_pedestrian_alarm.avi').file), { 'content-type': 'video/x-msvideo' });
    assert.equal((await waitForVideo(stack.baseUrl, token, accepted.body.job_id)).status, 'finished');
    const [first] = await stack.db.selectFrom('detections').select('public_id as id').where('job_id', '=', accepted.body.job_id).execute();
    assert.ok(first, 'the highway clip has detections');
    const served = await fetch(`${stack.baseUrl}/api/detections/${first.id}/video`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('content-type'), 'video/mp4');
    const copy = path.join(stack.config.mediaDir, 'videos', accepted.body.job_id, 'browser.mp4');
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), await readFile(copy));
    const probe = JSON.parse((await runTool(await ffprobePath(), ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'json', copy])).toString('utf8')) as { streams: { codec_name: string }[] };
    assert.deepEqual(probe.streams.map((stream) => stream.codec_name), ['h264']);
  });

  test('a multipart upload with its webhook fields after the file; the webhook carries the GET document', async () => {
    const form = new FormData();
    form.append('video', new Blob([await readFile(fixtureClip('intel_worker-zone-detection_preview.gif').file)], { type: 'image/gif' }), 'worker.gif');
    form.append('webhook.url', receiver.url('/video-hook'));
    form.append('webhook.secret', 'hook-secret');
    const accepted = await postVideoForm(stack.baseUrl, token, form);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const done = await waitForVideo(stack.baseUrl, token, accepted.body.job_id);
    const [delivery] = await waitFor('the webhook', () => (receiver.received('/video-hook').length > 0 ? receiver.received('/video-hook') : undefined));
    const payload = JSON.parse(delivery!.body.toString('utf8')) as { type: string; job_id: string; data: unknown };
    assert.equal(payload.type, 'video.finished');
    assert.equal(payload.job_id, accepted.body.job_id);
    assert.deepEqual(payload.data, done);
    assert.ok(delivery!.headers['x-webhook-signature']);
  });

  test('Max-Processing-Time too short fails the job MAX_PROCESSING_TIME_EXCEEDED', async () => {
    const accepted = await postVideo(stack.baseUrl, token, await readFile(fixtureClip('opencv_vtest_pets2009.avi').file), {
      'content-type': 'video/x-msvideo',
      'max-processing-time': '1',
    });
    assert.equal(accepted.status, 202);
    const done = await waitForVideo(stack.baseUrl, token, accepted.body.job_id);
    assert.equal(done.status, 'failed');
    assert.equal(done.error?.code, 'MAX_PROCESSING_TIME_EXCEEDED');
    assert.equal(done.result, undefined);
  });

  test('the same request under the same Idempotency-Key answers the same job; another request under it is 422', async () => {
    const bytes = await readFile(fixtureClip('multishot_cuts.mp4').file);
    const first = await postVideo(stack.baseUrl, token, bytes, { 'idempotency-key': 'video-key-1' });
    assert.equal(first.status, 202);
    // Counted once the job is done, so its own thumbnails are not taken for a leftover upload.
    await waitForVideo(stack.baseUrl, token, first.body.job_id);
    const filesAfterFirst = await countFiles(stack.config.mediaDir);
    const again = await postVideo(stack.baseUrl, token, bytes, { 'idempotency-key': 'video-key-1' });
    assert.deepEqual([again.status, again.body.job_id], [200, first.body.job_id]);
    const other = await postVideo(stack.baseUrl, token, await readFile(fixtureClip('intel_car-detection.mp4').file), { 'idempotency-key': 'video-key-1' });
    assert.deepEqual([other.status, other.body.error?.code], [422, 'IDEMPOTENCY_KEY_REUSED']);
    // Neither the repeat nor the refused upload left a file.
    assert.ok((await countFiles(stack.config.mediaDir)) <= filesAfterFirst, 'no upload left behind');
  });

  test('another account\'s video is 404, like one that does not exist, for the job and its thumbnails', async () => {
    const accepted = await postVideo(stack.baseUrl, token, await readFile(fixtureClip('multishot_cuts.mp4').file));
    await waitForVideo(stack.baseUrl, token, accepted.body.job_id);
    const stranger = await stack.createToken('globex');
    const seen = await getVideo(stack.baseUrl, stranger, accepted.body.job_id);
    assert.deepEqual([seen.status, seen.body.error?.code], [404, 'NOT_FOUND']);
    assert.equal((seen.body as { success?: unknown }).success, undefined, 'spec 2 errors carry no envelope');
    const thumbnail = await fetch(`${stack.baseUrl}/api/v1/videos/${accepted.body.job_id}/sections/0/thumbnail`, { headers: { authorization: `Bearer ${stranger}` } });
    assert.equal(thumbnail.status, 404);
    assert.equal((await getVideo(stack.baseUrl, token, 'video_000000000000000000000000')).status, 404);
  });

  describe('bad uploads: each refused with its code, nothing left in the store or the database', () => {
    const cases: { name: string; status: number; code: string; body: () => Promise<Uint8Array>; headers?: Record<string, string> }[] = [
      { name: 'zero bytes', status: 400, code: 'INVALID_VIDEO', body: async () => new Uint8Array(0) },
      { name: 'random bytes', status: 400, code: 'INVALID_VIDEO', body: async () => Uint8Array.from({ length: 300_000 }, (_, i) => (i * 2654435761) % 251) },
      { name: 'a JPEG', status: 400, code: 'INVALID_VIDEO', body: () => readFile(path.join(fixturesDir, 'stills/general_photos/darknet_dog.jpg')) },
      {
        name: 'a truncated MP4',
        status: 400,
        code: 'INVALID_VIDEO',
        body: async () => {
          const whole = await readFile(fixtureClip('intel_car-detection.mp4').file);
          return whole.subarray(0, Math.floor(whole.length / 2));
        },
      },
      {
        name: 'no video stream (audio only)',
        status: 400,
        code: 'INVALID_VIDEO',
        body: () => runTool(ffmpegPath, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=duration=2', '-f', 'adts', '-']),
      },
      { name: 'over MAX_VIDEO_BYTES', status: 413, code: 'PAYLOAD_TOO_LARGE', body: async () => new Uint8Array(10 * 1024 * 1024) },
      {
        name: 'over MAX_VIDEO_BYTES without a Content-Length (chunked)',
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
        body: async () => new Uint8Array(10 * 1024 * 1024),
        headers: { 'x-chunked': '1' },
      },
      {
        name: 'longer than MAX_VIDEO_SECONDS',
        status: 413,
        code: 'VIDEO_TOO_LONG',
        body: async () => {
          const file = path.join(stack.config.mediaDir, '..', 'long.avi');
          await runTool(ffmpegPath, ['-v', 'error', '-f', 'lavfi', '-i', 'color=size=64x36:rate=1', '-t', '130', '-c:v', 'mpeg4', file]);
          return readFile(file);
        },
      },
    ];
    for (const { name, status, code, body, headers } of cases) {
      test(name, async () => {
        const before = await footprint();
        const bytes = await body();
        const { 'x-chunked': chunked, ...rest } = headers ?? {};
        // A stream has no Content-Length: the limit is met while the bytes arrive.
        const sent = chunked ? new Blob([bytes]).stream() : bytes;
        const answer = await postVideo(stack.baseUrl, token, sent, rest);
        assert.deepEqual([answer.status, answer.body.error?.code], [status, code], JSON.stringify(answer.body));
        assert.deepEqual(await footprint(), before);
      });
    }

    test('no token, and an unsupported Content-Type, are refused before the body is read', async () => {
      const before = await footprint();
      const anonymous = await postVideo(stack.baseUrl, undefined, new Uint8Array(1000));
      assert.deepEqual([anonymous.status, anonymous.body.error?.code], [401, 'UNAUTHENTICATED']);
      const json = await postVideo(stack.baseUrl, token, new Uint8Array(1000), { 'content-type': 'application/json' });
      assert.deepEqual([json.status, json.body.error?.code, json.body.error?.field], [400, 'VALIDATION_ERROR', 'Content-Type']);
      assert.deepEqual(await footprint(), before);
    });
  });
});
