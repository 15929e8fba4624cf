import decodeBmp from 'decode-bmp';
import { fileTypeFromBuffer } from 'file-type';
import sharp, { type Sharp } from 'sharp';

export type ImageFormat = 'jpeg' | 'png' | 'bmp' | 'webp';

/** Largest accepted width and height, after EXIF orientation. */
export const MAX_IMAGE_SIDE = 4096;

export class InvalidImageError extends Error {
  readonly code = 'INVALID_IMAGE';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidImageError';
  }
}

export interface RgbImage {
  width: number;
  height: number;
  /** RGB interleaved, 3 channels, 8 bits each, row-major. */
  data: Buffer;
}

export interface GreyImage {
  width: number;
  height: number;
  /** One 8-bit channel, row-major. */
  data: Buffer;
}

const formatsByMime: ReadonlyMap<string, ImageFormat> = new Map([
  ['image/jpeg', 'jpeg'],
  ['image/png', 'png'],
  // Animated PNG: the first frame is what gets analysed.
  ['image/apng', 'png'],
  ['image/webp', 'webp'],
  ['image/bmp', 'bmp'],
]);

export async function sniffImageFormat(bytes: Uint8Array): Promise<ImageFormat | null> {
  const type = await fileTypeFromBuffer(bytes);
  return (type && formatsByMime.get(type.mime)) ?? null;
}

export interface ImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
}

/** Format from the content and oriented size from the header; the pixel data is not read. */
async function readImageInfo(bytes: Uint8Array): Promise<ImageInfo> {
  const format = await sniffImageFormat(bytes);
  if (!format) throw new InvalidImageError('Not a JPEG, PNG, WebP or BMP image.');
  const { width, height } = format === 'bmp' ? readBmpHeader(bytes) : await readOrientedSize(bytes, format);
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
    throw new InvalidImageError(
      `Image is ${width}x${height}; the largest accepted size is ${MAX_IMAGE_SIDE}x${MAX_IMAGE_SIDE}.`,
    );
  }
  return { format, width, height };
}

const decodeLimits = { limitInputPixels: MAX_IMAGE_SIDE ** 2 };

/** Runs the decode of a `format` image; whatever fails in it is the image's fault. */
async function decoding<T>(format: ImageFormat, decode: () => Promise<T> | T): Promise<T> {
  try {
    return await decode();
  } catch (err) {
    throw new InvalidImageError(`Cannot decode ${format} image: ${errorMessage(err)}`, { cause: err });
  }
}

/** The start of every decode from a compressed file: EXIF orientation applied, then any alpha flattened onto black. */
function orientedFlattened(bytes: Uint8Array, region?: ImageRegion): Sharp {
  const oriented = sharp(bytes, decodeLimits).rotate();
  return (region ? oriented.extract(region) : oriented).flatten({ background: '#000000' });
}

/**
 * The upload check: the header, then every pixel decoded at a reduced scale (JPEG shrink-on-load keeps
 * this near 15 ms even at 4096x3072), so a truncated or corrupt file is refused before it is accepted.
 */
export async function probeImage(bytes: Uint8Array): Promise<ImageInfo> {
  const info = await readImageInfo(bytes);
  if (info.format === 'bmp') {
    assertBmpComplete(bytes, readBmpHeader(bytes));
    return info;
  }
  await decoding(info.format, () => sharp(bytes, decodeLimits).resize({ width: 64, height: 64, fit: 'inside' }).raw().toBuffer());
  return info;
}

/** Decodes to 8-bit sRGB with EXIF orientation applied and any alpha flattened onto black. */
export async function decodeToRgb(bytes: Uint8Array): Promise<RgbImage> {
  const { format } = await readImageInfo(bytes);
  return decoding(format, async () => {
    if (format === 'bmp') return decodeBmpToRgb(bytes);
    const { data, info } = await orientedFlattened(bytes).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data };
  });
}

/** Oriented greyscale scaled down to at most `width` pixels wide, aspect ratio kept (for motion analysis). */
export async function decodeToGrey(bytes: Uint8Array, width: number): Promise<GreyImage> {
  const { format } = await readImageInfo(bytes);
  return decoding(format, async () => {
    // Straight from the compressed file: JPEG shrink-on-load skips most of a full-size decode.
    const source = format === 'bmp' ? rgbPixels(decodeBmpToRgb(bytes)) : orientedFlattened(bytes);
    const { data, info } = await source
      .resize({ width, withoutEnlargement: true })
      .toColourspace('b-w')
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data };
  });
}

/**
 * A smaller copy of a grey image, without decoding the frame again: at most `width` pixels wide with the
 * aspect ratio kept, or exactly `width` × `height` when a height is given.
 */
export async function shrinkGrey(image: GreyImage, width: number, height?: number): Promise<GreyImage> {
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 1 } })
    .resize(height === undefined ? { width, withoutEnlargement: true } : { width, height, fit: 'fill' })
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

export type ResizeKernel = 'linear' | 'cubic';

