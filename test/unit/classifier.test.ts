import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createClassifierActivities } from '../../gpu-worker/activities.js';
import { createClassifier, loadImagenetLabels, scaledSize, softmax, type Classifier } from '../../gpu-worker/classifier.js';
import { decodeToRgb } from '../../media/image.js';
import { FileSystemMediaStore } from '../../media/store.js';
import type { ClassifyFramesResult } from '../../workflows/contracts/classify-frames.js';
import { fixturesDir, modelsDir } from '../support/paths.js';

const still = (name: string) => path.join(fixturesDir, 'stills', name);

describe('ImageNet classifier', () => {
  let classifier: Classifier;
  before(async () => {
    classifier = await createClassifier({ modelsDir, device: { kind: 'cpu' }, intraOpThreads: 1 });
  });
  after(() => classifier.release());

  it('reads the 1000 class names and the groups shipped beside it', async () => {
    const labels = await loadImagenetLabels();
    assert.equal(labels.labels[249], 'malamute');
    assert.equal(labels.synsets[249], 'n02110063');
    const spider = labels.groups.find((group) => group.name === 'spider');
    assert.deepEqual(spider?.indices, [72, 73, 74, 75, 76, 77]);
  });

  it('scales the shorter side to 256, keeping the aspect ratio', () => {
    assert.deepEqual(scaledSize(1920, 1080), { width: 455, height: 256 });
    assert.deepEqual(scaledSize(480, 640), { width: 256, height: 341 });
    const p = softmax([1, 2, 3]);
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  });

  // Reference outputs of the model zoo's preprocessing (MODELS.md, verified separately with onnxruntime).
  it('names the animal of real photos, as the reference preprocessing does', async () => {
    const eagle = await classifier.classify(await readFile(still('general_photos/darknet_eagle.jpg')), 3);
    assert.equal(eagle.top[0]!.label, 'bald eagle');
    assert.ok(Math.abs(eagle.top[0]!.probability - 0.772) < 0.01, String(eagle.top[0]!.probability));
    assert.equal(eagle.groups[0]!.group, 'bird');

    const dog = await classifier.classify(await readFile(still('camera_trap/cameratrapai_domestic_dog.jpg')));
    assert.equal(dog.top[0]!.label, 'German shepherd');
    assert.equal(dog.top.length, 5);
    assert.equal(dog.groups[0]!.group, 'dog');

    const horses = await classifier.classify(await readFile(still('general_photos/darknet_horses.jpg')));
    assert.equal(horses.groups[0]!.group, 'hoofed_mammal');
    assert.ok(horses.groups[0]!.probability > 0.8);
  });

  it('gives the same answer for decoded pixels as for the encoded file', async () => {
    const bytes = await readFile(still('general_photos/darknet_dog.jpg'));
    const fromBytes = await classifier.classify(bytes, 1);
    const fromPixels = await classifier.classify(await decodeToRgb(bytes), 1);
    assert.equal(fromPixels.top[0]!.label, fromBytes.top[0]!.label);
    assert.ok(Math.abs(fromPixels.top[0]!.probability - fromBytes.top[0]!.probability) < 0.02);
  });

  describe('classifyFrames activity', () => {
    let mediaDir: string;
    let media: FileSystemMediaStore;
    before(async () => {
      mediaDir = await mkdtemp(path.join(tmpdir(), 'vigil-classify-activity-'));
      media = new FileSystemMediaStore(mediaDir);
      await media.put('clips/job1/frame_0.jpg', await readFile(still('general_photos/darknet_eagle.jpg')));
      await media.put('clips/job1/frame_1.jpg', await readFile(still('general_photos/darknet_dog.jpg')));
      await media.put('clips/job1/broken.jpg', (await readFile(still('general_photos/darknet_dog.jpg'))).subarray(0, 1500));
    });
    after(() => rm(mediaDir, { recursive: true, force: true }));
    const environment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

    it('answers a few classes and groups per frame, heartbeating per frame', async () => {
      const env = environment();
      const heartbeats: unknown[] = [];
      env.on('heartbeat', (details: unknown) => heartbeats.push(details));
      const frames = [
        { index: 0, key: 'clips/job1/frame_0.jpg' },
        { index: 1, key: 'clips/job1/frame_1.jpg' },
      ];
      const result: ClassifyFramesResult = await env.run(createClassifierActivities({ classifier, media }).classifyFrames, { jobId: 'job1', frames });
      assert.deepEqual(result.map((frame) => [frame.frameIndex, frame.groups[0]!.group, frame.top.length, frame.groups.length]), [
        [0, 'bird', 3, 5],
        [1, 'dog', 3, 5],
      ]);
      assert.deepEqual(heartbeats, [{ frameIndex: 0 }, { frameIndex: 1 }]);
    });

    it('fails for good on a frame that does not decode, naming it', async () => {
      const frames = [{ index: 4, key: 'clips/job1/broken.jpg' }];
      await assert.rejects(environment().run(createClassifierActivities({ classifier, media }).classifyFrames, { jobId: 'job1', frames }), (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure);
        assert.equal(error.type, 'INVALID_IMAGE');
        assert.equal(error.nonRetryable, true);
        assert.match(error.message, /^Frame 4 of job job1: /);
        return true;
      });
    });
  });
});
