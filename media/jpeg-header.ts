import { InvalidImageError, MAX_IMAGE_SIDE } from './image.js';

/** What the markers of a complete JPEG say, without decoding a pixel. */
export interface JpegHeader {
  /** Width and height after the EXIF orientation, as a decoder hands the pixels over. */
  width: number;
  height: number;
}

const MARKER = 0xff;
const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const DQT = 0xdb;
const APP1 = 0xe1;

/** Start-of-frame markers (baseline, extended, progressive, lossless; Huffman or arithmetic), not DHT (C4), JPG (C8) or DAC (CC). */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Markers that stand alone, without a length: TEM and the restart markers. */
function hasNoLength(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);
}

/**
 * Checks a JPEG by walking its markers rather than decoding it: SOI first, the segments before the first scan
 * each within the file, a quantization table, a frame header with a size (at most MAX_IMAGE_SIDE a side) and
 * 1 to 4 components, a scan header, and EOI after the scan, so a file cut short is refused. Microseconds where a
 * decode takes milliseconds; what it cannot see (damage inside the compressed data) the decoder meets later.
 */
export function probeJpegHeader(bytes: Uint8Array): JpegHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 4 || bytes[0] !== MARKER || bytes[1] !== SOI) throw new InvalidImageError('Not a JPEG: it does not start with the SOI marker.');
  let offset = 2;
  let frame: { width: number; height: number } | undefined;
  let orientation = 1;
  let quantizationTables = false;
  for (;;) {
    // Any number of 0xFF fill bytes may come before a marker.
    if (offset >= bytes.byteLength || bytes[offset] !== MARKER) throw new InvalidImageError(`Broken JPEG: no marker at byte ${offset}.`);
    while (offset < bytes.byteLength && bytes[offset] === MARKER) offset++;
    if (offset >= bytes.byteLength) throw new InvalidImageError('Truncated JPEG: it ends inside a marker.');
    const marker = bytes[offset]!;
    offset++;
    if (marker === EOI) throw new InvalidImageError('Broken JPEG: it ends before any image data.');
    if (marker === SOI || marker === 0x00) throw new InvalidImageError(`Broken JPEG: unexpected marker at byte ${offset - 2}.`);
    if (hasNoLength(marker)) continue;
    if (offset + 2 > bytes.byteLength) throw new InvalidImageError('Truncated JPEG: it ends inside a segment header.');
    const length = view.getUint16(offset);
    const end = offset + length;
    if (length < 2 || end > bytes.byteLength) throw new InvalidImageError(`Truncated JPEG: a segment at byte ${offset - 2} runs past the end of the file.`);
    if (marker === DQT) quantizationTables = true;
    else if (marker === APP1) orientation = exifOrientation(view, offset + 2, end) ?? orientation;
    else if (isStartOfFrame(marker)) {
      if (frame) throw new InvalidImageError('Broken JPEG: more than one frame header.');
      frame = readFrameHeader(view, offset, length);
    } else if (marker === SOS) {
      if (!frame) throw new InvalidImageError('Broken JPEG: image data before the frame header.');
      if (!quantizationTables) throw new InvalidImageError('Broken JPEG: no quantization table.');
      const components = length >= 3 ? bytes[offset + 2]! : 0;
      if (components < 1 || components > 4 || length !== 6 + 2 * components) throw new InvalidImageError('Broken JPEG: a malformed scan header.');
      // The compressed data cannot hold an EOI (an 0xFF in it is stuffed or a restart marker), and an embedded
      // thumbnail's EOI lies before the scan: only the image's own end lies after it.
      if (lastEoi(bytes) < end) throw new InvalidImageError('Truncated JPEG: no end-of-image marker after the image data.');
      const rotated = orientation >= 5 && orientation <= 8;
      return rotated ? { width: frame.height, height: frame.width } : frame;
    }
    offset = end;
  }
}

function readFrameHeader(view: DataView, offset: number, length: number): { width: number; height: number } {
  if (length < 8) throw new InvalidImageError('Broken JPEG: a frame header too short.');
  const height = view.getUint16(offset + 3);
  const width = view.getUint16(offset + 5);
  const components = view.getUint8(offset + 7);
  if (components < 1 || components > 4 || length !== 8 + 3 * components) throw new InvalidImageError('Broken JPEG: a malformed frame header.');
  // Height 0 (given later in a DNL segment) is legal but no decoder here reads it.
  if (width === 0 || height === 0) throw new InvalidImageError(`Broken JPEG: the frame header gives a size of ${width}x${height}.`);
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
    throw new InvalidImageError(`Image is ${width}x${height}; the largest accepted size is ${MAX_IMAGE_SIDE}x${MAX_IMAGE_SIDE}.`);
  }
  return { width, height };
}

/** Where the file's last EOI starts; -1 when it has none. Trailing bytes after it are tolerated, as decoders do. */
function lastEoi(bytes: Uint8Array): number {
  for (let i = bytes.byteLength - 2; i >= 0; i--) {
    if (bytes[i] === MARKER && bytes[i + 1] === EOI) return i;
    // Only padding may follow the end of the image; anything else means there is no EOI to find near the end.
    if (bytes.byteLength - i > trailingBytesTolerated) return -1;
  }
  return -1;
}

/** Some encoders pad a JPEG after its EOI; more than this after the last scan is not padding. */
const trailingBytesTolerated = 4096;

/** The EXIF orientation (1–8) of an APP1 segment's payload at [start, end), or undefined when it has none. */
function exifOrientation(view: DataView, start: number, end: number): number | undefined {
  // "Exif\0\0", then a TIFF header: byte order, 42, the offset of IFD0.
  if (end - start < 14 || view.getUint32(start) !== 0x45786966 || view.getUint16(start + 4) !== 0) return undefined;
  const tiff = start + 6;
  const order = view.getUint16(tiff);
  if (order !== 0x4949 && order !== 0x4d4d) return undefined;
  const little = order === 0x4949;
  if (view.getUint16(tiff + 2, little) !== 42) return undefined;
  const ifd = tiff + view.getUint32(tiff + 4, little);
  if (ifd + 2 > end) return undefined;
  const entries = view.getUint16(ifd, little);
  for (let i = 0; i < entries; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > end) return undefined;
    if (view.getUint16(entry, little) === 0x0112) {
      const value = view.getUint16(entry + 8, little);
      return value >= 1 && value <= 8 ? value : undefined;
    }
  }
  return undefined;
}