/** A rectangle of an image, in its oriented pixels. */
export interface ImageRegion {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A frame that can be read at another size; `width` and `height` are its oriented size. */
export interface ResizableImage {
  width: number;
  height: number;
  /** RGB interleaved, stretched to exactly `width` x `height`; only `region` of the image when given. */
  resize(width: number, height: number, kernel: ResizeKernel, region?: ImageRegion): Promise<Buffer>;
}

/** One region of an image, resizable like a whole one. */
export function regionOf(image: ResizableImage, region: ImageRegion): ResizableImage {
  return {
    width: region.width,
    height: region.height,
    resize: (width, height, kernel) => image.resize(width, height, kernel, region),
  };
}

/**
 * For consumers that only need a smaller copy (the detector's 416 px input): the header is checked
 * now, and each `resize` decodes straight to the target size in one libvips pipeline (JPEG
 * shrink-on-load, no full-size RGB buffer). Same orientation, flattening and colour space as `decodeToRgb`.
 */
export async function openResizable(bytes: Uint8Array): Promise<ResizableImage> {
  const { format, width, height } = await readImageInfo(bytes);
  if (format === 'bmp') return resizableRgb(decodeBmpToRgb(bytes));
  return {
    width,
    height,
    resize: (targetWidth, targetHeight, kernel, region) =>
      decoding(format, () =>
        orientedFlattened(bytes, region).toColourspace('srgb').resize(targetWidth, targetHeight, { fit: 'fill', kernel }).raw().toBuffer(),
      ),
  };
}

/** Already decoded pixels, resized on demand. */
export function resizableRgb(image: RgbImage): ResizableImage {
  return {
    width: image.width,
    height: image.height,
    resize: (targetWidth, targetHeight, kernel, region) => {
      const raw = rgbPixels(image);
      return (region ? raw.extract(region) : raw)
        .resize(targetWidth, targetHeight, { fit: 'fill', kernel })
        .raw()
        .toBuffer();
    },
  };
}

async function readOrientedSize(bytes: Uint8Array, format: ImageFormat): Promise<{ width: number; height: number }> {
  try {
    const { autoOrient } = await sharp(bytes).metadata();
    return autoOrient;
  } catch (err) {
    throw new InvalidImageError(`Cannot read ${format} image header: ${errorMessage(err)}`, { cause: err });
  }
}

interface BmpHeader {
  width: number;
  height: number;
  topDown: boolean;
  pixelOffset: number;
  bitsPerPixel: number;
}

function assertBmpComplete(bytes: Uint8Array, { width, height, pixelOffset, bitsPerPixel }: BmpHeader): void {
  const rowBytes = Math.ceil((width * bitsPerPixel) / 32) * 4;
  if (bytes.byteLength < pixelOffset + rowBytes * height) throw new InvalidImageError('BMP file is truncated.');
}

const BI_RGB = 0;
const BI_BITFIELDS = 3;

/**
 * decode-bmp trusts the header blindly: it ignores the pixel-data offset and the compression field
 * and reads the height as unsigned. Reject the layouts it would silently misread.
 */
function readBmpHeader(bytes: Uint8Array): BmpHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 54) throw new InvalidImageError('BMP file is truncated.');
  const pixelOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  const width = view.getInt32(18, true);
  const signedHeight = view.getInt32(22, true);
  const bitsPerPixel = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  const coloursUsed = view.getUint32(46, true);
  const height = Math.abs(signedHeight);

  if (headerSize < 40 || bytes.byteLength < 14 + headerSize) throw new InvalidImageError('Unsupported BMP header.');
  if (width <= 0 || height === 0) throw new InvalidImageError(`Invalid BMP size ${width}x${signedHeight}.`);
  const standardMasks =
    headerSize >= 52 &&
    view.getUint32(54, true) === 0x00ff0000 &&
    view.getUint32(58, true) === 0x0000ff00 &&
    view.getUint32(62, true) === 0x000000ff;
  const supported =
    ([1, 4, 8, 24, 32].includes(bitsPerPixel) && compression === BI_RGB) ||
    (bitsPerPixel === 32 && compression === BI_BITFIELDS && standardMasks);
  if (!supported) {
    throw new InvalidImageError(`Unsupported BMP encoding (${bitsPerPixel} bits per pixel, compression ${compression}).`);
  }
  const paletteBytes = bitsPerPixel <= 8 ? (coloursUsed || 2 ** bitsPerPixel) * 4 : 0;
  if (pixelOffset !== 14 + headerSize + paletteBytes) throw new InvalidImageError('Unsupported BMP layout.');
  return { width, height, topDown: signedHeight < 0, pixelOffset, bitsPerPixel };
}

/** BMP needs no colour management or orientation, so decode-bmp's RGBA is repacked directly. */
function decodeBmpToRgb(bytes: Uint8Array): RgbImage {
  const header = readBmpHeader(bytes);
  assertBmpComplete(bytes, header);
  const { width, height, topDown } = header;
  let source = bytes;
  if (topDown) {
    // decode-bmp only knows bottom-up rows: hand it a positive height and read its rows in reverse.
    source = Uint8Array.from(bytes);
    new DataView(source.buffer).setInt32(22, height, true);
  }
  const rgba = decodeBmp(source).data;
  const data = Buffer.allocUnsafe(width * height * 3);
  for (let y = 0; y < height; y++) {
    let src = (topDown ? height - 1 - y : y) * width * 4;
    let dst = y * width * 3;
    // The fourth byte of a 32-bit BMP is usually padding (often 0), so it is not trusted as alpha.
    for (let x = 0; x < width; x++, src += 4, dst += 3) {
      data[dst] = rgba[src]!;
      data[dst + 1] = rgba[src + 1]!;
      data[dst + 2] = rgba[src + 2]!;
    }
  }
  return { width, height, data };
}

function rgbPixels(image: RgbImage): Sharp {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Every image decoded (the content, not the name, decides), or the first that does not decode. */
export async function probeImages(images: Uint8Array[]): Promise<{ probes: ImageInfo[] } | { invalid: { index: number; reason: string } }> {
  const probes = await Promise.all(
    images.map((bytes) =>
      probeImage(bytes).catch((error: unknown) => {
        if (error instanceof InvalidImageError) return error;
        throw error;
      }),
    ),
  );
  const index = probes.findIndex((probe) => probe instanceof InvalidImageError);
  if (index >= 0) return { invalid: { index, reason: (probes[index] as InvalidImageError).message } };
  return { probes: probes as ImageInfo[] };
}
