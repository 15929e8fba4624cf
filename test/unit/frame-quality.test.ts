import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { assessFrameQuality } from '../support/frame-quality.js';
import {
  blurEffect,
  changedShare,
  coveredArea,
  defaultFrameQualitySettings,
  judgeFrameQuality,
  measureFrameQuality,
  measuringOf,
  qualityIndicators,
  qualityThumbnailWidth,
  sameMeasuring,
  type QualityIndicator,
} from '../../domain/frame-quality.js';
import type { GreyFrame } from '../../domain/motion.js';
import { decodeToGrey } from '../../media/image.js';
import { eventFrames, fixtureEvents } from '../support/alarms.js';
import { fixturesDir } from '../support/paths.js';

const eventFrame = async (event: string, index: number) => (await eventFrames(event))[index]!.bytes;
const thumbnail = (bytes: Uint8Array) => decodeToGrey(bytes, qualityThumbnailWidth);
const flagsOf = (frame: GreyFrame): QualityIndicator[] => assessFrameQuality([frame]).frames[0]!.flags;

/** Something dark and out of focus over a corner of the picture, as a finger or a leaf on the lens. */
async function withBlobOverCorner(bytes: Uint8Array, coverage: number): Promise<Buffer> {
  const { width = 0, height = 0 } = await sharp(bytes).metadata();
  const blob = `<svg width="${width}" height="${height}"><ellipse cx="${width}" cy="0" rx="${width * coverage * 1.4}" ry="${
    height * (coverage + 0.15) * 1.4
  }" fill="#141414"/></svg>`;
  const soft = await sharp(Buffer.from(blob)).blur(width / 60).png().toBuffer();
  return sharp(bytes).composite([{ input: soft }]).jpeg().toBuffer();
}

let pets: Uint8Array;

before(async () => {
  pets = await eventFrame('pets2009_people_walking_a', 3);
});

describe('frame quality on the fixture events', () => {
  for (const event of fixtureEvents) {
    it(`${event}: no frame flagged`, async () => {
      const frames = await Promise.all((await eventFrames(event)).map(({ bytes }) => thumbnail(bytes)));
      const report = assessFrameQuality(frames);
      assert.deepEqual(report.indicators, [], JSON.stringify(report.frames.map((frame) => frame.measures)));
      assert.deepEqual(report.frames.map((frame) => frame.frameIndex), [0, 1, 2, 3, 4, 5, 6, 7]);
    });
  }
});

describe('frame_too_dark', () => {
  it('flags a fixture frame darkened to 15 % of its brightness', async () => {
    const dark = await thumbnail(await sharp(pets).linear(0.15, 0).jpeg().toBuffer());
    assert.deepEqual(flagsOf(dark), ['frame_too_dark']);
  });

  it('leaves a dim night camera-trap frame alone: little light, but the ground still shows', async () => {
    const night = await thumbnail(await readFile(path.join(fixturesDir, 'stills/camera_trap/cameratrapai_blank.jpg')));
    const { measures, flags } = assessFrameQuality([night]).frames[0]!;
    assert.ok(measures.darkShare > 0.5, `a dark frame: ${measures.darkShare}`);
    assert.deepEqual(flags, []);
  });
});

describe('frame_blurred', () => {
  it('flags a fixture frame blurred out of focus (sigma 6 px at 768 px wide)', async () => {
    const blurred = await thumbnail(await sharp(pets).blur(6).jpeg().toBuffer());
    assert.deepEqual(flagsOf(blurred), ['frame_blurred']);
    assert.deepEqual(flagsOf(await thumbnail(pets)), []);
  });

  it('grows with the blur and is 1 for a frame without any detail', async () => {
    const effects = [];
    for (const sigma of [0, 2, 4, 8]) {
      effects.push(blurEffect(await thumbnail(sigma === 0 ? pets : await sharp(pets).blur(sigma).jpeg().toBuffer())));
    }
    assert.deepEqual([...effects].sort((a, b) => a - b), effects, `increasing: ${effects.join(', ')}`);
    assert.ok(effects[0]! < 0.3 && effects[3]! > 0.6, effects.join(', '));
    assert.equal(blurEffect({ width: 8, height: 8, data: new Uint8Array(64).fill(90) }), 1);
  });

  it('is the measure of the 9-pixel mean added up pixel by pixel, on every fixture frame and on noise of any size', async () => {
    const frames: GreyFrame[] = [];
    for (const event of fixtureEvents) for (const { bytes } of await eventFrames(event)) frames.push(await thumbnail(bytes));
    let seed = 17;
    const noise = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % 256;
    for (const [width, height] of [[1, 1], [1, 9], [3, 2], [9, 1], [10, 12], [40, 30]] as const) {
      frames.push({ width, height, data: Uint8Array.from({ length: width * height }, noise) });
    }
    for (const frame of frames) assert.equal(blurEffect(frame), blurEffectPixelByPixel(frame), `${frame.width}×${frame.height}`);
  });
});

