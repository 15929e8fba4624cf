import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { Detection, FrameDetections } from '../../domain/types.js';
import { createDetector, type Detector } from '../../gpu-worker/detector.js';
import { createDetectionEngine, type EventFrame } from '../../gpu-worker/engine.js';
import {
  CONFIRMED_ALONE_SCORE,
  inReadoutBand,
  isThermalFrame,
  readoutShare,
  thermalPass,
  thermalTileRegions,
  type DetectViews,
} from '../../gpu-worker/thermal.js';
import { openResizable, resizableRgb } from '../../media/image.js';
import { eventFrames } from '../support/alarms.js';
import { modelsDir } from '../support/paths.js';
import { readThermalStill, shiftedEvent, smallPersonEvents, thermalStills } from '../support/thermal-events.js';

const rgbOf = async (bytes: Uint8Array) => (await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true })).data;
const asEngineFrames = (frames: readonly Uint8Array[]): EventFrame[] => frames.map((bytes, index) => ({ index, load: async () => bytes }));
const persons = (frame: FrameDetections) => frame.detections.filter((d) => d.category === 'person');

describe('thermal frames', () => {
  it('are the palette stills, and grey frames', async () => {
    for (const still of Object.values(thermalStills)) {
      const bytes = await readThermalStill(still);
      assert.ok(isThermalFrame(await rgbOf(bytes), undefined), still);
      assert.ok(isThermalFrame(await rgbOf(await sharp(bytes).greyscale().toColourspace('srgb').jpeg().toBuffer()), undefined), `${still} grey`);
    }
  });

  // A colour camera's grey frames (night IR, an overcast car park) count as thermal too: the nuisance
  // fixtures in `npm run eval` check that the pass adds no person to them.
  it('are not colour frames', async () => {
    for (const event of ['pets2009_people_walking_a', 'warehouse_worker_hardhat', 'highway_cyclist_on_shoulder']) {
      const [frame] = await eventFrames(event, 1);
      assert.equal(isThermalFrame(await rgbOf(frame!.bytes), false), false, event);
    }
  });

  it('tile 3 x 3, overlapping, covering the frame', () => {
    const tiles = thermalTileRegions(320, 240);
    assert.equal(tiles.length, 9);
    assert.deepEqual(tiles[0], { left: 0, top: 0, width: 160, height: 120 });
    assert.deepEqual(tiles[4], { left: 80, top: 60, width: 160, height: 120 });
    assert.deepEqual(tiles[8], { left: 160, top: 120, width: 160, height: 120 });
  });

  it('tell the camera readouts from warm bodies', async () => {
    const ducks = await rgbOf(await readThermalStill(thermalStills.ducks));
    // The FLIR logo top right of the 240 x 240 still, and the part of it the detector takes for a person.
    assert.ok(readoutShare(ducks, 240, 240, [168, 6, 236, 28]) >= 0.2);
    assert.ok(readoutShare(ducks, 240, 240, [224, 11, 236, 27]) >= 0.2);
    const people = await rgbOf(await readThermalStill(thermalStills.people));
    // The two people in the middle of the laboratory still.
    assert.ok(readoutShare(people, 240, 240, [86, 42, 152, 146]) < 0.2);
    assert.ok(readoutShare(people, 240, 240, [157, 43, 212, 149]) < 0.2);
    assert.equal(inReadoutBand([224, 11, 236, 27], 240), true);
    assert.equal(inReadoutBand([29, 182, 46, 207], 240), false);
  });
});

