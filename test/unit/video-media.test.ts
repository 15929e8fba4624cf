import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { ffmpegPath, ffprobePath, runnableCopyOf, runTool } from '../../media/video/ffmpeg.js';
import { InvalidVideoError, probeVideo } from '../../media/video/probe.js';
import { decodeFrames, extractJpeg, type DecodedFrame } from '../../media/video/frames.js';
import { fixtureClip, fixtureClips } from '../support/clips.js';
import { fixturesDir } from '../support/paths.js';
import { waitFor } from '../support/wait.js';

const clips = fixtureClips();

async function collect(frames: AsyncIterable<DecodedFrame>): Promise<DecodedFrame[]> {
  const all: DecodedFrame[] = [];
  for await (const frame of frames) all.push(frame);
  return all;
}

async function withTemporaryFolder(use: (folder: string) => Promise<void>): Promise<void> {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'vigil-video-'));
  try {
    await use(folder);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

test('ffprobe is runnable by this user', async () => {
  const version = await runTool(await ffprobePath(), ['-version']);
  assert.match(version.toString('utf8'), /^ffprobe version/);
});

test('a binary this user may not run is run from a runnable copy', async () => {
  await withTemporaryFolder(async (folder) => {
    const script = path.join(folder, 'tool');
    await writeFile(script, '#!/bin/sh\necho ran\n', { mode: 0o644 });
    const copy = await runnableCopyOf(script, `tool-${path.basename(folder)}`);
    assert.notEqual(copy, script);
    assert.equal((await runTool(copy, [])).toString('utf8'), 'ran\n');
    assert.equal(await runnableCopyOf(script, `tool-${path.basename(folder)}`), copy);
    await rm(copy);
  });
});

test('the fixtures hold clips in every container: avi, mp4 and gif', () => {
  assert.deepEqual(new Set(clips.map((clip) => path.extname(clip.name))), new Set(['.avi', '.mp4', '.gif']));
});

for (const clip of clips) {
  test(`probeVideo reads ${clip.name} as its manifest describes it`, async () => {
    const probe = await probeVideo(clip.file);
    assert.equal(probe.width, clip.width);
    assert.equal(probe.height, clip.height);
    assert.ok(Math.abs(probe.fps - clip.fps) < 0.1, `fps ${probe.fps}, manifest ${clip.fps}`);
    assert.ok(Math.abs(probe.durationS - clip.durationS) < 0.1, `duration ${probe.durationS} s, manifest ${clip.durationS} s`);
    assert.equal(probe.bytes, clip.bytes);
    assert.ok(Math.abs(probe.frameCount - probe.durationS * probe.fps) <= 1);
    assert.ok(probe.container.length > 0 && probe.codec.length > 0);
  });
}

test('decodeFrames at the native rate gives every frame, sized, with timestamps at the frame rate', async () => {
  const clip = fixtureClip('multishot_cuts.mp4');
  const frames = await collect(decodeFrames(clip.file, { width: 64, pixelFormat: 'gray' }));
  assert.equal(frames.length, 160);
  assert.deepEqual(
    frames.slice(0, 3).map((frame) => [frame.index, frame.timestampS, frame.width, frame.height, frame.data.length]),
    [[0, 0, 64, 36, 64 * 36], [1, 0.1, 64, 36, 64 * 36], [2, 0.2, 64, 36, 64 * 36]],
  );
  assert.equal(frames.at(-1)?.timestampS, 15.9);
});

test('decodeFrames samples at a rate within a time window, in rgb24 at the size asked', async () => {
  const clip = fixtureClip('intel_car-detection.mp4');
  const frames = await collect(decodeFrames(clip.file, { fps: 2, width: 96, height: 54, pixelFormat: 'rgb24', startS: 10, endS: 15 }));
  assert.equal(frames.length, 10);
  assert.deepEqual(frames.map((frame) => frame.timestampS), [10, 10.5, 11, 11.5, 12, 12.5, 13, 13.5, 14, 14.5]);
  for (const frame of frames) assert.equal(frame.data.length, 96 * 54 * 3);
});

test('decodeFrames with only some sampled frames gives those frames, their indices and times, and the same pixels', async () => {
  const clip = fixtureClip('intel_car-detection.mp4');
  const window = { fps: 2, width: 96, height: 54, pixelFormat: 'rgb24', startS: 10, endS: 15 } as const;
  const every = await collect(decodeFrames(clip.file, window));
  const some = await collect(decodeFrames(clip.file, { ...window, only: [1, 6, 9] }));
  assert.deepEqual(some.map((frame) => [frame.index, frame.timestampS]), [[1, 10.5], [6, 13], [9, 14.5]]);
  for (const frame of some) assert.ok(frame.data.equals(every[frame.index]!.data), `frame ${frame.index}`);
  // Consecutive sampled frames differ (the car moves), so equal pixels are the frame asked for, not a neighbour.
  assert.ok(!every[5]!.data.equals(every[6]!.data));
});

test('decodeFrames decodes the animated GIF and the AVI codecs', async () => {
  for (const name of ['intel_worker-zone-detection_preview.gif', 'opencv_tree_foliage.avi', 'bgslibrary_video02_highway_pedestrian_alarm.avi']) {
    const clip = fixtureClip(name);
    const frames = await collect(decodeFrames(clip.file, { fps: 2, width: 32, pixelFormat: 'gray' }));
    assert.ok(Math.abs(frames.length - clip.durationS * 2) <= 2, `${name}: ${frames.length} frames`);
    // Real pictures, not blank buffers.
    assert.ok(frames.some((frame) => new Set(frame.data).size > 8), name);
  }
});

function ffmpegChildren(): Promise<number> {
  return readdir('/proc').then(async (entries) => {
    let count = 0;
    for (const entry of entries.filter((name) => /^\d+$/.test(name))) {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (stat.includes('(ffmpeg)') && Number(fields[1]) === process.pid && fields[0] !== 'Z') count += 1;
    }
    return count;
  });
}

test('a consumer that stops early ends ffmpeg', async () => {
  const clip = fixtureClip('opencv_vtest_pets2009.avi');
  let seen = 0;
  for await (const frame of decodeFrames(clip.file, { width: 160, pixelFormat: 'rgb24' })) {
    seen = frame.index + 1;
    if (seen === 3) {
      assert.equal(await ffmpegChildren(), 1);
      break;
    }
  }
  assert.equal(seen, 3);
  await waitFor('ffmpeg to end', async () => (await ffmpegChildren()) === 0, 10_000);
});

test('decoding a file that is not a video throws instead of answering no frames', async () => {
  await withTemporaryFolder(async (folder) => {
    const junk = path.join(folder, 'junk.bin');
    await writeFile(junk, Buffer.alloc(50_000, 7));
    await assert.rejects(collect(decodeFrames(junk, { fps: 2, width: 32, height: 32, pixelFormat: 'gray' })), /ffmpeg exited/);
  });
});

test('extractJpeg answers a JPEG of the frame, never wider than asked', async () => {
  const clip = fixtureClip('opencv_vtest_pets2009.avi');
  const small = await sharp(await extractJpeg(clip.file, 12.3, 320)).metadata();
  assert.deepEqual([small.format, small.width, small.height], ['jpeg', 320, 240]);
  const native = await sharp(await extractJpeg(clip.file, 0)).metadata();
  assert.deepEqual([native.width, native.height], [768, 576]);
  await assert.rejects(extractJpeg(clip.file, 500));
});

async function assertInvalid(file: string, reason: RegExp): Promise<void> {
  await assert.rejects(probeVideo(file), (error: unknown) => {
    assert.ok(error instanceof InvalidVideoError, String(error));
    assert.equal(error.code, 'INVALID_VIDEO');
    assert.match(error.reason, reason);
    return true;
  });
}

test('probeVideo refuses what is not a whole, decodable video, saying why', async () => {
  await withTemporaryFolder(async (folder) => {
    const empty = path.join(folder, 'empty.mp4');
    await writeFile(empty, Buffer.alloc(0));
    await assertInvalid(empty, /empty/);

    const random = path.join(folder, 'random.mp4');
    await writeFile(random, Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 2654435761) % 251)));
    await assertInvalid(random, /no known container/);

    await assertInvalid(path.join(fixturesDir, 'stills/general_photos/darknet_dog.jpg'), /still image/);

    for (const name of ['intel_car-detection.mp4', 'multishot_cuts.mp4']) {
      const whole = await readFile(fixtureClip(name).file);
      const truncated = path.join(folder, `truncated-${name}`);
      await writeFile(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
      await assertInvalid(truncated, /truncated/);
    }

    const audioOnly = path.join(folder, 'tone.m4a');
    await runTool(ffmpegPath, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=duration=2', audioOnly]);
    await assertInvalid(audioOnly, /no video stream/);
  });
});
