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

export interface FacesTextDeps {
  analyser: FaceAnalyser;
  reader: TextReader;
  media: MediaStore;
  db: Db;
}

/**
 * Faces and text on the detection worker, where the models are loaded once. What they find goes straight
 * to PostgreSQL under the job (`media_faces`, `media_text_lines`), so descriptors and thumbnails never
 * reach a workflow's history; the workflow gets counts. With the account's face analysis off a face keeps
 * its box, age and gender only.
 */
export function createFacesTextActivities({ analyser, reader, media, db }: FacesTextDeps) {
  const stored = new FacesTextRepository(db);
  const faceSettings = new FaceRepository(db);
  const videos = new VideoRepository(db);

  const readImage = async (image: RgbImage, personBoxes: readonly Box[] | undefined, readText: boolean, keepFaceData: boolean, timestampS: number) => {
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
  };

  return {
    /**
     * Faces and text in one chunk of a video, on the frames `domain/video/faces-text-frames.ts` chooses from
     * the stored detections and motion (faces inside person boxes; text on keyframes, activity onsets and a
     * slow interval). Boxes are stored in the video's pixels. A retried chunk replaces what it stored.
     */
    async analyseVideoFacesText({ accountId, jobId, video, chunkIndex, startS, endS, sampleFps }: VideoChunkInput): Promise<FacesTextCounts> {
      const context = Context.current();
      const [frames, motion, keepFaceData] = await Promise.all([videos.frames(accountId, jobId), videos.motion(accountId, jobId), faceSettings.faceAnalysisEnabled(accountId)]);
      const chosen = facesTextFrames(frames, motion?.scenes ?? [], motion?.activity ?? []).filter(
        (frame) => frame.timestampS + 1e-6 >= startS && frame.timestampS < endS - 1e-6,
      );
      const faces: MediaFace[] = [];
      const lines: MediaTextLine[] = [];
      if (chosen.length > 0) {
        const byTime = new Map(chosen.map((frame) => [Math.round(frame.timestampS * 1000), frame]));
        try {
          await media.withLocalFile(video.mediaKey, async (file) => {
            // The same sampling as detection, so a decoded frame's timestamp is its detection frame's.
            for await (const decoded of decodeFrames(file, { fps: sampleFps, width: Math.min(FACES_TEXT_DECODE_WIDTH, video.width), pixelFormat: 'rgb24', startS, endS })) {
              const frame = byTime.get(Math.round(decoded.timestampS * 1000));
              if (!frame) continue;
              context.heartbeat({ chunkIndex, timestampS: decoded.timestampS });
              if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
              const toFrame = { x: decoded.width / video.width, y: decoded.height / video.height };
              const boxes = frame.personBoxes.map((box) => scaled(box, toFrame.x, toFrame.y));
              const read = await readImage(decoded, boxes, frame.readText, keepFaceData, frame.timestampS);
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
     * Faces (over the whole image) and text in each image of a batch's chunk, heartbeating per image. An image
     * that does not decode is skipped: `analyseImages` reports it.
     */
    async analyseImageFacesText({ accountId, jobId, images }: ImageFacesTextInput): Promise<FacesTextCounts> {
      const context = Context.current();
      const keepFaceData = await faceSettings.faceAnalysisEnabled(accountId);
      const parts = [];
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
        parts.push({ partIndex: ref.index, ...(await readImage(image, undefined, true, keepFaceData, 0)) });
      }
      if (!(await stored.replaceParts(accountId, jobId, parts))) {
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

export type FacesTextActivities = ReturnType<typeof createFacesTextActivities>;

function scaled([x1, y1, x2, y2]: Box, sx: number, sy: number): Box {
  return [round1(x1 * sx), round1(y1 * sy), round1(x2 * sx), round1(y2 * sy)];
}

const round1 = (value: number) => Math.round(value * 10) / 10;
