import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDetector, type Detector } from '../../gpu-worker/detector.js';
import { createDetectionEngine, InvalidFrameError, type EventFrame } from '../../gpu-worker/engine.js';
import { decodeToRgb, openResizable, resizableRgb } from '../../media/image.js';
import { eventFrames } from '../support/alarms.js';
import { fixturesDir, modelsDir } from '../support/paths.js';
import { shiftedEvent } from '../support/thermal-events.js';

/** An event's fixture frames as the engine takes them. */
async function engineFrames(event: string): Promise<EventFrame[]> {
  return (await eventFrames(event)).map(({ bytes }, index) => ({ index, load: async () => bytes }));
}

describe('detection engine', () => {
  let fast: Detector;
  let accurate: Detector;

  before(async () => {
    [fast, accurate] = await Promise.all([
      // Two sessions: frames of one event run side by side.
      createDetector({ modelsDir, model: 'yolox_nano_416_coco', device: { kind: 'cpu' }, intraOpThreads: 1, sessions: 2 }),
      createDetector({ modelsDir, model: 'picodet_s_416_coco', device: { kind: 'cpu' }, intraOpThreads: 0 }),
    ]);
  });
  after(async () => {
    await fast.release();
    await accurate.release();
  });

  it('gives every frame, in order, what the detector finds in it alone', async () => {
    const frames = await engineFrames('warehouse_worker_hardhat');
    const seen: number[] = [];
    const result = await createDetectionEngine({ detector: fast, cascade: null }).detectEvent(frames, (index) => seen.push(index));
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(result.frames.map((frame) => [frame.frameIndex, frame.width, frame.height]), frames.map((f) => [f.index, 480, 270]));
    for (const frame of frames) {
      const alone = await fast.infer(await fast.prepare(await openResizable(await frame.load())));
      assert.deepEqual(result.frames[frame.index]!.detections, alone, `frame ${frame.index}`);
    }
    assert.ok(result.frames.every((frame) => frame.detections.some((d) => d.category === 'person')));
    assert.equal(result.cascade, null);
    assert.equal(result.pseudoColourFrames, 0);
  });

  it('detects frames as they arrive from a decoder, in order, each as alone, then the cascade over an event without a person', async () => {
    const images = await Promise.all((await eventFrames('warehouse_worker_hardhat')).map(({ bytes }) => decodeToRgb(bytes)));
    let yielded = 0;
    // Frames come one by one with a pause, as a decoder gives them.
    const arriving = async function* (list: typeof images) {
      for (const [index, image] of list.entries()) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        yielded++;
        yield { index, image };
      }
    };
    const seen: number[] = [];
    const result = await createDetectionEngine({ detector: fast, cascade: accurate }).detectArriving(arriving(images), (index) => seen.push(index));
    assert.equal(yielded, 8);
    assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(result.frames.map((frame) => frame.frameIndex), [0, 1, 2, 3, 4, 5, 6, 7]);
    for (const [index, image] of images.entries()) {
      const alone = await fast.infer(await fast.prepare(resizableRgb(image)));
      assert.deepEqual(result.frames[index]!.detections, alone, `frame ${index}`);
    }
    assert.equal(result.cascade, null, 'people found: no cascade');

    const empty = await Promise.all((await eventFrames('parking_lot_empty_a')).map(({ bytes }) => decodeToRgb(bytes)));
    const again = await createDetectionEngine({ detector: fast, cascade: accurate }).detectArriving(arriving(empty));
    assert.equal(again.cascade?.model, 'picodet_s_416_coco');
    assert.equal(again.frames.length, 8);
  });

  it('re-detects an event without a person with the cascade model, and only such an event', async () => {
    const engine = createDetectionEngine({ detector: fast, cascade: accurate });
    const empty = await engine.detectEvent(await engineFrames('parking_lot_empty_a'));
    assert.equal(empty.cascade?.model, 'picodet_s_416_coco');
    assert.ok(empty.cascade.ms > 0);
    assert.equal(empty.frames.length, 8);

    const people = await engine.detectEvent(await engineFrames('pets2009_people_walking_a'));
    assert.equal(people.cascade, null);
  });

  it('lets the cascade find the cyclist the fast model misses', async () => {
    const bytes = await readFile(path.join(modelsDir, 'testdata/parking-lot-car-cyclist_480x270.png'));
    const frames = [0, 1, 2, 3].map((index) => ({ index, load: async () => bytes }));
    const withoutCascade = await createDetectionEngine({ detector: fast, cascade: null }).detectEvent(frames);
    assert.ok(withoutCascade.frames.every((frame) => !frame.detections.some((d) => d.category === 'person')));
    const withCascade = await createDetectionEngine({ detector: fast, cascade: accurate }).detectEvent(frames);
    assert.ok(withCascade.frames.every((frame) => frame.detections.some((d) => d.category === 'person')));
    // The same picture four times: the cascade looks once, and the cyclist standing still is in every frame.
    assert.equal(withCascade.cascade?.frames, 1);
    assert.deepEqual(withCascade.frames.map((frame) => frame.frameIndex), [0, 1, 2, 3]);
  });

  it('in a scene that changes in every frame, looks again at every other frame, and at every frame once it finds something new', async () => {
    // The cyclist the fast model misses, the picture moved by 2 px in each frame: every frame differs from the one before.
    const cyclist = await readFile(path.join(modelsDir, 'testdata/parking-lot-car-cyclist_480x270.png'));
    const moving = (await shiftedEvent(cyclist, 6)).map((bytes, index) => ({ index, load: async () => bytes }));
    const found = await createDetectionEngine({ detector: fast, cascade: accurate }).detectEvent(moving);
    assert.equal(found.cascade?.frames, 6, 'frames 0, 2 and 4 first, then 1, 3 and 5');
    assert.ok(found.frames.every((frame) => frame.detections.some((d) => d.category === 'person')));

    // A tree in the wind and nobody: the cascade and the tiles look at frames 0, 2, 4 and 6 and find nothing.
    const tree = await createDetectionEngine({ detector: fast, cascade: accurate, tiling: true }).detectEvent(await engineFrames('tree_foliage_wind'));
    assert.equal(tree.cascade?.frames, 4);
    assert.ok(tree.tiled && tree.tiled.tiles <= 16, `${tree.tiled?.tiles} tiles`);
  });

  it('looks at every changed frame when the caller counts a person seen in one frame', async () => {
    const engine = createDetectionEngine({ detector: fast, cascade: accurate });
    const tree = await engine.detectEvent(await engineFrames('tree_foliage_wind'), undefined, { everyChangedFrame: true });
    assert.equal(tree.cascade?.frames, 8);
  });

  it('tiles a static scene once and carries what its tiles found to every frame', async () => {
    const [first] = await engineFrames('wsdot_i5_traffic_cam_sequence');
    const frames = [0, 1, 2, 3].map((index) => ({ index, load: first!.load }));
    const result = await createDetectionEngine({ detector: fast, cascade: null, tiling: true }).detectEvent(frames);
    assert.equal(result.tiled?.tiles, 4);
    const vehicles = result.frames.map((frame) => frame.detections.filter((d) => d.category === 'vehicle').map((d) => d.box.join(',')));
    assert.ok(vehicles[0]!.length > 0);
    for (const frame of vehicles) assert.deepEqual(frame, vehicles[0]);
  });

  it('runs the tiled pass on an event still without a person: the distant cars of the WSDOT camera appear', async () => {
    const frames = await engineFrames('wsdot_i5_traffic_cam_sequence');
    const vehiclesIn = (result: { frames: { detections: { category: string; score: number }[] }[] }) =>
      result.frames.map((frame) => frame.detections.filter((d) => d.category === 'vehicle' && d.score >= 0.4).length);
    const whole = await createDetectionEngine({ detector: fast, cascade: null }).detectEvent(frames);
    assert.equal(whole.tiled, null);
    assert.deepEqual(vehiclesIn(whole), [0, 0, 0, 0, 0, 0, 0, 0]);

    const tiled = await createDetectionEngine({ detector: fast, cascade: null, tiling: true }).detectEvent(frames);
    // The 4 tiles of frames 0, 2, 4 and 6 first (traffic moves in every frame); then, of frames 1, 3, 5 and 7, only
    // the tiles in which the first round found new cars (the far carriageway's), not all 32.
    assert.ok(tiled.tiled && tiled.tiled.tiles > 16 && tiled.tiled.tiles < 32, `${tiled.tiled?.tiles} tiles`);
    const found = vehiclesIn(tiled);
    assert.ok(found.filter((count) => count > 0).length >= 6, `vehicles per frame ${found.join(',')}`);
    for (const frame of tiled.frames) {
      assert.deepEqual([frame.width, frame.height], [320, 240]);
      for (const { box } of frame.detections) assert.ok(box[0] >= 0 && box[1] >= 0 && box[2] <= 320 && box[3] <= 240, `box ${box.join(',')}`);
    }
  });

  it('does not tile an event in which a person was found', async () => {
    const result = await createDetectionEngine({ detector: fast, cascade: null, tiling: true }).detectEvent(await engineFrames('pets2009_people_walking_a'));
    assert.equal(result.tiled, null);
  });

  it('turns thermal palettes into luminance and counts those frames', async () => {
    const bytes = await readFile(path.join(fixturesDir, 'stills/thermal/wikimedia_Infrared_image_of_people_in_the_laboratory.jpg'));
    const frames = [0, 1, 2, 3].map((index) => ({ index, load: async () => bytes }));
    const result = await createDetectionEngine({ detector: fast, cascade: null }).detectEvent(frames);
    assert.equal(result.pseudoColourFrames, 4);
    // Four people stand behind the bench; on the raw palette YOLOX-nano finds three.
    assert.ok(result.frames[0]!.detections.filter((d) => d.category === 'person' && d.score >= 0.35).length >= 4);
  });

  it('names the frame that does not decode', async () => {
    const frames = await engineFrames('tree_foliage_wind');
    const truncated = (await frames[5]!.load()).subarray(0, 2000);
    frames[5] = { index: 5, load: async () => truncated };
    await assert.rejects(createDetectionEngine({ detector: fast, cascade: null }).detectEvent(frames), (error: unknown) => {
      assert.ok(error instanceof InvalidFrameError);
      assert.equal(error.frameIndex, 5);
      assert.equal(error.code, 'INVALID_IMAGE');
      return true;
    });
    const garbage = await engineFrames('tree_foliage_wind');
    garbage[2] = { index: 2, load: async () => Buffer.from('not an image at all') };
    await assert.rejects(createDetectionEngine({ detector: fast, cascade: null }).detectEvent(garbage), { name: 'InvalidFrameError', frameIndex: 2 });
  });

  it('stops when beforeFrame throws', async () => {
    const stop = new Error('cancelled');
    const seen: number[] = [];
    await assert.rejects(
      createDetectionEngine({ detector: fast, cascade: null }).detectEvent(await engineFrames('tree_foliage_wind'), (index) => {
        seen.push(index);
        if (index === 3) throw stop;
      }),
      stop,
    );
    assert.deepEqual(seen, [0, 1, 2, 3]);
  });
});
