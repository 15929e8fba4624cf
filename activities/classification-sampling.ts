import sharp from 'sharp';
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../domain/failure-types.js';
import { frameName } from '../domain/identifiers.js';
import type { MediaStore } from '../media/store.js';
import { ToolFailedError } from '../media/video/ffmpeg.js';
import { decodeFrames } from '../media/video/frames.js';
import type { PreparedFrames } from '../workflows/contracts/clip-classification.js';

/** How a clip is turned into frames for the detector: `fps` frames a second, at most `width` wide, at most `maxFrames`. */
export interface ClipSampling {
  fps: number;
  width: number;
  maxFrames: number;
}

export interface StoredClip {
  key: string;
  width: number;
  height: number;
  durationS: number;
  /** Where its frames are written. */
  framesPrefix: string;
}

const even = (value: number) => Math.max(2, Math.round(value / 2) * 2);

/**
 * Samples the stored clip into JPEG frames under `framesPrefix`: at `fps` (fewer a second for a long clip, so there
 * are at most `maxFrames`), scaled down to `width`. The detector and the motion statistics read them as they read
 * uploaded images.
 */
export async function sampleClip(media: MediaStore, clip: StoredClip, sampling: ClipSampling): Promise<Pick<PreparedFrames, 'frames' | 'processed'>> {
  const fps = clip.durationS > 0 ? Math.min(sampling.fps, sampling.maxFrames / clip.durationS) : sampling.fps;
  const width = even(Math.min(sampling.width, clip.width));
  const height = even((width * clip.height) / clip.width);
  return media.withLocalFile(clip.key, async (path) => {
    const frames: PreparedFrames['frames'] = [];
    const writes: Promise<void>[] = [];
    try {
      for await (const frame of decodeFrames(path, { fps, width, height, pixelFormat: 'rgb24' })) {
        if (frames.length >= sampling.maxFrames) break;
        const key = `${clip.framesPrefix}/${frameName(frames.length, 'jpg')}`;
        frames.push({ index: frames.length, key });
        // Encoded and written while ffmpeg decodes the next frame.
        writes.push(
          sharp(frame.data, { raw: { width, height, channels: 3 } })
            .jpeg({ quality: 85 })
            .toBuffer()
            .then((jpeg) => media.put(key, jpeg)),
        );
      }
      await Promise.all(writes);
    } catch (error) {
      await Promise.allSettled(writes);
      if (error instanceof ToolFailedError) throw ApplicationFailure.nonRetryable(`The clip stopped decoding: ${error.message}`, FailureType.InvalidVideo);
      throw error;
    }
    if (frames.length < 1) throw ApplicationFailure.nonRetryable('The clip has no frame that decodes.', FailureType.InvalidVideo);
    return {
      frames,
      processed: { width, height, fps: Math.round(fps * 100) / 100, nframes: frames.length, duration: Math.round((frames.length / fps) * 1000) / 1000 },
    };
  });
}
