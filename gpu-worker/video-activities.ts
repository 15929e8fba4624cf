import { ApplicationFailure, Context } from '@temporalio/activity';
import { FailureType } from '../domain/failure-types.js';
import type { Box } from '../domain/types.js';
import { decodeFrames, type DecodedFrame } from '../media/video/frames.js';
import { ToolFailedError } from '../media/video/ffmpeg.js';
import { jobMediaPrefix, type MediaStore } from '../media/store.js';
import {
  videoChunkKey,
  type DetectedVideoFrame,
  type VideoChunkDetections,
  type VideoChunkInput,
  type VideoChunkResult,
  type VideoRef,
} from '../workflows/contracts/video-analysis.js';
import type { DetectionEngine } from './engine.js';

/** The widest a sampled frame is decoded for detection: the models see 416 px, and boxes scale back to the video's pixels. */
export const DETECT_DECODE_WIDTH = 640;
/** Frames decoded ahead and detected together: every session busy, a bounded amount of pixels held. */
const BATCH_FRAMES = 4;

export function createVideoDetectionActivities({ engine, media }: { engine: DetectionEngine; media: MediaStore }) {
  return {
    /**
     * Detects one chunk of a video: its frames sampled at `sampleFps`, decoded with ffmpeg from the stored
     * video, heartbeating per frame. The detections go to the media store beside the video (the analysis worker
     * moves them into PostgreSQL), never into workflow history; a chunk already there is not detected again.
     */
    async detectVideoChunk(input: VideoChunkInput): Promise<VideoChunkResult> {
      const key = videoChunkKey(jobMediaPrefix('video', input.jobId), input.chunkIndex);
      if (await media.stat(key)) return countsOf(JSON.parse((await media.get(key)).toString('utf8')) as VideoChunkDetections);

      const context = Context.current();
      let frames: DetectedVideoFrame[];
      try {
        frames = await media.withLocalFile(input.video.mediaKey, (file) =>
          detectVideoFrames(engine, file, input.video, input, (frameIndex) => {
            context.heartbeat({ chunkIndex: input.chunkIndex, frameIndex });
            if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
          }),
        );
      } catch (error) {
        if (error instanceof ToolFailedError) {
          throw ApplicationFailure.nonRetryable(`Chunk ${input.chunkIndex} of video job ${input.jobId} does not decode: ${error.message}`, FailureType.InvalidVideo);
        }
        throw error;
      }
      const chunk: VideoChunkDetections = { chunkIndex: input.chunkIndex, startS: input.startS, endS: input.endS, frames };
      await media.put(key, Buffer.from(JSON.stringify(chunk)));
      return countsOf(chunk);
    },
  };
}

/**
 * Detects the frames of `[startS, endS)` of a local video file sampled at `sampleFps`, decoded with ffmpeg
 * `BATCH_FRAMES` at a time, boxes in the video's pixels. `beforeFrame` runs before each model run (heartbeat,
 * cancellation); throwing stops the chunk.
 */
export async function detectVideoFrames(
  engine: DetectionEngine,
  file: string,
  video: Pick<VideoRef, 'width' | 'height'>,
  { sampleFps, startS, endS }: { sampleFps: number; startS: number; endS: number },
  beforeFrame: (frameIndex: number) => void = () => undefined,
): Promise<DetectedVideoFrame[]> {
  const width = Math.min(DETECT_DECODE_WIDTH, video.width);
  const frames: DetectedVideoFrame[] = [];
  let batch: DecodedFrame[] = [];
  const detectBatch = async () => {
    const found = await engine.detectDecoded(
      batch.map((frame) => ({ index: frame.index, image: { width: frame.width, height: frame.height, data: frame.data } })),
      beforeFrame,
    );
    batch.forEach((frame, i) => {
      const scale = { x: video.width / frame.width, y: video.height / frame.height };
      frames.push({
        timestampS: frame.timestampS,
        width: video.width,
        height: video.height,
        meanLuma: meanLuma(frame.data),
        detections: found[i]!.detections.map((d) => ({ category: d.category, label: d.label, score: round(d.score, 4), box: scaled(d.box, scale) })),
      });
    });
    batch = [];
  };
  for await (const frame of decodeFrames(file, { fps: sampleFps, width, pixelFormat: 'rgb24', startS, endS })) {
    batch.push(frame);
    if (batch.length === BATCH_FRAMES) await detectBatch();
  }
  if (batch.length > 0) await detectBatch();
  return frames;
}

export type VideoDetectionActivities = ReturnType<typeof createVideoDetectionActivities>;

function countsOf(chunk: VideoChunkDetections): VideoChunkResult {
  return { chunkIndex: chunk.chunkIndex, frames: chunk.frames.length, detections: chunk.frames.reduce((sum, frame) => sum + frame.detections.length, 0) };
}

function scaled([x1, y1, x2, y2]: Box, scale: { x: number; y: number }): Box {
  return [round(x1 * scale.x, 1), round(y1 * scale.y, 1), round(x2 * scale.x, 1), round(y2 * scale.y, 1)];
}

/** Rec. 601 luma of packed RGB, averaged. */
function meanLuma(rgb: Buffer): number {
  let sum = 0;
  for (let i = 0; i < rgb.length; i += 3) sum += 0.299 * rgb[i]! + 0.587 * rgb[i + 1]! + 0.114 * rgb[i + 2]!;
  return round(sum / (rgb.length / 3), 2);
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
