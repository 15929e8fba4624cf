import { ApplicationFailure, Context } from '@temporalio/activity';
import { FailureType } from '../domain/failure-types.js';
import type { MediaStore } from '../media/store.js';
import type { DetectFramesInput, DetectFramesResult } from '../workflows/contracts/alarm-verification.js';
import { InvalidFrameError, type DetectionEngine } from './engine.js';

export interface DetectionDeps {
  engine: DetectionEngine;
  media: MediaStore;
}

export function createDetectionActivities({ engine, media }: DetectionDeps) {
  return {
    /** Runs the detection engine over the event, heartbeating per frame so a lost worker is noticed and cancellation is seen. */
    async detectFrames({ jobId, accountId, frames }: DetectFramesInput): Promise<DetectFramesResult> {
      const context = Context.current();
      try {
        const result = await engine.detectEvent(
          frames.map((frame) => ({ index: frame.index, load: () => media.get(frame.key) })),
          (frameIndex) => {
            context.heartbeat({ frameIndex });
            if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
          },
        );
        if (result.cascade || result.tiled || result.pseudoColourFrames > 0) {
          const { cascade, tiled, pseudoColourFrames } = result;
          context.log.info('detection adapted to the event', { jobId, accountId, cascade, tiled, pseudoColourFrames });
        }
        return result.frames;
      } catch (error) {
        if (error instanceof InvalidFrameError) {
          throw ApplicationFailure.nonRetryable(`Frame ${error.frameIndex} of job ${jobId}: ${error.message}`, FailureType.InvalidImage);
        }
        throw error;
      }
    },
  };
}

export type DetectionActivities = ReturnType<typeof createDetectionActivities>;
