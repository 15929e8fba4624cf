import sharp, { type ResizeOptions } from 'sharp';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { classifierEvidence, textEvidence } from '../domain/classification/evidence.js';
import { flickerWidth, motionSignals } from '../domain/classification/motion-signals.js';
import {
  classifierFrames,
  middleOf,
  processedSpecs,
  regionCrop,
  samplingPlan,
  spreadOver,
  type ClipSampling,
  type ProcessedSpecs,
} from '../domain/classification/sampling.js';
import { FailureType } from '../domain/failure-types.js';
import type { GreyFrame } from '../domain/motion.js';
import { decodeToRgb, InvalidImageError, type RgbImage } from '../media/image.js';
import type { MediaStore } from '../media/store.js';
import { ToolFailedError } from '../media/video/ffmpeg.js';
import { decodeFrames } from '../media/video/frames.js';
import type { FrameRef } from '../workflows/contracts/alarm-verification.js';
import type { AnalyseClassificationInput, AnalysedFrames } from '../workflows/contracts/clip-classification.js';
import { FRAME_TOP_CLASSES, FRAME_TOP_GROUPS } from './activities.js';
import type { Classifier } from './classifier.js';
import { InvalidFrameError, type DetectionEngine } from './engine.js';
import type { TextReader } from './ocr.js';

export interface ClassificationFrameDeps {
  engine: DetectionEngine;
  classifier: Classifier;
  /** Without a reader (tests of detection alone), no text is read: the text score is then 0. */
  reader?: TextReader;
  media: MediaStore;
  /** How clips are sampled. */
  sampling: ClipSampling;
}

/** Width of the grey thumbnails compared for motion (`domain/motion.ts`): 8 cells of 12 pixels across. */
const motionThumbnailWidth = 96;

interface ArrivingFrame {
  index: number;
  image: RgbImage;
}

type Checkpoint = (progress: Record<string, number | string>) => void;

export function createClassificationFrameActivities({ engine, classifier, reader, media, sampling }: ClassificationFrameDeps) {
  /**
   * Detection over the frames as they arrive, and once every frame is decoded: the motion statistics, the classifier
   * on frames spread over the clip and on the crop of where it moved most, the text reader on the middle frame.
   */
  async function analyse(frames: AsyncIterable<ArrivingFrame>, processedOf: (images: RgbImage[]) => ProcessedSpecs, checkpoint: Checkpoint): Promise<AnalysedFrames> {
    const decoding = pumped(frames);
    const detected = engine.detectArriving(decoding.items(), (frameIndex) => checkpoint({ step: 'detect', frameIndex }));
    // Detection failing stops the decoder, and its error is the answer; decoding failing fails detection too.
    let detectionFailed = false;
    detected.catch(() => {
      detectionFailed = true;
      decoding.stop();
    });
    const images = await decoding.all.then(
      (arrived) => arrived.map((frame) => frame.image),
      async (error: unknown) => {
        await detected.catch(() => undefined);
        throw error;
      },
    );
    if (detectionFailed) await detected;
    if (images.length === 0) throw ApplicationFailure.nonRetryable('The clip has no frame that decodes.', FailureType.InvalidVideo);

    const motion = await motionOf(images);
    const middle = middleOf(images);
    const crop = regionCrop(motion.hotRegion, middle.width, middle.height);
    const classified = [...spreadOver(images, classifierFrames), ...(crop ? [cropOf(middle, crop)] : [])];
    const classify = async () => {
      const groups = [];
      for (const [i, image] of classified.entries()) {
        checkpoint({ step: 'classify', image: i });
        groups.push({ groups: (await classifier.classify(image, FRAME_TOP_CLASSES)).groups.slice(0, FRAME_TOP_GROUPS) });
      }
      return classifierEvidence(groups);
    };
    const [detections, classes, text] = await Promise.all([detected, classify(), reader ? reader.read(middle) : null]);
    if (detections.cascade || detections.tiled || detections.pseudoColourFrames > 0) {
      const { cascade, tiled, pseudoColourFrames } = detections;
      Context.current().log.info('detection adapted to the clip', { cascade, tiled, pseudoColourFrames });
    }
    return {
      processed: processedOf(images),
      detections: detections.frames,
      motion,
      evidence: { classifier: classes, text: text ? textEvidence(text.lines) : null },
    };
  }

  return {
    /**
     * One classification's frames analysed in one task: a clip decoded with one ffmpeg run straight to raw frames at
     * the sampled times (images decoded as sent), detected as they arrive, with the motion statistics, the classifier
     * and the text reader beside. Heartbeats per frame and per classified image; answers only what the scores need.
     */
    async analyseClassificationFrames({ jobId, source }: AnalyseClassificationInput): Promise<AnalysedFrames> {
      const context = Context.current();
      const checkpoint: Checkpoint = (progress) => {
        context.heartbeat(progress);
        if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
      };
      try {
        if (source.kind === 'images') {
          return await analyse(imagesOf(media, source.frames), (images) => imagesSpecs(images), checkpoint);
        }
        const plan = samplingPlan(source, sampling);
        return await media.withLocalFile(source.key, (file) =>
          analyse(clipFramesOf(file, plan, sampling.maxFrames), (images) => processedSpecs(plan, images.length), checkpoint),
        );
      } catch (error) {
        if (error instanceof ToolFailedError) throw ApplicationFailure.nonRetryable(`The clip stopped decoding: ${error.message}`, FailureType.InvalidVideo);
        if (error instanceof InvalidFrameError) {
          throw ApplicationFailure.nonRetryable(`Frame ${error.frameIndex} of job ${jobId}: ${error.message}`, FailureType.InvalidImage);
        }
        throw error;
      }
    },
  };
}

