import { ApplicationFailure, Context } from '@temporalio/activity';
import { FailureType } from '../domain/failure-types.js';
import type { MediaStore } from '../media/store.js';
import type { DetectFramesInput, DetectFramesResult } from '../workflows/contracts/alarm-verification.js';
import type { ClassifyFramesInput, ClassifyFramesResult } from '../workflows/contracts/classify-frames.js';
import { decodeToRgb, InvalidImageError } from '../media/image.js';
import type { AnalyseImagesInput, AnalyseImagesResult } from '../workflows/contracts/image-batch-analysis.js';
import type { Classifier } from './classifier.js';
import type { Detector } from './detector.js';
import { imageFacesTextChunk, type FacesTextModels, type ImageFacesTextChunk } from './faces-text-activities.js';
import { imageSignals } from './image-signals.js';
import { InvalidFrameError, type DetectionEngine } from './engine.js';
import { measureEventFrames } from './frame-measures.js';

export interface DetectionDeps {
  engine: DetectionEngine;
  media: MediaStore;
}

export function createDetectionActivities({ engine, media }: DetectionDeps) {
  /** Events being detected in this process now. */
  let inFlight = 0;
  return {
    /**
     * Runs the detection engine over the event, heartbeating per frame so a lost worker is noticed and cancellation
     * is seen; and, when asked, each frame's quality and motion measures from the same bytes, for the analysis.
     */
    async detectFrames({ jobId, accountId, frames, everyChangedFrame, measure }: DetectFramesInput): Promise<DetectFramesResult> {
      const context = Context.current();
      // Each frame fetched once, for the detection and the measures.
      const eventFrames = frames.map((frame) => {
        let loading: Promise<Uint8Array> | undefined;
        return { index: frame.index, load: () => (loading ??= media.get(frame.key)) };
      });
      inFlight++;
      try {
        const detecting = engine.detectEvent(
          eventFrames,
          (frameIndex) => {
            context.heartbeat({ frameIndex });
            if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
          },
          { everyChangedFrame },
        );
        // Beside the engine when this is the only event: the measures fill the engine's gaps and the answer comes
        // 13–25 ms sooner. With other events in flight, after it: on a CPU host the two crowd each other off the
        // cores and the detection worker spent 100–150 ms more per alarm than taking them in turn (BENCHMARKS.md,
        // frame measures).
        const measuring = measure && inFlight === 1 ? measureEventFrames(eventFrames) : null;
        // Settled even when the engine fails first: its own failure is the one that counts.
        measuring?.catch(() => undefined);
        const result = await detecting;
        const measures = measure ? await (measuring ?? measureEventFrames(eventFrames)) : null;
        if (result.cascade || result.tiled || result.thermal || result.pseudoColourFrames > 0) {
          const { cascade, tiled, thermal, pseudoColourFrames } = result;
          context.log.info('detection adapted to the event', { jobId, accountId, cascade, tiled, thermal, pseudoColourFrames });
        }
        return measures ? result.frames.map((frame, position) => ({ ...frame, measures: measures[position]! })) : result.frames;
      } catch (error) {
        if (error instanceof InvalidFrameError) {
          throw ApplicationFailure.nonRetryable(`Frame ${error.frameIndex} of job ${jobId}: ${error.message}`, FailureType.InvalidImage);
        }
        throw error;
      } finally {
        inFlight--;
      }
    },
  };
}

export type DetectionActivities = ReturnType<typeof createDetectionActivities>;

/** Classes and groups per frame in an activity's answer: enough to tag, small enough for a workflow's history. */
export const FRAME_TOP_CLASSES = 3;
export const FRAME_TOP_GROUPS = 5;

export interface ClassifierDeps {
  classifier: Classifier;
  media: MediaStore;
}

export function createClassifierActivities({ classifier, media }: ClassifierDeps) {
  return {
    /** The ImageNet classifier over each frame (whole frame, centre crop): top classes and top groups, heartbeating per frame. */
    async classifyFrames({ jobId, frames }: ClassifyFramesInput): Promise<ClassifyFramesResult> {
      const context = Context.current();
      const results: ClassifyFramesResult = [];
      for (const frame of frames) {
        context.heartbeat({ frameIndex: frame.index });
        if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
        try {
          const { top, groups } = await classifier.classify(await media.get(frame.key), FRAME_TOP_CLASSES);
          results.push({
            frameIndex: frame.index,
            top: top.map(({ synset, label, probability }) => ({ synset, label, probability })),
            groups: groups.slice(0, FRAME_TOP_GROUPS),
          });
        } catch (error) {
          if (error instanceof InvalidImageError) {
            throw ApplicationFailure.nonRetryable(`Frame ${frame.index} of job ${jobId}: ${error.message}`, FailureType.InvalidImage);
          }
          throw error;
        }
      }
      return results;
    },
  };
}

export type ClassifierActivities = ReturnType<typeof createClassifierActivities>;

export interface ImageAnalysisDeps {
  detector: Detector;
  classifier: Classifier;
  media: MediaStore;
  /** Without them (tests of tagging alone) the worker cannot read faces and text. */
  facesText?: FacesTextModels;
}

export function createImageAnalysisActivities({ detector, classifier, media, facesText }: ImageAnalysisDeps) {
  return {
    /**
     * What the detector (every COCO class) and the ImageNet classifier see in each stored image, heartbeating per
     * image; with `facesText`, also the faces and text in it (stored under the job: gpu-worker/faces-text-activities.ts)
     * from the same bytes, fetched once, their full-size decode run beside the tagging. An image that does not
     * decode is answered with its error: the other images of the batch go on.
     */
    async analyseImages(input: AnalyseImagesInput): Promise<AnalyseImagesResult> {
      const context = Context.current();
      let facesAndText: ImageFacesTextChunk | undefined;
      if (input.facesText) {
        if (!facesText) throw new Error('This detection worker has no face and text models.');
        facesAndText = await imageFacesTextChunk(facesText, input.accountId, input.jobId);
      }
      const results: AnalyseImagesResult = [];
      for (const image of input.images) {
        context.heartbeat({ imageIndex: image.index });
        if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
        const bytes = await media.get(image.key);
        const [analysed] = await Promise.all([
          imageSignals(detector, classifier, bytes).then(
            (signals) => ({ index: image.index, signals }),
            (error: unknown) => {
              if (!(error instanceof InvalidImageError)) throw error;
              return { index: image.index, error: { code: FailureType.InvalidImage, message: error.message } };
            },
          ),
          // Tagging keeps its own decodes straight to each model's size (gpu-worker/image-signals.ts); faces and
          // text need every pixel. An image that does not decode has no faces or text: its error is in the answer.
          facesAndText &&
            decodeToRgb(bytes).then(
              (rgb) => facesAndText.read(image.index, rgb),
              (error: unknown) => {
                if (!(error instanceof InvalidImageError)) throw error;
              },
            ),
        ]);
        results.push(analysed);
      }
      await facesAndText?.store();
      return results;
    },
  };
}

export type ImageAnalysisActivities = ReturnType<typeof createImageAnalysisActivities>;
