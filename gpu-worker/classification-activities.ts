import sharp, { type ResizeOptions } from 'sharp';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { classifierEvidence, textEvidence, type ImageGroups } from '../domain/classification/evidence.js';
import { flickerWidth, motionSignals } from '../domain/classification/motion-signals.js';
import {
  classifierFrames,
  expectedFrames,
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
import type { TextReader, TextReading } from './ocr.js';

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
   * Detection over the frames as they arrive and, beside it, as each frame arrives: its grey copies for the motion
   * statistics and, where a clip of the `expected` length has them, the classifier on the frames spread over it and
   * the text reader on its middle frame. Once every frame is decoded: the motion statistics, the classifier on the
   * crop of where the clip moved most, and whatever the expected length did not foresee.
   */
  async function analyse(
    frames: AsyncIterable<ArrivingFrame>,
    expected: number,
    processedOf: (images: RgbImage[]) => ProcessedSpecs,
    checkpoint: Checkpoint,
  ): Promise<AnalysedFrames> {
    const decoding = pumped(frames);
    const detected = engine.detectArriving(decoding.items(), (frameIndex) => checkpoint({ step: 'detect', frameIndex }));
    // Detection failing stops the decoder, and its error is the answer; decoding failing fails detection too.
    let detectionFailed = false;
    detected.catch(() => {
      detectionFailed = true;
      decoding.stop();
    });

    // Started as their frames arrive, by position in the clip; each awaited (or dropped) once every frame is in.
    const classifications = new Map<number, Promise<ImageGroups>>();
    const readings = new Map<number, Promise<TextReading>>();
    const greys: Promise<[GreyFrame, GreyFrame]>[] = [];
    let classifiedImages = 0;
    const classify = (image: RgbImage): Promise<ImageGroups> => {
      checkpoint({ step: 'classify', image: classifiedImages++ });
      return classifier.classify(image, FRAME_TOP_CLASSES).then(({ groups }) => ({ groups: groups.slice(0, FRAME_TOP_GROUPS) }));
    };
    const started = <T>(work: Promise<T>) => {
      // Awaited only if the frame is still wanted once the clip is decoded: a failure meanwhile is not unhandled.
      work.catch(() => undefined);
      return work;
    };
    const foreseen = { classified: new Set(spreadOver(positions(expected), classifierFrames)), read: middleOf(positions(expected)) };
    const beside = (async () => {
      let position = 0;
      for await (const { image } of decoding.items()) {
        if (detectionFailed) return;
        // The text reader first: on one thread, it is the longest of the three.
        if (reader && position === foreseen.read) readings.set(position, started(reader.read(image)));
        if (foreseen.classified.has(position)) classifications.set(position, started(classify(image)));
        greys.push(started(greyCopies(image, greys[0])));
        position++;
      }
    })();
    beside.catch(() => undefined);

    const images = await decoding.all.then(
      (arrived) => arrived.map((frame) => frame.image),
      async (error: unknown) => {
        await detected.catch(() => undefined);
        throw error;
      },
    );
    if (detectionFailed) await detected;
    if (images.length === 0) throw ApplicationFailure.nonRetryable('The clip has no frame that decodes.', FailureType.InvalidVideo);
    await beside;

    const thumbnails = await Promise.all(greys);
    const motion = motionSignals(
      thumbnails.map(([thumbnail]) => thumbnail),
      undefined,
      thumbnails.map(([, detailed]) => detailed),
    );
    const middle = middleOf(images);
    const crop = regionCrop(motion.hotRegion, middle.width, middle.height);
    const all = positions(images.length);
    const classified = Promise.all([
      ...spreadOver(all, classifierFrames).map((position) => classifications.get(position) ?? classify(images[position]!)),
      ...(crop ? [classify(cropOf(middle, crop))] : []),
    ]).then(classifierEvidence);
    const middlePosition = middleOf(all);
    const text = reader ? (readings.get(middlePosition) ?? reader.read(middle)) : null;
    const [detections, classes, read] = await Promise.all([detected, classified, text]);
    if (detections.cascade || detections.tiled || detections.pseudoColourFrames > 0) {
      const { cascade, tiled, pseudoColourFrames } = detections;
      Context.current().log.info('detection adapted to the clip', { cascade, tiled, pseudoColourFrames });
    }
    return {
      processed: processedOf(images),
      detections: detections.frames,
      motion,
      evidence: { classifier: classes, text: read ? textEvidence(read.lines) : null },
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
          return await analyse(imagesOf(media, source.frames), source.frames.length, (images) => imagesSpecs(images), checkpoint);
        }
        const plan = samplingPlan(source, sampling);
        const expected = expectedFrames(source, plan, sampling);
        return await media.withLocalFile(source.key, (file) =>
          analyse(clipFramesOf(file, plan, sampling.maxFrames), expected, (images) => processedSpecs(plan, images.length), checkpoint),
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

/** The positions 0..count-1 of a clip's frames. */
const positions = (count: number) => Array.from({ length: count }, (_, i) => i);

/**
 * A frame's two grey copies for the motion statistics (`motionSignals`): thumbnail and detailed, at the first frame's
 * sizes (`first` unset for the first frame itself), as images of one request may differ in size.
 */
async function greyCopies(image: RgbImage, first: Promise<[GreyFrame, GreyFrame]> | undefined): Promise<[GreyFrame, GreyFrame]> {
  if (!first) {
    return Promise.all([grey(image, { width: motionThumbnailWidth, withoutEnlargement: true }), grey(image, { width: flickerWidth, withoutEnlargement: true })]);
  }
  const [thumbnail, detailed] = await first;
  const at = (size: GreyFrame) => grey(image, { width: size.width, height: size.height, fit: 'fill' });
  return Promise.all([at(thumbnail), at(detailed)]);
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
 * each `items()` gives the items in order as they come (several may read at once: the detector and the work beside
 * it), `all` every item once the source ended. `stop()` ends it early.
 */
function pumped<T>(source: AsyncIterable<T>) {
  const buffer: T[] = [];
  let ended = false;
  let failed = false;
  let failure: unknown;
  let stopped = false;
  // Every reader waiting for the next item.
  let waiting: (() => void)[] = [];
  const woken = () => {
    for (const wake of waiting) wake();
    waiting = [];
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
        while (i >= buffer.length && !ended) await new Promise<void>((resolve) => waiting.push(resolve));
        if (i < buffer.length) yield buffer[i]!;
        else if (failed) throw failure;
        else return;
      }
    },
  };
}