/** The blur effect as first written: each pixel's 9-pixel window added up again; the reference for the running sums. */
function blurEffectPixelByPixel({ width, height, data }: GreyFrame): number {
  const at = (x: number, y: number) => data[Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))]!;
  const rowMean = new Float32Array(width * height);
  const columnMean = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let row = 0;
      let column = 0;
      for (let k = -4; k <= 4; k++) {
        row += at(x + k, y);
        column += at(x, y + k);
      }
      rowMean[y * width + x] = row / 9;
      columnMean[y * width + x] = column / 9;
    }
  }
  let vertical = 0;
  let verticalLost = 0;
  let horizontal = 0;
  let horizontalLost = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (y > 0) {
        const step = Math.abs(data[i]! - data[i - width]!);
        vertical += step;
        verticalLost += Math.max(0, step - Math.abs(columnMean[i]! - columnMean[i - width]!));
      }
      if (x > 0) {
        const step = Math.abs(data[i]! - data[i - 1]!);
        horizontal += step;
        horizontalLost += Math.max(0, step - Math.abs(rowMean[i]! - rowMean[i - 1]!));
      }
    }
  }
  const kept = (total: number, lost: number) => (total === 0 ? 1 : (total - lost) / total);
  return Math.round(Math.max(kept(vertical, verticalLost), kept(horizontal, horizontalLost)) * 10_000) / 10_000;
}

describe('frame_frozen', () => {
  it('flags the second of two identical frames', async () => {
    const frame = await thumbnail(pets);
    const report = assessFrameQuality([frame, frame]);
    assert.deepEqual(report.frames.map((f) => f.flags), [[], ['frame_frozen']]);
    assert.equal(report.frames[0]!.measures.changedShare, null);
    assert.equal(report.frames[1]!.measures.changedShare, 0);
  });

  it('flags the same picture sent again re-encoded', async () => {
    const again = await thumbnail(await sharp(pets).jpeg({ quality: 80 }).toBuffer());
    assert.deepEqual(assessFrameQuality([await thumbnail(pets), again]).frames[1]!.flags, ['frame_frozen']);
  });

  it('leaves a still, empty scene alone: its sensor noise changes from frame to frame', async () => {
    const first = await thumbnail(await eventFrame('parking_lot_empty_a', 0));
    const second = await thumbnail(await eventFrame('parking_lot_empty_a', 1));
    assert.ok(changedShare(first, second, defaultFrameQualitySettings.frozenPixelTolerance) > defaultFrameQualitySettings.frozenMaxChangedShare);
    assert.deepEqual(assessFrameQuality([first, second]).indicators, []);
  });

  it('counts frames of different sizes as changed', () => {
    const small = { width: 2, height: 2, data: new Uint8Array(4) };
    const large = { width: 4, height: 1, data: new Uint8Array(4) };
    assert.equal(changedShare(small, large, 8), 1);
  });
});

