import { spawn } from 'node:child_process';
import { ffmpegPath, runTool, ToolFailedError } from './ffmpeg.js';
import { readVideoStream } from './probe.js';

export type RawPixelFormat = 'rgb24' | 'gray';

export interface DecodedFrame {
  /** 0-based among the sampled frames. */
  index: number;
  /** Seconds from the start of the video. */
  timestampS: number;
  width: number;
  height: number;
  /** Packed pixels, row by row: 3 bytes (R, G, B) per pixel for rgb24, 1 for gray. */
  data: Buffer;
}

export interface DecodeOptions {
  /** Frames per second to sample; omitted: every frame at the video's own rate. */
  fps?: number;
  width: number;
  /** Omitted: the width's share of the video's aspect ratio, rounded to an even number. */
  height?: number;
  pixelFormat: RawPixelFormat;
  startS?: number;
  endS?: number;
  /**
   * Only these of the sampled frames (0-based at `fps` from `startS`, ascending, at least one): the others are decoded, as the
   * video's compression needs, but never scaled, converted or piped.
   */
  only?: readonly number[];
}

const bytesPerPixel: Record<RawPixelFormat, number> = { rgb24: 3, gray: 1 };

/**
 * Decodes a video's frames with ffmpeg, scaled to `width` x `height`, as raw pixels piped to stdout and split
 * by frame size. Consumed lazily: ffmpeg waits while the consumer works, and is killed when the consumer stops
 * early. A failing ffmpeg throws after its last whole frame.
 */
export async function* decodeFrames(file: string, options: DecodeOptions): AsyncGenerator<DecodedFrame> {
  const needsStream = options.height === undefined || options.fps === undefined;
  const stream = needsStream ? await readVideoStream(file) : undefined;
  const width = evenAtLeast2(options.width);
  const height = options.height ?? evenAtLeast2((options.width * stream!.height) / stream!.width);
  const rate = options.fps ?? stream!.fps;
  const startS = options.startS ?? 0;
  const frameBytes = width * height * bytesPerPixel[options.pixelFormat];

  // A constant rate out, whatever the container holds (an AVI repeats frames by leaving them out, a GIF varies its
  // delays): frame i is at startS + i / rate.
  const only = options.only;
  const select = only ? [`select='${only.map((i) => `eq(n\\,${i})`).join('+')}'`] : [];
  const filters = [`fps=${rate}`, ...select, `scale=${width}:${height}`];
  const args = [
    '-v', 'error', '-nostdin',
    ...(startS > 0 ? ['-ss', startS.toFixed(3)] : []),
    '-i', file,
    ...(options.endS !== undefined ? ['-t', Math.max(0, options.endS - startS).toFixed(3)] : []),
    '-map', '0:v:0', '-an', '-sn',
    '-vf', filters.join(','),
    // Raw video out is constant-rate by default: it would fill the frames `select` left out with copies.
    ...(only ? ['-vsync', 'passthrough'] : []),
    '-f', 'rawvideo', '-pix_fmt', options.pixelFormat, '-',
  ];
  const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-8192)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  exited.catch(() => undefined);

  let out = 0;
  let frame = Buffer.allocUnsafe(frameBytes);
  let filled = 0;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const take = Math.min(frameBytes - filled, chunk.length - offset);
        chunk.copy(frame, filled, offset, offset + take);
        filled += take;
        offset += take;
        if (filled === frameBytes) {
          // The k-th frame out is the k-th of `only`.
          const index = only ? only[out]! : out;
          yield { index, timestampS: round3(startS + index / rate), width, height, data: frame };
          out += 1;
          frame = Buffer.allocUnsafe(frameBytes);
          filled = 0;
        }
      }
    }
    const code = await exited;
    if (code !== 0) throw new ToolFailedError('ffmpeg', code, stderr);
    if (filled !== 0) throw new ToolFailedError('ffmpeg', code, `ended inside a frame (${filled} of ${frameBytes} bytes)`);
  } finally {
    // The consumer stopped early, or something failed: nothing keeps decoding for nobody.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/**
 * One frame at `timestampS` as a JPEG, at most `maxWidth` wide (never enlarged). A time past the last frame
 * throws; callers clamp to the video's duration.
 */
export async function extractJpeg(file: string, timestampS: number, maxWidth?: number): Promise<Buffer> {
  const scale = maxWidth !== undefined ? ['-vf', `scale='min(${evenAtLeast2(maxWidth)},iw)':-2`] : [];
  const jpeg = await runTool(ffmpegPath, [
    '-v', 'error', '-nostdin',
    ...(timestampS > 0 ? ['-ss', timestampS.toFixed(3)] : []),
    '-i', file,
    '-map', '0:v:0', '-frames:v', '1', ...scale,
    '-f', 'image2pipe', '-vcodec', 'mjpeg', '-q:v', '3', '-',
  ]);
  if (jpeg.length === 0) throw new ToolFailedError('ffmpeg', 0, `no frame at ${timestampS} s`);
  return jpeg;
}

function evenAtLeast2(value: number): number {
  return Math.max(2, Math.round(value / 2) * 2);
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
