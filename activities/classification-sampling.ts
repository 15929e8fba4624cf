import sharp from 'sharp';
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../domain/failure-types.js';
import { frameName } from '../domain/identifiers.js';
import type { MediaStore } from '../media/store.js';
import { decodeFrames } from '../media/video/frames.js';
import { probeVideo } from '../media/video/probe.js';
import type { PreparedFrames } from '../workflows/contracts/clip-classification.js';

/** How a clip is turned into frames for the detector: `fps` frames a second, at most `width` wide, at most `maxFrames`. */
export interface ClipSampling {
  fps: number;
  width: number;
  maxFrames: number;
}

/**
 * Samples the stored clip into JPEG frames under `framesPrefix`: at `fps` (fewer for a long clip, so there are at
 * most `maxFrames`), scaled down to `width`. The detector and the motion statistics read them as they read images.
 */
export async function sampleClip(media: MediaStore, clip: { key: string; framesPrefix: string }, sampling: ClipSampling): Promise<PreparedFrames> {
  return media.withLocalFile(clip.key, async (path) => {
    const probe = await probeVideo(path);
    const fps = Math.min(sampling.fps, probe.durationS > 0 ? sampling.maxFrames / probe.durationS : sampling.fps);
    const width = Math.min(sampling.width, probe.width);
    const frames: PreparedFrames['frames'] = [];
    let size = { width, height: 0 };
    for await (const frame of decodeFrames(path, { fps, width, pixelFormat: 'rgb24' })) {
      if (frames.length >= sampling.maxFrames) break;
      const jpeg = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
      const key = `${clip.framesPrefix}/${frameName(frames.length, 'jpg')}`;
      await media.put(key, jpeg);
      frames.push({ index: frames.length, key });
      size = { width: frame.width, height: frame.height };
    }
    if (frames.length === 0) throw ApplicationFailure.nonRetryable('The clip has no frame that decodes.', FailureType.InvalidVideo);
    return {
      frames,
      processed: { ...size, fps: Math.round(fps * 100) / 100, nframes: frames.length, duration: Math.round((frames.length / fps) * 1000) / 1000 },
    };
  });
}
