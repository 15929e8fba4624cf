import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db } from '../db/database.js';
import { FaceRepository } from '../db/repositories/faces.js';
import { FacesTextRepository, type MediaFace, type MediaTextLine } from '../db/repositories/faces-text.js';
import { VideoRepository } from '../db/repositories/videos.js';
import { FailureType } from '../domain/failure-types.js';
import type { Box } from '../domain/types.js';
import { facesTextFrames } from '../domain/video/faces-text-frames.js';
import { decodeToRgb, InvalidImageError, type RgbImage } from '../media/image.js';
import type { MediaStore } from '../media/store.js';
import { ToolFailedError } from '../media/video/ffmpeg.js';
import { decodeFrames } from '../media/video/frames.js';
import type { ImageRef } from '../workflows/contracts/image-batch-analysis.js';
import type { VideoChunkInput } from '../workflows/contracts/video-analysis.js';
import type { FaceAnalyser } from './faces.js';
import type { TextReader } from './ocr.js';

/** The widest a chosen video frame is decoded for faces and text: overlay text of 8–10 px stays readable. */
export const FACES_TEXT_DECODE_WIDTH = 1280;

export interface FacesTextCounts {
  /** Frames or images looked at. */
  frames: number;
  faces: number;
  textLines: number;
}

export interface ImageFacesTextInput {
  accountId: string;
  jobId: string;
  images: ImageRef[];
}

/** The models and the store faces and text need; the detection worker opens them once. */
export interface FacesTextModels {
  analyser: FaceAnalyser;
  reader: TextReader;
  db: Db;
}

export interface FacesTextDeps extends FacesTextModels {
  media: MediaStore;
}

/** Faces (in the person boxes, or over the whole image without them) and, when asked, text of one decoded picture. */
async function readFacesText(
  { analyser, reader }: FacesTextModels,
  image: RgbImage,
  personBoxes: readonly Box[] | undefined,
  readText: boolean,
  keepFaceData: boolean,
  timestampS: number,
): Promise<{ faces: MediaFace[]; lines: MediaTextLine[] }> {
  const faces: MediaFace[] = [];
  if (!personBoxes || personBoxes.length > 0) {
    const found = await analyser.analyse(image, personBoxes);
    for (const face of found.faces) {
      faces.push({
        timestampS,
        frameWidth: image.width,
        frameHeight: image.height,
        box: face.box.map(round1) as Box,
        score: face.score,
        age: face.age,
        gender: face.gender,
        ...(keepFaceData ? { descriptor: face.descriptor, thumbnail: face.thumbnail } : {}),
      });
    }
  }
  const lines: MediaTextLine[] = readText
    ? (await reader.read(image)).lines.map((line) => ({ timestampS, text: line.text, confidence: line.confidence, box: line.box.map(round1) as Box }))
    : [];
  return { faces, lines };
}

/** The faces and text of one chunk of a batch's images, read image by image from pixels the caller decoded whole. */
export interface ImageFacesTextChunk {
  /** Faces over the whole image and every line of text in it. */
  read(index: number, image: RgbImage): Promise<void>;
  /** Stores what was read under the job (replacing what an earlier attempt at these images stored) and counts it. */
  store(): Promise<FacesTextCounts>;
}

/**
 * Starts reading faces and text for one chunk of an image batch: `analyseImages` (gpu-worker/activities.ts)
 * reads them from the bytes it fetched once per image for the tagging too; `analyseImageFacesText` below, for
 * batches started before, fetches them itself.
 */
export async function imageFacesTextChunk(models: FacesTextModels, accountId: string, jobId: string): Promise<ImageFacesTextChunk> {
  const keepFaceData = await new FaceRepository(models.db).faceAnalysisEnabled(accountId);
  const parts: { partIndex: number; faces: MediaFace[]; lines: MediaTextLine[] }[] = [];
  return {
    async read(index, image) {
      parts.push({ partIndex: index, ...(await readFacesText(models, image, undefined, true, keepFaceData, 0)) });
    },
    async store() {
      if (!(await new FacesTextRepository(models.db).replaceParts(accountId, jobId, parts))) {
        throw ApplicationFailure.nonRetryable(`Job ${jobId} has ended or no longer exists.`, FailureType.UnknownJob);
      }
      return {
        frames: parts.length,
        faces: parts.reduce((sum, part) => sum + part.faces.length, 0),
        textLines: parts.reduce((sum, part) => sum + part.lines.length, 0),
      };
    },
  };
}

/**
 * Faces and text on the detection worker, where the models are loaded once. What they find goes straight
 * to PostgreSQL under the job (`media_faces`, `media_text_lines`), so descriptors and thumbnails never
 * reach a workflow's history; the workflow gets counts. With the account's face analysis off a face keeps
 * its box, age and gender only.
 */
