import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { buildContactSheet } from '../../media/contact-sheet.js';
import { eventFrames } from '../support/alarms.js';

describe('buildContactSheet', () => {
  const layouts: Array<[frames: number, columns: number, rows: number]> = [
    [4, 2, 2],
    [6, 3, 2],
    [8, 3, 3],
  ];
  for (const [count, columns, rows] of layouts) {
    it(`lays ${count} frames out ${columns}×${rows}`, async () => {
      const frames = (await eventFrames('pets2009_people_walking_a', count)).map((frame) => ({
        bytes: frame.bytes,
        boxes: [{ category: 'person' as const, box: [300, 200, 340, 300] as [number, number, number, number], score: 0.8 }],
      }));
      const sheet = await buildContactSheet(frames);
      assert.deepEqual([sheet.columns, sheet.rows], [columns, rows]);
      const meta = await sharp(sheet.jpeg).metadata();
      // 768×576 frames on 480×360 tiles.
      assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', columns * 480, rows * 360]);
    });
  }

  it('draws the boxes and numbers onto the tiles', async () => {
    const [frame] = await eventFrames('pets2009_people_walking_a', 1);
    const plain = await buildContactSheet([{ bytes: frame!.bytes, boxes: [] }]);
    const boxed = await buildContactSheet([{ bytes: frame!.bytes, boxes: [{ category: 'person', box: [300, 200, 340, 300], score: 0.8 }] }]);
    // The box edge (x = 300 of 768, so 187.5 of 480) turns red on the sheet.
    const pixel = async (jpeg: Buffer) => (await sharp(jpeg).extract({ left: 187, top: 160, width: 1, height: 1 }).raw().toBuffer()).toJSON().data;
    const [r, g] = await pixel(boxed.jpeg);
    assert.ok(r! > 150 && g! < 110, `expected red, got ${await pixel(boxed.jpeg)}`);
    assert.notDeepEqual(await pixel(plain.jpeg), await pixel(boxed.jpeg));
  });

  it('refuses an empty event', async () => {
    await assert.rejects(buildContactSheet([]), /at least one frame/);
  });
});
