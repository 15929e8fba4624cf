import { ApplicationFailure, Context } from '@temporalio/activity';
import { FailureType } from '../domain/failure-types.js';
import { decodeToRgb, InvalidImageError } from '../media/image.js';
import type { MediaStore } from '../media/store.js';
import type { TextLine, TextReader } from './ocr.js';

export interface ReadTextInput {
  /** Frames or images in the media store, read in this order. */
  mediaKeys: readonly string[];
}

export interface ReadTextResult {
  /** One entry per media key, in the same order. */
  frames: { mediaKey: string; lines: TextLine[] }[];
}

/** The text activity of the detection worker: PP-OCR on stored frames, heartbeating per frame. */
export function createTextActivities({ reader, media }: { reader: TextReader; media: MediaStore }) {
  return {
    async readText({ mediaKeys }: ReadTextInput): Promise<ReadTextResult> {
      const context = Context.current();
      const frames: ReadTextResult['frames'] = [];
      for (const [index, mediaKey] of mediaKeys.entries()) {
        context.heartbeat({ frameIndex: index });
        if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
        let image;
        try {
          image = await decodeToRgb(await media.get(mediaKey));
        } catch (error) {
          if (error instanceof InvalidImageError) throw ApplicationFailure.nonRetryable(`${mediaKey}: ${error.message}`, FailureType.InvalidImage);
          throw error;
        }
        const { lines } = await reader.read(image);
        frames.push({ mediaKey, lines });
      }
      return { frames };
    },
  };
}

export type TextActivities = ReturnType<typeof createTextActivities>;
