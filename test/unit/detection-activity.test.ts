import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createDetectionActivities } from '../../gpu-worker/activities.js';
import { createDetector, type Detector } from '../../gpu-worker/detector.js';
import { createDetectionEngine } from '../../gpu-worker/engine.js';
import { FileSystemMediaStore } from '../../media/store.js';
import type { DetectFramesResult, FrameRef } from '../../workflows/contracts/alarm-verification.js';
import { eventFrames } from '../support/alarms.js';
import { modelsDir } from '../support/paths.js';

describe('detectFrames activity', () => {
  let detector: Detector;
  let mediaDir: string;
  let media: FileSystemMediaStore;
  const frames: FrameRef[] = [];

  before(async () => {
    detector = await createDetector({ modelsDir, model: 'yolox_nano_416_coco', device: { kind: 'cpu' }, intraOpThreads: 0 });
    mediaDir = await mkdtemp(path.join(tmpdir(), 'vigil-detect-activity-'));
    media = new FileSystemMediaStore(mediaDir);
    for (const [index, { bytes }] of (await eventFrames('warehouse_worker_hardhat')).entries()) {
      const key = `alarms/job1/frame_0${index}.jpg`;
      await media.put(key, bytes);
      frames.push({ index, key });
    }
  });
  after(async () => {
    await detector.release();
    await rm(mediaDir, { recursive: true, force: true });
  });

  const environment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  const activities = () => createDetectionActivities({ engine: createDetectionEngine({ detector, cascade: null }), media });

  it('detects every frame and heartbeats once per frame', async () => {
    const env = environment();
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => heartbeats.push(details));
    const result: DetectFramesResult = await env.run(activities().detectFrames, { jobId: 'job1', frames, measure: true });
    assert.deepEqual(result.map((frame) => frame.frameIndex), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.ok(result.every((frame) => frame.detections.some((d) => d.category === 'person')));
    assert.deepEqual(heartbeats, frames.map((frame) => ({ frameIndex: frame.index })));
    // Each frame's measures for the analysis, with motion from the second frame on (test/unit/frame-measures.test.ts compares them).
    assert.deepEqual(result.map((frame) => frame.measures?.activity === null), [true, false, false, false, false, false, false, false]);
    assert.ok(result.every((frame) => frame.measures && frame.measures.quality.brightness > 0));
  });

  it('answers alike alone (measures beside the engine) and beside another event (measures after it)', async () => {
    const shared = activities();
    const alone: DetectFramesResult = await environment().run(shared.detectFrames, { jobId: 'job1', frames, measure: true });
    const together = await Promise.all([
      environment().run(shared.detectFrames, { jobId: 'job1', frames, measure: true }),
      environment().run(shared.detectFrames, { jobId: 'job1', frames, measure: true }),
    ]);
    assert.ok(alone.every((frame) => frame.measures));
    for (const result of together) assert.deepEqual(result, alone);
  });

  it('measures the frames only when asked: a classification judges no frame quality', async () => {
    const result: DetectFramesResult = await environment().run(activities().detectFrames, { jobId: 'job1', frames });
    assert.equal(result.length, frames.length);
    assert.ok(result.every((frame) => frame.measures === undefined));
  });

  it('fails for good on a frame that does not decode, naming it', async () => {
    await media.put('alarms/job2/frame_03.jpg', (await media.get(frames[3]!.key)).subarray(0, 1500));
    const broken = frames.map((frame) => (frame.index === 3 ? { index: 3, key: 'alarms/job2/frame_03.jpg' } : frame));
    await assert.rejects(environment().run(activities().detectFrames, { jobId: 'job2', frames: broken }), (error: unknown) => {
      assert.ok(error instanceof ApplicationFailure);
      assert.equal(error.type, 'INVALID_IMAGE');
      assert.equal(error.nonRetryable, true);
      assert.match(error.message, /^Frame 3 of job job2: /);
      return true;
    });
  });

  it('stops at the next frame once cancelled', async () => {
    const env = environment();
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => {
      heartbeats.push(details);
      if (heartbeats.length === 2) env.cancel();
    });
    await assert.rejects(env.run(activities().detectFrames, { jobId: 'job3', frames }), CancelledFailure);
    assert.ok(heartbeats.length <= 3, `${heartbeats.length} heartbeats`);
  });
});
