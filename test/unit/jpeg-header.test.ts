import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { InvalidImageError } from '../../media/image.js';
import { probeJpegHeader } from '../../media/jpeg-header.js';
import { fixturesDir } from '../support/paths.js';

const eventsDir = path.join(fixturesDir, 'events');

let jpeg: Buffer;

before(async () => {
  jpeg = await readFile(path.join(eventsDir, 'pets2009_people_walking_a/frame_00.jpg'));
});

/** Where the first segment with `marker` starts (its 0xFF), walking the segments before the scan. */
function segmentAt(bytes: Buffer, marker: number): number {
  let offset = 2;
  while (offset < bytes.length) {
    if (bytes[offset + 1] === marker) return offset;
    offset += 2 + bytes.readUInt16BE(offset + 2);
  }
  throw new Error(`no segment 0x${marker.toString(16)}`);
}

function withoutSegment(bytes: Buffer, marker: number): Buffer {
  const start = segmentAt(bytes, marker);
  return Buffer.concat([bytes.subarray(0, start), bytes.subarray(start + 2 + bytes.readUInt16BE(start + 2))]);
}

const refused = (bytes: Uint8Array, message: RegExp) =>
  assert.throws(() => probeJpegHeader(bytes), (error: unknown) => error instanceof InvalidImageError && message.test(error.message));

describe('probeJpegHeader: a JPEG checked by its markers', () => {
  it('gives every fixture frame the size sharp reads', async () => {
    let checked = 0;
    for (const event of await readdir(eventsDir)) {
      for (const name of (await readdir(path.join(eventsDir, event))).filter((n) => n.endsWith('.jpg'))) {
        const bytes = await readFile(path.join(eventsDir, event, name));
        const { width, height } = await sharp(bytes).metadata();
        assert.deepEqual(probeJpegHeader(bytes), { width, height }, `${event}/${name}`);
        checked++;
      }
    }
    assert.ok(checked >= 9, `${checked} fixture frames`);
  });

  it('reads progressive JPEGs, applies the EXIF orientation and tolerates padding after the end', async () => {
    const progressive = await sharp(jpeg).jpeg({ progressive: true }).toBuffer();
    assert.deepEqual(probeJpegHeader(progressive), { width: 768, height: 576 });
    const rotated = await sharp(jpeg).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    assert.deepEqual(probeJpegHeader(rotated), { width: 576, height: 768 });
    const { autoOrient } = await sharp(rotated).metadata();
    assert.deepEqual(autoOrient, { width: 576, height: 768 }, 'as sharp orients it');
    assert.deepEqual(probeJpegHeader(Buffer.concat([jpeg, Buffer.alloc(64)])), { width: 768, height: 576 });
  });

  it('refuses what is not a JPEG', async () => {
    refused(await sharp(jpeg).png().toBuffer(), /SOI/);
    refused(Buffer.alloc(0), /SOI/);
    refused(Buffer.from('not an image at all'), /SOI/);
  });

  it('refuses a JPEG cut short, in its headers or in its image data', () => {
    refused(jpeg.subarray(0, 2000), /Truncated/);
    refused(jpeg.subarray(0, jpeg.length - 200), /end-of-image/);
    refused(jpeg.subarray(0, jpeg.length - 2), /end-of-image/);
    refused(jpeg.subarray(0, segmentAt(jpeg, 0xc0) + 3), /Truncated/);
    // The cut lands where the next marker should be.
    refused(jpeg.subarray(0, segmentAt(jpeg, 0xda)), /no marker|Truncated/);
  });

  it('refuses a JPEG whose headers are broken', () => {
    refused(withoutSegment(jpeg, 0xc0), /before the frame header/);
    refused(withoutSegment(jpeg, 0xdb), /quantization/);
    const zeroWidth = Buffer.from(jpeg);
    zeroWidth.writeUInt16BE(0, segmentAt(jpeg, 0xc0) + 7);
    refused(zeroWidth, /size of 0x576/);
    const tooLarge = Buffer.from(jpeg);
    tooLarge.writeUInt16BE(5000, segmentAt(jpeg, 0xc0) + 7);
    refused(tooLarge, /5000x576; the largest/);
    const overlong = Buffer.from(jpeg.subarray(0, 4000));
    overlong.writeUInt16BE(0xfff0, segmentAt(jpeg, 0xdb) + 2);
    refused(overlong, /runs past the end/);
    const badScan = Buffer.from(jpeg);
    badScan[segmentAt(jpeg, 0xda) + 4] = 9;
    refused(badScan, /scan header/);
    const noMarker = Buffer.from(jpeg);
    noMarker[segmentAt(jpeg, 0xdb)] = 0x00;
    refused(noMarker, /no marker/);
    const earlyEnd = Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xd9])]);
    refused(earlyEnd, /before any image data/);
  });
});
