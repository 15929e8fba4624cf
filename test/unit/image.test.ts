import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import {
  decodeToGrey,
  decodeToRgb,
  InvalidImageError,
  openResizable,
  probeImage,
  regionOf,
  resizableRgb,
  shrinkGrey,
  sniffImageFormat,
  type RgbImage,
} from '../../media/image.js';
import { fixturesDir } from '../support/paths.js';

const framePath = path.join(fixturesDir, 'events/pets2009_people_walking_a/frame_00.jpg');
const WIDTH = 768;
const HEIGHT = 576;

let jpeg: Buffer;
/** The fixture frame as decoded by sharp directly: the reference for lossless re-encodings. */
let reference: RgbImage;

before(async () => {
  jpeg = await readFile(framePath);
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  reference = { width: info.width, height: info.height, data };
});

function fromRaw(image: RgbImage, channels: 1 | 2 | 3 | 4 = 3) {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels } });
}

function meanAbsDiff(a: Buffer, b: Buffer): number {
  assert.equal(a.length, b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

function assertRgb(image: RgbImage, width: number, height: number): void {
  assert.equal(image.width, width);
  assert.equal(image.height, height);
  assert.equal(image.data.length, width * height * 3);
}

/** Minimal uncompressed BMP writer (BITMAPINFOHEADER); the fourth byte of 32-bit pixels is left 0, as many writers do. */
function encodeBmp(image: RgbImage, { bitsPerPixel = 24, topDown = false }: { bitsPerPixel?: 24 | 32; topDown?: boolean } = {}): Buffer {
  const bytesPerPixel = bitsPerPixel / 8;
  const stride = Math.ceil((image.width * bytesPerPixel) / 4) * 4;
  const out = Buffer.alloc(54 + stride * image.height);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(image.width, 18);
  out.writeInt32LE(topDown ? -image.height : image.height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(bitsPerPixel, 28);
  out.writeUInt32LE(stride * image.height, 34);
  for (let y = 0; y < image.height; y++) {
    const row = 54 + (topDown ? y : image.height - 1 - y) * stride;
    for (let x = 0; x < image.width; x++) {
      const src = (y * image.width + x) * 3;
      const dst = row + x * bytesPerPixel;
      out[dst] = image.data[src + 2]!;
      out[dst + 1] = image.data[src + 1]!;
      out[dst + 2] = image.data[src]!;
    }
  }
  return out;
}

async function assertInvalid(promise: Promise<unknown>, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof InvalidImageError, `expected InvalidImageError, got ${String(err)}`);
    assert.equal(err.code, 'INVALID_IMAGE');
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('sniffImageFormat', () => {
  it('recognises the accepted formats by content', async () => {
    assert.equal(await sniffImageFormat(jpeg), 'jpeg');
    assert.equal(await sniffImageFormat(await fromRaw(reference).png().toBuffer()), 'png');
    assert.equal(await sniffImageFormat(await fromRaw(reference).webp().toBuffer()), 'webp');
    assert.equal(await sniffImageFormat(encodeBmp(reference)), 'bmp');
  });

  it('returns null for other formats and for garbage', async () => {
    assert.equal(await sniffImageFormat(await fromRaw(reference).gif().toBuffer()), null);
    assert.equal(await sniffImageFormat(await fromRaw(reference).tiff().toBuffer()), null);
    assert.equal(await sniffImageFormat(Buffer.from('definitely not an image, just some text')), null);
    assert.equal(await sniffImageFormat(new Uint8Array(0)), null);
  });
});

describe('probeImage', () => {
  it('reads format and size', async () => {
    assert.deepEqual(await probeImage(jpeg), { format: 'jpeg', width: WIDTH, height: HEIGHT });
    assert.deepEqual(await probeImage(encodeBmp(reference, { topDown: true })), { format: 'bmp', width: WIDTH, height: HEIGHT });
  });

  it('refuses files cut off after a valid header', async () => {
    const png = await sharp(jpeg).png().toBuffer();
    const bmp = encodeBmp(reference, { topDown: false });
    for (const truncated of [jpeg.subarray(0, jpeg.length - 200), png.subarray(0, png.length - 100), bmp.subarray(0, bmp.length - 64)]) {
      await assert.rejects(probeImage(truncated), InvalidImageError);
    }
  });

  it('reports oriented dimensions for EXIF orientations 5-8', async () => {
    for (const orientation of [5, 6, 7, 8]) {
      const tagged = await sharp(jpeg).withMetadata({ orientation }).jpeg().toBuffer();
      assert.deepEqual(await probeImage(tagged), { format: 'jpeg', width: HEIGHT, height: WIDTH }, `orientation ${orientation}`);
    }
    const upsideDown = await sharp(jpeg).withMetadata({ orientation: 3 }).jpeg().toBuffer();
    assert.deepEqual(await probeImage(upsideDown), { format: 'jpeg', width: WIDTH, height: HEIGHT });
  });

  it('rejects images wider or taller than 4096 px', async () => {
    const wide = await sharp({ create: { width: 5000, height: 10, channels: 3, background: '#808080' } }).png().toBuffer();
    await assertInvalid(probeImage(wide), /5000x10.*4096x4096/);
    const tall = await sharp({ create: { width: 10, height: 4097, channels: 3, background: '#808080' } }).webp().toBuffer();
    await assertInvalid(probeImage(tall), /10x4097/);
  });

  it('rejects oversized BMPs from the header alone', async () => {
    const header = encodeBmp({ width: 2, height: 2, data: Buffer.alloc(12) });
    header.writeInt32LE(5000, 18);
    await assertInvalid(probeImage(header), /5000x2/);
  });

  it('rejects unsupported formats and garbage', async () => {
    await assertInvalid(probeImage(await fromRaw(reference).gif().toBuffer()), /JPEG, PNG, WebP or BMP/);
    await assertInvalid(probeImage(Buffer.from('GIF? no. PNG? no. Just bytes.')));
  });
});

describe('decodeToRgb', () => {
  it('decodes a JPEG to interleaved 8-bit RGB', async () => {
    const image = await decodeToRgb(jpeg);
    assertRgb(image, WIDTH, HEIGHT);
    assert.ok(image.data.equals(reference.data));
  });

  it('decodes lossless PNG and WebP to the exact pixels', async () => {
    for (const bytes of [await fromRaw(reference).png().toBuffer(), await fromRaw(reference).webp({ lossless: true }).toBuffer()]) {
      const image = await decodeToRgb(bytes);
      assertRgb(image, WIDTH, HEIGHT);
      assert.ok(image.data.equals(reference.data));
    }
  });

  it('decodes lossy WebP close to the source', async () => {
    const image = await decodeToRgb(await fromRaw(reference).webp({ quality: 90 }).toBuffer());
    assertRgb(image, WIDTH, HEIGHT);
    assert.ok(meanAbsDiff(image.data, reference.data) < 4);
  });

  it('decodes 24- and 32-bit, bottom-up and top-down BMPs exactly, including padded rows', async () => {
    // 767 px rows are 2301 bytes, padded to 2304 in 24-bit BMPs.
    const { data, info } = await fromRaw(reference).extract({ left: 0, top: 0, width: 767, height: 575 }).raw().toBuffer({ resolveWithObject: true });
    const odd: RgbImage = { width: info.width, height: info.height, data };
    for (const options of [{}, { topDown: true }, { bitsPerPixel: 32 as const }, { bitsPerPixel: 32 as const, topDown: true }]) {
      const image = await decodeToRgb(encodeBmp(odd, options));
      assertRgb(image, 767, 575);
      assert.ok(image.data.equals(odd.data), `BMP ${JSON.stringify(options)}`);
    }
  });

  it('rejects BMP encodings decode-bmp would misread', async () => {
    const rle = encodeBmp(reference);
    rle.writeUInt32LE(1, 30);
    await assertInvalid(decodeToRgb(rle), /compression 1/);
    const sixteenBit = encodeBmp(reference);
    sixteenBit.writeUInt16LE(16, 28);
    await assertInvalid(decodeToRgb(sixteenBit), /16 bits/);
    const truncated = encodeBmp(reference).subarray(0, 10_000);
    await assertInvalid(decodeToRgb(truncated), /truncated/i);
  });

  it('expands greyscale to three equal channels', async () => {
    const grey = await sharp(jpeg).toColourspace('b-w').jpeg().toBuffer();
    assert.equal((await sharp(grey).metadata()).channels, 1);
    const image = await decodeToRgb(grey);
    assertRgb(image, WIDTH, HEIGHT);
    for (let i = 0; i < image.data.length; i += 3) {
      assert.ok(image.data[i] === image.data[i + 1] && image.data[i] === image.data[i + 2], `pixel ${i / 3} is not grey`);
    }
  });

  it('converts CMYK to sRGB', async () => {
    const cmyk = await sharp(jpeg).toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
    assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
    const image = await decodeToRgb(cmyk);
    assertRgb(image, WIDTH, HEIGHT);
    assert.ok(meanAbsDiff(image.data, reference.data) < 10);
  });

  it('reduces 16-bit PNGs to 8 bits', async () => {
    const deep = await fromRaw(reference).toColourspace('rgb16').png().toBuffer();
    assert.equal((await sharp(deep).metadata()).depth, 'ushort');
    const image = await decodeToRgb(deep);
    assertRgb(image, WIDTH, HEIGHT);
    assert.ok(meanAbsDiff(image.data, reference.data) < 1);
  });

  it('flattens alpha onto black', async () => {
    const rgba = Buffer.alloc(WIDTH * HEIGHT * 4);
    for (let p = 0; p < WIDTH * HEIGHT; p++) {
      reference.data.copy(rgba, p * 4, p * 3, p * 3 + 3);
      rgba[p * 4 + 3] = p % WIDTH < WIDTH / 2 ? 0 : 255;
    }
    const png = await sharp(rgba, { raw: { width: WIDTH, height: HEIGHT, channels: 4 } }).png().toBuffer();
    const image = await decodeToRgb(png);
    assertRgb(image, WIDTH, HEIGHT);
    for (let p = 0; p < WIDTH * HEIGHT; p++) {
      const transparent = p % WIDTH < WIDTH / 2;
      for (let c = 0; c < 3; c++) {
        const expected = transparent ? 0 : reference.data[p * 3 + c];
        if (image.data[p * 3 + c] !== expected) assert.fail(`pixel ${p} channel ${c}: ${image.data[p * 3 + c]} != ${expected}`);
      }
    }
  });

  it('applies EXIF orientation', async () => {
    const untagged = await sharp(jpeg).jpeg({ quality: 95 }).toBuffer();
    const tagged = await sharp(jpeg).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
    const expected = await sharp(untagged).rotate(90).raw().toBuffer();
    const image = await decodeToRgb(tagged);
    assertRgb(image, HEIGHT, WIDTH);
    assert.ok(meanAbsDiff(image.data, expected) < 0.5);
    assert.ok(meanAbsDiff(image.data, await sharp(untagged).rotate(270).raw().toBuffer()) > 10, 'rotated the wrong way');
  });

  it('rejects garbage, truncated JPEGs and oversized images', async () => {
    await assertInvalid(decodeToRgb(Buffer.from('\x00\x01\x02 garbage bytes that are not an image')));
    await assertInvalid(decodeToRgb(jpeg.subarray(0, Math.floor(jpeg.length / 2))), /Cannot decode jpeg/);
    const wide = await sharp({ create: { width: 5000, height: 10, channels: 3, background: '#808080' } }).png().toBuffer();
    await assertInvalid(decodeToRgb(wide), /4096x4096/);
  });

  it('accepts 4096x4096', async () => {
    const largest = await sharp({ create: { width: 4096, height: 4096, channels: 3, background: '#336699' } }).png().toBuffer();
    const image = await decodeToRgb(largest);
    assertRgb(image, 4096, 4096);
    assert.deepEqual([...image.data.subarray(0, 3)], [0x33, 0x66, 0x99]);
  });
});

describe('decodeToGrey', () => {
  it('downscales to the requested width, keeping the aspect ratio, one channel', async () => {
    const grey = await decodeToGrey(jpeg, 160);
    assert.equal(grey.width, 160);
    assert.equal(grey.height, 120);
    assert.equal(grey.data.length, 160 * 120);
    const full = await sharp(jpeg).resize(160, 120).toColourspace('b-w').raw().toBuffer();
    assert.ok(meanAbsDiff(grey.data, full) < 3);
  });

  it('follows EXIF orientation and never enlarges', async () => {
    const tagged = await sharp(jpeg).withMetadata({ orientation: 8 }).jpeg().toBuffer();
    const grey = await decodeToGrey(tagged, 144);
    assert.deepEqual([grey.width, grey.height], [144, 192]);
    const small = await decodeToGrey(jpeg, 2000);
    assert.deepEqual([small.width, small.height, small.data.length], [WIDTH, HEIGHT, WIDTH * HEIGHT]);
  });

  it('rejects invalid images', async () => {
    await assertInvalid(decodeToGrey(Buffer.from('nope'), 160));
  });
});

describe('shrinkGrey', () => {
  it('makes a smaller thumbnail of a grey one, keeping the aspect ratio, one channel', async () => {
    const large = await decodeToGrey(jpeg, 256);
    const small = await shrinkGrey(large, 64);
    assert.deepEqual([small.width, small.height, small.data.length], [64, 48, 64 * 48]);
    assert.ok(meanAbsDiff(small.data, (await decodeToGrey(jpeg, 64)).data) < 3);
  });

  it('stretches to an exact size when given a height, and never enlarges otherwise', async () => {
    const large = await decodeToGrey(jpeg, 256);
    const exact = await shrinkGrey(large, 64, 36);
    assert.deepEqual([exact.width, exact.height, exact.data.length], [64, 36, 64 * 36]);
    const same = await shrinkGrey(large, 1000);
    assert.deepEqual([same.width, same.height], [256, 192]);
  });
});

describe('openResizable', () => {
  it('reads the size from the header and resizes straight from the file like a full decode would', async () => {
    const frame = await openResizable(jpeg);
    assert.deepEqual([frame.width, frame.height], [WIDTH, HEIGHT]);
    const direct = await frame.resize(416, 312, 'linear');
    assert.equal(direct.length, 416 * 312 * 3);
    const viaFullDecode = await resizableRgb(await decodeToRgb(jpeg)).resize(416, 312, 'linear');
    assert.ok(meanAbsDiff(direct, viaFullDecode) < 1, `mean difference ${meanAbsDiff(direct, viaFullDecode)}`);
  });

  it('follows EXIF orientation', async () => {
    const tagged = await sharp(jpeg).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
    const frame = await openResizable(tagged);
    assert.deepEqual([frame.width, frame.height], [HEIGHT, WIDTH]);
    const upright = await frame.resize(HEIGHT / 4, WIDTH / 4, 'cubic');
    const reference = await sharp(jpeg).rotate(90).resize(HEIGHT / 4, WIDTH / 4, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer();
    assert.ok(meanAbsDiff(upright, reference) < 3);
  });

  it('reads one region of the upright frame, from the file or from decoded pixels alike', async () => {
    const tagged = await sharp(jpeg).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer();
    const region = { left: 100, top: 300, width: 240, height: 180 };
    const upright = await sharp(jpeg).rotate(90).raw().toBuffer();
    const reference = await sharp(upright, { raw: { width: HEIGHT, height: WIDTH, channels: 3 } }).extract(region).raw().toBuffer();
    const fromFile = await regionOf(await openResizable(tagged), region).resize(240, 180, 'linear');
    assert.ok(meanAbsDiff(fromFile, reference) < 3, `mean difference ${meanAbsDiff(fromFile, reference)}`);
    const fromPixels = await regionOf(resizableRgb({ width: HEIGHT, height: WIDTH, data: upright }), region).resize(240, 180, 'linear');
    assert.ok(fromPixels.equals(reference));
    const elsewhere = await sharp(upright, { raw: { width: HEIGHT, height: WIDTH, channels: 3 } }).extract({ ...region, top: 0 }).raw().toBuffer();
    assert.ok(meanAbsDiff(fromFile, elsewhere) > 3, 'another region differs');
  });

  it('resizes BMPs through the BMP decoder', async () => {
    const frame = await openResizable(encodeBmp(reference));
    assert.deepEqual([frame.width, frame.height], [WIDTH, HEIGHT]);
    const bmp = await frame.resize(192, 144, 'linear');
    assert.ok(bmp.equals(await resizableRgb(reference).resize(192, 144, 'linear')));
  });

  it('refuses what is not an image when opened, and a truncated file when resized', async () => {
    await assertInvalid(openResizable(Buffer.from('nope')));
    const truncated = await openResizable(jpeg.subarray(0, 4000));
    await assertInvalid(truncated.resize(100, 75, 'linear'));
  });
});
