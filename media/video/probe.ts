import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { ffmpegPath, ffprobePath, runTool, ToolFailedError } from './ffmpeg.js';

/** What a video is, as ffprobe reads it and ffmpeg decodes it. */
export interface VideoProbe {
  /** ffprobe's demuxer name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`, `avi`, `gif`. */
  container: string;
  /** The video stream's codec, e.g. `h264`, `mpeg4`, `gif`. */
  codec: string;
  width: number;
  height: number;
  /** Frames per second, averaged over the stream. */
  fps: number;
  durationS: number;
  frameCount: number;
  bytes: number;
}

/** A file that is not a video ffmpeg can decode whole; `reason` says why, for the client. */
export class InvalidVideoError extends Error {
  readonly code = 'INVALID_VIDEO';
  constructor(readonly reason: string) {
    super(`Not a decodable video: ${reason}`);
  }
}

const rational = z
  .string()
  .optional()
  .transform((text) => {
    const [numerator, denominator] = (text ?? '').split('/').map(Number);
    const value = (numerator ?? NaN) / (denominator ?? 1);
    return Number.isFinite(value) && value > 0 ? value : undefined;
  });
const positiveNumber = z.coerce.number().optional().transform((value) => (value !== undefined && Number.isFinite(value) && value > 0 ? value : undefined));

const probeOutput = z.object({
  streams: z
    .array(
      z.object({
        codec_type: z.string().optional(),
        codec_name: z.string().optional(),
        width: z.number().int().optional(),
        height: z.number().int().optional(),
        r_frame_rate: rational,
        avg_frame_rate: rational,
        nb_frames: positiveNumber,
        duration: positiveNumber,
        disposition: z.object({ attached_pic: z.number().optional() }).optional(),
      }),
    )
    .default([]),
  format: z.object({ format_name: z.string(), duration: positiveNumber }).optional(),
});

/** Demuxers that read one still image (a JPEG, a PNG) as a one-frame "video". */
const stillImageFormat = /^(image2|.*_pipe)$/;

/**
 * Probes a video file with ffprobe, then decodes its first frame and a frame of its last half second with
 * ffmpeg: a file whose index promises frames its data no longer holds (a truncated MP4) is refused here,
 * not halfway through its analysis. Throws `InvalidVideoError` for anything not a whole, decodable video.
 */
export async function probeVideo(file: string): Promise<VideoProbe> {
  const probe = await readVideoStream(file);
  await assertDecodable(file, probe);
  return probe;
}

/** Throws `InvalidVideoError` unless ffmpeg decodes the first frame and one of the last half second. */
export async function assertDecodable(file: string, probe: Pick<VideoProbe, 'durationS'>): Promise<void> {
  if (!(await decodesFrameAt(file, 0))) throw new InvalidVideoError('its first frame cannot be decoded');
  if (!(await decodesFrameAt(file, Math.max(0, probe.durationS - 0.5)))) throw new InvalidVideoError('it is truncated: its last frames cannot be decoded');
}

/** What ffprobe says of the file's video stream, without decoding it (`probeVideo` also decodes). */
export async function readVideoStream(file: string): Promise<VideoProbe> {
  const bytes = (await stat(file)).size;
  if (bytes === 0) throw new InvalidVideoError('the file is empty');

  let output: z.infer<typeof probeOutput>;
  try {
    const json = await runTool(await ffprobePath(), ['-v', 'error', '-show_entries', 'stream:format', '-of', 'json', file]);
    output = probeOutput.parse(JSON.parse(json.toString('utf8')));
  } catch (error) {
    if (error instanceof ToolFailedError || error instanceof SyntaxError || error instanceof z.ZodError) {
      throw new InvalidVideoError('no known container or stream could be read from it');
    }
    throw error;
  }

  const container = output.format?.format_name ?? 'unknown';
  if (stillImageFormat.test(container)) throw new InvalidVideoError('it is a still image, not a video');
  const stream = output.streams.find((candidate) => candidate.codec_type === 'video' && candidate.disposition?.attached_pic !== 1);
  if (!stream) throw new InvalidVideoError('it has no video stream');
  if (!stream.width || !stream.height) throw new InvalidVideoError('its video stream has no picture size');
  const durationS = stream.duration ?? output.format?.duration;
  if (!durationS) throw new InvalidVideoError('it has no duration');

  // The frame count over the duration is the truest rate (an animated GIF's average rate is not); then the stream's rates.
  const fps = stream.nb_frames && stream.nb_frames > 1 ? stream.nb_frames / durationS : (stream.avg_frame_rate ?? stream.r_frame_rate);
  if (!fps) throw new InvalidVideoError('it has no frame rate');
  const frameCount = stream.nb_frames ?? Math.max(1, Math.round(durationS * fps));
  if (frameCount < 2) throw new InvalidVideoError('it holds a single frame, a still image rather than a video');

  return { container, codec: stream.codec_name ?? 'unknown', width: stream.width, height: stream.height, fps: round(fps, 3), durationS: round(durationS, 3), frameCount, bytes };
}

/** Whether ffmpeg decodes a frame at (or just after) `timestampS`. */
async function decodesFrameAt(file: string, timestampS: number): Promise<boolean> {
  const side = 8;
  try {
    const args = ['-v', 'error', '-nostdin', ...(timestampS > 0 ? ['-ss', timestampS.toFixed(3)] : []), '-i', file];
    const frame = await runTool(ffmpegPath, [...args, '-map', '0:v:0', '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', '-s', `${side}x${side}`, '-']);
    return frame.length === side * side;
  } catch (error) {
    if (error instanceof ToolFailedError) return false;
    throw error;
  }
}

function round(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}