export function createFacesTextActivities({ media, ...models }: FacesTextDeps) {
  const stored = new FacesTextRepository(models.db);
  const faceSettings = new FaceRepository(models.db);
  const videos = new VideoRepository(models.db);

  return {
    /**
     * Faces and text in one chunk of a video, on the frames `domain/video/faces-text-frames.ts` chooses from
     * the stored detections and motion (faces inside person boxes; text on keyframes, activity onsets and a
     * slow interval). Boxes are stored in the video's pixels. A retried chunk replaces what it stored.
     */
    async analyseVideoFacesText({ accountId, jobId, video, chunkIndex, startS, endS, sampleFps }: VideoChunkInput): Promise<FacesTextCounts> {
      const context = Context.current();
      // The choice runs through the frames in time order, each choice depending only on earlier frames: the
      // chunks after this one change nothing in it, and their rows are not read.
      const [frames, motion, keepFaceData] = await Promise.all([
        videos.frames(accountId, jobId, chunkIndex),
        videos.motion(accountId, jobId),
        faceSettings.faceAnalysisEnabled(accountId),
      ]);
      const chosen = facesTextFrames(frames, motion?.scenes ?? [], motion?.activity ?? []).filter(
        (frame) => frame.timestampS + 1e-6 >= startS && frame.timestampS < endS - 1e-6,
      );
      const faces: MediaFace[] = [];
      const lines: MediaTextLine[] = [];
      if (chosen.length > 0) {
        // The same sampling as detection, so a chosen frame is the sampled frame of its detection frame's index.
        const bySampledIndex = new Map(chosen.map((frame) => [Math.round((frame.timestampS - startS) * sampleFps), frame]));
        try {
          await media.withLocalFile(video.mediaKey, async (file) => {
            const width = Math.min(FACES_TEXT_DECODE_WIDTH, video.width);
            // Only the chosen frames are scaled to RGB and piped; the chunk's other sampled frames are left out.
            for await (const decoded of decodeFrames(file, { fps: sampleFps, width, pixelFormat: 'rgb24', startS, endS, only: [...bySampledIndex.keys()] })) {
              const frame = bySampledIndex.get(decoded.index)!;
              context.heartbeat({ chunkIndex, timestampS: decoded.timestampS });
              if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
              const toFrame = { x: decoded.width / video.width, y: decoded.height / video.height };
              const boxes = frame.personBoxes.map((box) => scaled(box, toFrame.x, toFrame.y));
              const read = await readFacesText(models, decoded, boxes, frame.readText, keepFaceData, frame.timestampS);
              // Stored in the video's pixels, as its detections are.
              for (const face of read.faces) faces.push({ ...face, frameWidth: video.width, frameHeight: video.height, box: scaled(face.box, 1 / toFrame.x, 1 / toFrame.y) });
              for (const line of read.lines) lines.push({ ...line, box: scaled(line.box, 1 / toFrame.x, 1 / toFrame.y) });
            }
          });
        } catch (error) {
          if (error instanceof ToolFailedError) {
            throw ApplicationFailure.nonRetryable(`Chunk ${chunkIndex} of video job ${jobId} does not decode: ${error.message}`, FailureType.InvalidVideo);
          }
          throw error;
        }
      }
      if (!(await stored.replaceParts(accountId, jobId, [{ partIndex: chunkIndex, faces, lines }]))) {
        throw ApplicationFailure.nonRetryable(`Video job ${jobId} has ended or no longer exists.`, FailureType.UnknownJob);
      }
      return { frames: chosen.length, faces: faces.length, textLines: lines.length };
    },

    /**
     * Faces (over the whole image) and text in each image of a batch's chunk, heartbeating per image, for
     * batches started before `analyseImages` read them itself. An image that does not decode is skipped:
     * `analyseImages` reports it.
     */
    async analyseImageFacesText({ accountId, jobId, images }: ImageFacesTextInput): Promise<FacesTextCounts> {
      const context = Context.current();
      const chunk = await imageFacesTextChunk(models, accountId, jobId);
      for (const ref of images) {
        context.heartbeat({ imageIndex: ref.index });
        if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
        let image: RgbImage;
        try {
          image = await decodeToRgb(await media.get(ref.key));
        } catch (error) {
          if (error instanceof InvalidImageError) continue;
          throw error;
        }
        await chunk.read(ref.index, image);
      }
      return chunk.store();
    },
  };
}

export type FacesTextActivities = ReturnType<typeof createFacesTextActivities>;

function scaled([x1, y1, x2, y2]: Box, sx: number, sy: number): Box {
  return [round1(x1 * sx), round1(y1 * sy), round1(x2 * sx), round1(y2 * sy)];
}

const round1 = (value: number) => Math.round(value * 10) / 10;