describe('lens_blocked', () => {
  for (const event of ['pets2009_people_walking_a', 'tree_foliage_wind', 'parking_lot_empty_a']) {
    it(`${event}: flags something dark over a third of the lens, not a smaller one`, async () => {
      const frame = await eventFrame(event, 3);
      const covered = await thumbnail(await withBlobOverCorner(frame, 0.45));
      assert.deepEqual(flagsOf(covered), ['lens_blocked'], JSON.stringify(coveredArea(covered, defaultFrameQualitySettings.lensBlocked)));
      assert.deepEqual(flagsOf(await thumbnail(await withBlobOverCorner(frame, 0.3))), []);
    });
  }

  it('leaves a uniform but lit scene alone (an empty car park)', async () => {
    const empty = await thumbnail(await eventFrame('parking_lot_empty_a', 0));
    assert.equal(coveredArea(empty, defaultFrameQualitySettings.lensBlocked).share, 0);
  });

  it('leaves a night scene alone: it is dark everywhere, not covered in part', async () => {
    const night = await thumbnail(await readFile(path.join(fixturesDir, 'stills/camera_trap/cameratrapai_blank.jpg')));
    const { share, restBrightness } = coveredArea(night, defaultFrameQualitySettings.lensBlocked);
    assert.ok(share > 0.5 && restBrightness < defaultFrameQualitySettings.lensBlocked.minLitBrightness, `${share} ${restBrightness}`);
    assert.deepEqual(flagsOf(night), []);
  });
});

describe('assessFrameQuality', () => {
  it('reports each flag once, in vocabulary order, and the frames that raised it', async () => {
    const frame = await thumbnail(pets);
    const dark = await thumbnail(await sharp(pets).linear(0.15, 0).jpeg().toBuffer());
    const blurred = await thumbnail(await sharp(pets).blur(6).jpeg().toBuffer());
    const covered = await thumbnail(await withBlobOverCorner(pets, 0.45));
    const report = assessFrameQuality([covered, frame, frame, blurred, dark]);
    assert.deepEqual(report.indicators, qualityIndicators.map(({ indicator }) => indicator));
    assert.deepEqual(report.frames.map((f) => f.flags), [['lens_blocked'], [], ['frame_frozen'], ['frame_blurred'], ['frame_too_dark']]);
  });

  it('never raises a disabled flag', async () => {
    const frame = await thumbnail(pets);
    const report = assessFrameQuality([frame, frame], defaultFrameQualitySettings, ['frame_frozen']);
    assert.deepEqual(report.indicators, []);
  });

  it('follows the settings', async () => {
    const blurred = await thumbnail(await sharp(pets).blur(6).jpeg().toBuffer());
    const lenient = { ...defaultFrameQualitySettings, maxBlurEffect: 0.95 };
    assert.deepEqual(assessFrameQuality([blurred], lenient).indicators, []);
  });

  it('refuses a grey frame whose data does not match its size', () => {
    assert.throws(() => assessFrameQuality([{ width: 4, height: 4, data: new Uint8Array(15) }]), RangeError);
  });
});

describe('measure, then judge', () => {
  it('judging measures taken with the same measuring settings flags as assessing the frames does', async () => {
    const frames = await Promise.all((await eventFrames('tree_hand_over_lens')).map(({ bytes }) => thumbnail(bytes)));
    const strict = { ...defaultFrameQualitySettings, tooDarkShare: 0.05, maxBlurEffect: 0.25, lensBlocked: { ...defaultFrameQualitySettings.lensBlocked, minShare: 0 } };
    const measures = measureFrameQuality(frames, measuringOf(strict));
    const judged = judgeFrameQuality(measures, strict, ['frame_too_dark']);
    assert.deepEqual(judged, assessFrameQuality(frames, strict, ['frame_too_dark']));
    assert.ok(judged.indicators.length > 0, 'some flag raised');
  });

  it('tells measuring settings apart from judging thresholds', () => {
    const measuring = measuringOf(defaultFrameQualitySettings);
    assert.ok(sameMeasuring(measuring, measuringOf({ ...defaultFrameQualitySettings, maxBlurEffect: 0.1, tooDarkShare: 0.2 })));
    assert.ok(!sameMeasuring(measuring, measuringOf({ ...defaultFrameQualitySettings, darkLevel: 41 })));
    const lensBlocked = { ...defaultFrameQualitySettings.lensBlocked, maxCellDeviation: 9 };
    assert.ok(!sameMeasuring(measuring, measuringOf({ ...defaultFrameQualitySettings, lensBlocked })));
  });
});