export type ClassificationFrameActivities = ReturnType<typeof createClassificationFrameActivities>;

/** The clip's frames at the plan's rate and size, at most `maxFrames`, from one ffmpeg run. */
async function* clipFramesOf(file: string, plan: { fps: number; width: number; height: number }, maxFrames: number): AsyncGenerator<ArrivingFrame> {
  for await (const frame of decodeFrames(file, { ...plan, pixelFormat: 'rgb24' })) {
    if (frame.index >= maxFrames) return;
    yield { index: frame.index, image: { width: frame.width, height: frame.height, data: frame.data } };
  }
}

/** The stored images, read and decoded all at once, given in order. */
async function* imagesOf(media: MediaStore, frames: readonly FrameRef[]): AsyncGenerator<ArrivingFrame> {
  const decoding = frames.map(async (frame) => {
    try {
      return await decodeToRgb(await media.get(frame.key));
    } catch (error) {
      throw error instanceof InvalidImageError ? new InvalidFrameError(frame.index, error) : error;
    }
  });
  // Each is awaited in turn below; one failing before its turn must not go unhandled meanwhile.
  for (const decoded of decoding) decoded.catch(() => undefined);
  for (const [i, decoded] of decoding.entries()) yield { index: frames[i]!.index, image: await decoded };
}

/** Images are taken as sent: the first one's size, no rate. */
function imagesSpecs(images: readonly RgbImage[]): ProcessedSpecs {
  return { width: images[0]!.width, height: images[0]!.height, fps: 0, nframes: images.length, duration: 0 };
}

/** The motion statistics on grey copies of the frames, all at the first one's size (images of one request may differ). */
async function motionOf(images: readonly RgbImage[]) {
  const [thumbnails, detailed] = await Promise.all([greyFrames(images, motionThumbnailWidth), greyFrames(images, flickerWidth)]);
  return motionSignals(thumbnails, undefined, detailed);
}

async function greyFrames(images: readonly RgbImage[], width: number): Promise<GreyFrame[]> {
  const first = await grey(images[0]!, { width, withoutEnlargement: true });
  const rest = await Promise.all(images.slice(1).map((image) => grey(image, { width: first.width, height: first.height, fit: 'fill' })));
  return [first, ...rest];
}

async function grey(image: RgbImage, resize: ResizeOptions): Promise<GreyFrame> {
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(resize)
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data };
}

function cropOf(image: RgbImage, crop: { left: number; top: number; width: number; height: number }): RgbImage {
  const data = Buffer.allocUnsafe(crop.width * crop.height * 3);
  for (let y = 0; y < crop.height; y++) {
    const from = ((crop.top + y) * image.width + crop.left) * 3;
    image.data.copy(data, y * crop.width * 3, from, from + crop.width * 3);
  }
  return { width: crop.width, height: crop.height, data };
}

/**
 * Pulls `source` to its end as fast as it gives (a decoder runs ahead of the detector instead of waiting on it);
 * `items()` gives the items in order as they come, `all` every item once the source ended. `stop()` ends it early.
 */
function pumped<T>(source: AsyncIterable<T>) {
  const buffer: T[] = [];
  let ended = false;
  let failed = false;
  let failure: unknown;
  let stopped = false;
  let wake: (() => void) | null = null;
  const woken = () => {
    wake?.();
    wake = null;
  };
  const all = (async () => {
    try {
      for await (const item of source) {
        if (stopped) break;
        buffer.push(item);
        woken();
      }
      return buffer;
    } catch (error) {
      failed = true;
      failure = error;
      throw error;
    } finally {
      ended = true;
      woken();
    }
  })();
  return {
    all,
    stop: () => {
      stopped = true;
    },
    async *items(): AsyncGenerator<T> {
      for (let i = 0; ; i++) {
        while (i >= buffer.length && !ended) await new Promise<void>((resolve) => (wake = resolve));
        if (i < buffer.length) yield buffer[i]!;
        else if (failed) throw failure;
        else return;
      }
    },
  };
}