describe('thermal pass confirmation', () => {
  // Grey frames: thermal. The stub detector sees a person in the middle tile of the frames it is told.
  const grey = resizableRgb({ width: 320, height: 240, data: Buffer.alloc(320 * 240 * 3, 90) });
  const inputs = [0, 1, 2, 3].map((frameIndex) => ({ frameIndex, source: grey }));
  const empty: FrameDetections[] = inputs.map(({ frameIndex }) => ({ frameIndex, width: 320, height: 240, detections: [] }));
  const person = (score: number): Detection => ({ category: 'person', label: 'person', score, box: [60, 30, 80, 80] });
  const seeing = (framesWithPerson: number[], score: number): DetectViews => async (views) =>
    views.map((view, i) => (i % 9 === 4 && framesWithPerson.includes(view.frameIndex) ? [person(score)] : []));

  it('keeps a person seen in two frames', async () => {
    const { frames, run } = await thermalPass(inputs, empty, seeing([1, 2], 0.45));
    assert.deepEqual(frames.map((frame) => persons(frame).length), [0, 1, 1, 0]);
    // The middle tile starts at (80, 60): the box comes back in frame pixels.
    assert.deepEqual(persons(frames[1]!)[0]!.box, [140, 90, 160, 140]);
    assert.deepEqual(run.dropped, { readout: 0, unconfirmed: 0 });
    assert.equal(run.frames, 4);
    assert.equal(run.runs, 36);
    assert.equal(run.persons, 2);
  });

  it(`keeps a person seen in one frame only from ${CONFIRMED_ALONE_SCORE}`, async () => {
    const weak = await thermalPass(inputs, empty, seeing([2], CONFIRMED_ALONE_SCORE - 0.01));
    assert.equal(weak.run.persons, 0);
    assert.equal(weak.run.dropped.unconfirmed, 1);
    const strong = await thermalPass(inputs, empty, seeing([2], CONFIRMED_ALONE_SCORE));
    assert.equal(persons(strong.frames[2]!).length, 1);
  });

  it('reads a frame unchanged since an earlier one as that frame: its tiles run once, its finds carried', async () => {
    // Frames 1 and 3 are unchanged since frames 0 and 2: only 0 and 2 are read.
    const { frames, run } = await thermalPass(inputs, empty, seeing([0], 0.45), [0, 0, 2, 2]);
    assert.equal(run.frames, 2);
    assert.equal(run.runs, 18);
    assert.deepEqual(frames.map((frame) => persons(frame).length), [1, 1, 0, 0]);
  });

  it('leaves frames that are not thermal alone', async () => {
    const [frame] = await eventFrames('pets2009_people_walking_a', 1);
    const source = await openResizable(frame!.bytes);
    const visible = inputs.map((input) => ({ ...input, source }));
    const empty = inputs.map(({ frameIndex }) => ({ frameIndex, width: source.width, height: source.height, detections: [] }));
    const { frames, run } = await thermalPass(visible, empty, seeing([0, 1, 2, 3], 0.9));
    assert.equal(run.frames, 0);
    assert.equal(run.runs, 0);
    assert.deepEqual(frames, empty);
  });
});

describe('thermal pass on the fixture stills with the real detector', () => {
  let detector: Detector;
  before(async () => {
    detector = await createDetector({ modelsDir, model: 'yolox_nano_416_coco', device: { kind: 'cpu' }, intraOpThreads: 1, sessions: 2 });
  });
  after(async () => detector.release());

  const engine = (thermal: boolean) => createDetectionEngine({ detector, cascade: null, thermal });

  it('finds people a few dozen metres away that detection alone misses', async () => {
    const event = (await smallPersonEvents()).find((candidate) => candidate.name === 'ducks 0.12')!;
    const off = await engine(false).detectEvent(asEngineFrames(event.frames));
    assert.equal(off.thermal, null);
    assert.ok(off.frames.every((frame) => persons(frame).length === 0), JSON.stringify(off.frames));
    const on = await engine(true).detectEvent(asEngineFrames(event.frames));
    assert.equal(on.thermal?.frames, 4);
    assert.ok(on.frames.filter((frame) => persons(frame).some((d) => d.box[3] > 150)).length >= 2, JSON.stringify(on.frames));
  });

  it('adds no person to the ducks, as a still or an event', async () => {
    const still = await readThermalStill(thermalStills.ducks);
    for (const frames of [[still], await shiftedEvent(still)]) {
      const on = await engine(true).detectEvent(asEngineFrames(frames));
      assert.equal(on.thermal?.frames, frames.length);
      assert.equal(on.thermal.persons, 0, JSON.stringify(on.thermal));
    }
  });

  it('does not run where detection found the people', async () => {
    const on = await engine(true).detectEvent(asEngineFrames([await readThermalStill(thermalStills.people)]));
    assert.equal(on.thermal, null);
    assert.ok(persons(on.frames[0]!).length >= 3);
  });
});
