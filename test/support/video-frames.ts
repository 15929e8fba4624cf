import { spawn } from 'node:child_process';
import ffmpeg from '@ffmpeg-installer/ffmpeg';
import type { DecodedFrame } from '../../domain/video/frame.js';

export interface DecodeOptions {
  /** Output width in pixels; the height keeps the aspect ratio (rounded to an even number). */
  width: number;
  pixelFormat: 'rgb24' | 'gray';
  /** Resample to this rate (frames at 0, 1/fps, …); the native rate when unset. */
  fps?: number;
}

/**
 * Decodes a whole clip into small raw frames with the ffmpeg binary, each with its presentation time
 * (read from ffmpeg's showinfo filter). Tests only: clips are short, so frames are held in memory.
 */
export async function decodeClip(file: string, opts: DecodeOptions): Promise<DecodedFrame[]> {
  const filters = [...(opts.fps ? [`fps=${opts.fps}`] : []), `scale=${opts.width}:-2:flags=area`, 'showinfo'];
  const child = spawn(ffmpeg.path, [
    '-hide_banner', '-nostdin', '-i', file, '-an', '-vf', filters.join(','),
    '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', opts.pixelFormat, 'pipe:1',
  ]);
  const chunks: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`ffmpeg failed on ${file}: ${stderr.slice(-2000)}`);

  const size = /Stream #0:0.*?: Video: rawvideo.*?, (\d+)x(\d+)/.exec(stderr);
  if (!size) throw new Error(`no output size in ffmpeg's log for ${file}`);
  const width = Number(size[1]);
  const height = Number(size[2]);
  const times = [...stderr.matchAll(/\] n:\s*\d+ pts:\s*-?\d+ pts_time:(-?[\d.]+)/g)].map((match) => Number(match[1]));
  const data = Buffer.concat(chunks);
  const frameBytes = width * height * (opts.pixelFormat === 'rgb24' ? 3 : 1);
  const count = data.length / frameBytes;
  if (!Number.isInteger(count) || count !== times.length) {
    throw new Error(`${file}: ${data.length} bytes for ${times.length} frames of ${frameBytes} bytes`);
  }
  return times.map((timestampS, index) => ({
    index,
    timestampS,
    width,
    height,
    data: data.subarray(index * frameBytes, (index + 1) * frameBytes),
  }));
}
