import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { yolox } from '../../gpu-worker/models/yolox.js';
import { isPseudoColour, pseudoColourStats, toLuminance } from '../../gpu-worker/pseudo-colour.js';
import { openResizable } from '../../media/image.js';
import { fixturesDir, modelsDir } from '../support/paths.js';

/** A frame as the detector sees it: resized for YOLOX-nano, straight from the file. */
async function modelInput(file: string): Promise<Buffer> {
  const frame = await openResizable(await readFile(file));
  const { width, height, kernel } = yolox.resizeFor(frame.width, frame.height);
  return frame.resize(width, height, kernel);
}

async function imagesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => /\.(jpe?g|png)$/i.test(name)).map((name) => path.join(dir, name));
}

const thermalDir = path.join(fixturesDir, 'stills/thermal');

describe('pseudo-colour detection', () => {
  it('recognises the FLIR iron and rainbow stills', async () => {
    const stills = await imagesIn(thermalDir);
    assert.equal(stills.length, 3);
    for (const still of stills) {
      const rgb = await modelInput(still);
      const stats = pseudoColourStats(rgb);
      assert.ok(isPseudoColour(rgb), `${path.basename(still)}: ${JSON.stringify(stats)}`);
      assert.ok(stats.colourfulShare >= 0.9 && stats.meanSaturation >= 0.7, JSON.stringify(stats));
    }
  });

  it('leaves visible-light and night IR frames alone, colourful ones included', async () => {
    const frames = [
      ...(await imagesIn(path.join(fixturesDir, 'stills/camera_trap'))),
      ...(await imagesIn(path.join(fixturesDir, 'stills/general_photos'))),
      ...(await imagesIn(path.join(fixturesDir, 'stills/traffic_cctv'))),
      ...(await imagesIn(path.join(fixturesDir, 'labelled/coco_permissive/images'))),
      ...(await imagesIn(path.join(modelsDir, 'testdata'))),
    ];
    for (const event of await readdir(path.join(fixturesDir, 'events'))) {
      frames.push(path.join(fixturesDir, 'events', event, 'frame_00.jpg'));
    }
    assert.ok(frames.length >= 40, `${frames.length} frames`);
    for (const frame of frames) {
      const rgb = await modelInput(frame);
      assert.equal(isPseudoColour(rgb), false, `${path.basename(frame)}: ${JSON.stringify(pseudoColourStats(rgb))}`);
    }
  });

  it('is not fooled by one saturated colour filling the frame', () => {
    const red = Buffer.alloc(416 * 312 * 3);
    for (let i = 0; i < red.length; i += 3) red[i] = 200 + (i % 50);
    assert.equal(isPseudoColour(red), false);
    assert.ok(pseudoColourStats(red).hueSpan < 90);
  });
});

describe('toLuminance', () => {
  it('writes Rec. 601 luma into all three channels', () => {
    const rgb = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]);
    toLuminance(rgb);
    assert.deepEqual([...rgb], [76, 76, 76, 150, 150, 150, 29, 29, 29, 18, 18, 18]);
  });

  it('turns a thermal still into a grey frame that is no longer pseudo-colour', async () => {
    const rgb = await modelInput(path.join(thermalDir, 'wikimedia_Infrared_image_of_people_in_the_laboratory.jpg'));
    toLuminance(rgb);
    for (let i = 0; i < rgb.length; i += 3) assert.ok(rgb[i] === rgb[i + 1] && rgb[i] === rgb[i + 2]);
    assert.equal(isPseudoColour(rgb), false);
    assert.equal(pseudoColourStats(rgb).colourfulShare, 0);
  });
});
