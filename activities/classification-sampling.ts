import sharp from 'sharp';
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../domain/failure-types.js';
import { frameName } from '../domain/identifiers.js';
import type { MediaStore } from '../media/store.js';
import { ToolFailedError } from '../media/video/ffmpeg.js';
import { decodeFrames } from '../media/video/frames.js';
import { processedSpecs, samplingPlan, type ClipSampling } from '../domain/classification/sampling.js';
import type { PreparedFrames } from '../workflows/contracts/clip-classification.js';

export interface StoredClip {
  key: string;
  width: number;
  height: number;
  durationS: number;
  /** Where its frames are written. */
  framesPrefix: string;
}

/**
 * Samples the stored clip into JPEG frames under `framesPrefix`, as `samplingPlan` says. The detector and the motion
 * statistics read them as they read uploaded images.
 */
export async function sampleClip(media: MediaStore, clip: StoredClip, sampling: ClipSampling): Promise<Pick<PreparedFrames, 'frames' | 'processed'>> {
  const plan = samplingPlan(clip, sampling);
  const { fps, width, height } = plan;
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
    return { frames, processed: processedSpecs(plan, frames.length) };
  });
}
