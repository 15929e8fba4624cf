import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import { fixtureClip } from '../support/clips.js';
import { startStack, type TestStack } from '../support/stack.js';
import { getVideo, postVideo, waitForVideo } from '../support/videos.js';
import { waitFor } from '../support/wait.js';

describe('durability: a detection worker killed mid-video', () => {
  let stack: TestStack;
  let token: string;

  before(async () => {
    stack = await startStack({ detectionWorker: false });
    token = await stack.createToken('acme');
  });
  after(async () => stack?.stop());

  const storedChunks = async (jobId: string) =>
    (await stack.db.selectFrom('video_chunks').select('chunk_index').where('job_id', '=', jobId).orderBy('chunk_index').execute()).map((row) => row.chunk_index);

  test('the job resumes after the last finished chunk: finished chunks are not detected again, none stored twice', async () => {
    const clip = fixtureClip('opencv_vtest_pets2009.avi');
    const accepted = await postVideo(stack.baseUrl, token, await readFile(clip.file), { 'content-type': 'video/x-msvideo' });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const jobId = accepted.body.job_id;
    const chunkCount = Math.ceil(clip.durationS / stack.config.video.chunkSeconds);

    await waitFor('the job to wait at detection', async () => (await getVideo(stack.baseUrl, token, jobId)).body.stage === 'detect', 120_000);
    const doomed = await stack.startDetectionWorker();
    await waitFor('two chunks to be stored', async () => (await storedChunks(jobId)).length >= 2, 180_000, 100);
    await doomed.kill();
    const beforeKill = await storedChunks(jobId);
    assert.ok(beforeKill.length < chunkCount, 'the kill came before the last chunk');
    assert.equal((await getVideo(stack.baseUrl, token, jobId)).body.status, 'running');

    await stack.startDetectionWorker();
    const done = await waitForVideo(stack.baseUrl, token, jobId, 300_000);
    assert.equal(done.status, 'finished', JSON.stringify(done));
    await stack.temporal.workflow.getHandle(jobId).result();

    // Each chunk was scheduled once; those stored before the kill ran once, on the killed worker.
    const history = await stack.temporal.workflow.getHandle(jobId).fetchHistory();
    const events = history.events ?? [];
    const scheduled = events.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'detectVideoChunk');
    assert.equal(scheduled.length, chunkCount);
    const attemptsOf = (eventId: string) =>
      events.find((event) => event.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === eventId)?.activityTaskStartedEventAttributes?.attempt;
    const attempts = scheduled.map((event) => attemptsOf(event.eventId!.toString()));
    for (const chunk of beforeKill) assert.equal(attempts[chunk], 1, `chunk ${chunk} ran once`);
    assert.ok(attempts.some((attempt) => (attempt ?? 0) >= 2), `the chunk the kill interrupted ran again: ${attempts.join(', ')}`);

    const { rows } = await sql<{ frames: number; distinct_frames: number; chunks: number }>`
      select count(*)::int as frames, count(distinct timestamp_s)::int as distinct_frames,
             (select count(*) from video_chunks where job_id = ${jobId})::int as chunks
      from video_frames where job_id = ${jobId}`.execute(stack.db);
    assert.equal(rows[0]!.chunks, chunkCount);
    assert.equal(rows[0]!.frames, rows[0]!.distinct_frames);
    assert.ok(Math.abs(rows[0]!.frames - clip.durationS * 2) <= 2, `${rows[0]!.frames} sampled frames`);
  });
});
