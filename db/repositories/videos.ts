import { sql } from 'kysely';
import { endedJobStatuses } from '../../domain/job-kinds.js';
import type { Detection } from '../../domain/types.js';
import type { Db } from '../database.js';
import type { TimeSegment, VideoRequest, VideoResult } from '../schema.js';

export interface StoredVideoFrame {
  timestampS: number;
  width: number;
  height: number;
  meanLuma: number;
  detections: Detection[];
}

export interface VideoChunkRows {
  chunkIndex: number;
  startS: number;
  endS: number;
  frames: StoredVideoFrame[];
}

export interface ActivitySample {
  timestampS: number;
  value: number;
}

/** One tracked object of a video, stored as one detection: its best frame. */
export interface VideoTrackDetection {
  category: string;
  label: string;
  score: number;
  box: [number, number, number, number];
  timestampS: number;
}

/** A detection of a video, with what serving its clip and frame needs. */
export interface VideoDetectionMedia {
  jobId: string;
  mediaKey: string;
  container: string;
  timestampS: number;
  durationS: number;
  codec: string;
}

/** The per-frame data of video jobs, kept in PostgreSQL while their analysis runs, and their results. */
export class VideoRepository {
  constructor(private readonly db: Db) {}

  async finishedChunks(accountId: string, jobId: string): Promise<number[]> {
    const rows = await this.db
      .selectFrom('video_chunks')
      .select('chunk_index')
      .where('account_id', '=', accountId)
      .where('job_id', '=', jobId)
      .orderBy('chunk_index')
      .execute();
    return rows.map((row) => row.chunk_index);
  }

  /**
   * Stores a chunk's frames and marks it finished, in one transaction; a chunk stored before (a retried
   * step) is replaced. False when the job is gone or has ended: nothing is stored.
   */
  async storeChunk(accountId: string, jobId: string, chunk: VideoChunkRows): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const job = await trx
        .selectFrom('jobs')
        .select('status')
        .where('account_id', '=', accountId)
        .where('id', '=', jobId)
        .forShare()
        .executeTakeFirst();
      if (!job || (endedJobStatuses as readonly string[]).includes(job.status)) return false;
      await trx.deleteFrom('video_frames').where('job_id', '=', jobId).where('chunk_index', '=', chunk.chunkIndex).execute();
      if (chunk.frames.length > 0) {
        await trx
          .insertInto('video_frames')
          .values(
            chunk.frames.map((frame) => ({
              job_id: jobId,
              account_id: accountId,
              chunk_index: chunk.chunkIndex,
              timestamp_s: frame.timestampS,
              width: frame.width,
              height: frame.height,
              mean_luma: frame.meanLuma,
              detections: JSON.stringify(frame.detections),
            })),
          )
          .execute();
      }
      const detectionCount = chunk.frames.reduce((sum, frame) => sum + frame.detections.length, 0);
      await trx
        .insertInto('video_chunks')
        .values({ job_id: jobId, account_id: accountId, chunk_index: chunk.chunkIndex, start_s: chunk.startS, end_s: chunk.endS, frame_count: chunk.frames.length, detection_count: detectionCount })
        .onConflict((oc) => oc.columns(['job_id', 'chunk_index']).doUpdateSet({ frame_count: chunk.frames.length, detection_count: detectionCount }))
        .execute();
      return true;
    });
  }

  /** The job's sampled frames in time order; with `throughChunk`, only those of the chunks up to that one. */
  async frames(accountId: string, jobId: string, throughChunk?: number): Promise<StoredVideoFrame[]> {
    let query = this.db
      .selectFrom('video_frames')
      .select(['timestamp_s', 'width', 'height', 'mean_luma', 'detections'])
      .where('account_id', '=', accountId)
      .where('job_id', '=', jobId);
    if (throughChunk !== undefined) query = query.where('chunk_index', '<=', throughChunk);
    const rows = await query.orderBy('timestamp_s').execute();
    return rows.map((row) => ({ timestampS: row.timestamp_s, width: row.width, height: row.height, meanLuma: row.mean_luma, detections: row.detections }));
  }

  async storeMotion(accountId: string, jobId: string, motion: { scenes: TimeSegment[]; activity: ActivitySample[] }): Promise<void> {
    const values = { scenes: JSON.stringify(motion.scenes), activity: JSON.stringify(motion.activity) };
    await this.db
      .insertInto('video_motion')
      .values({ job_id: jobId, account_id: accountId, ...values })
      .onConflict((oc) => oc.column('job_id').doUpdateSet(values))
      .execute();
  }

  async motion(accountId: string, jobId: string): Promise<{ scenes: TimeSegment[]; activity: ActivitySample[] } | undefined> {
    return this.db
      .selectFrom('video_motion')
      .select(['scenes', 'activity'])
      .where('account_id', '=', accountId)
      .where('job_id', '=', jobId)
      .executeTakeFirst();
  }

  /**
   * Stores the result and one detection per tracked object, in one transaction; the job's detections are
   * replaced, so a retried step cannot duplicate them. A job that has ended meanwhile stays as it was.
   */
  async finish(accountId: string, jobId: string, outcome: { result: VideoResult; request: VideoRequest; tracks: VideoTrackDetection[] }): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const job = await trx
        .selectFrom('jobs')
        .select('status')
        .where('account_id', '=', accountId)
        .where('id', '=', jobId)
        .forUpdate()
        .executeTakeFirst();
      if (!job || (endedJobStatuses as readonly string[]).includes(job.status)) return;
      await trx.deleteFrom('detections').where('account_id', '=', accountId).where('job_id', '=', jobId).execute();
      await trx
        .updateTable('jobs')
        .set({ status: 'finished', stage: 'finished', result: JSON.stringify(outcome.result), finished_at: sql`now()` })
        .where('account_id', '=', accountId)
        .where('id', '=', jobId)
        .execute();
      if (outcome.tracks.length === 0) return;
      const { request } = outcome;
      await trx
        .insertInto('detections')
        .values(
          outcome.tracks.map((track, index) => ({
            account_id: accountId,
            job_id: jobId,
            frame_id: null,
            camera_id: null,
            frame_index: index,
            category: track.category,
            label: track.label,
            score: track.score,
            x1: track.box[0],
            y1: track.box[1],
            x2: track.box[2],
            y2: track.box[3],
            kept: true,
            filtered_by: null,
            media_type: 'video' as const,
            file_path: request.media_key,
            file_type: 'video/mp4',
            video_timestamp_s: track.timestampS,
            video_duration_s: request.duration_s,
            video_codec: request.codec,
            video_bytes: request.bytes,
          })),
        )
        .execute();
    });
  }

  /** The video behind one of the account's detections, or undefined when it is not a detection of a video. */
  async detectionMedia(accountId: string, detectionId: number): Promise<VideoDetectionMedia | undefined> {
    const row = await this.db
      .selectFrom('detections as d')
      .innerJoin('jobs as j', (join) => join.onRef('j.id', '=', 'd.job_id').onRef('j.account_id', '=', 'd.account_id'))
      .select(['d.job_id', 'd.video_timestamp_s', 'd.video_duration_s', 'd.video_codec', 'j.request'])
      .where('d.account_id', '=', accountId)
      .where('d.public_id', '=', detectionId)
      .where('d.media_type', '=', 'video')
      .where('j.kind', '=', 'video')
      .executeTakeFirst();
    if (!row || row.job_id === null) return undefined;
    const request = row.request as VideoRequest;
    return { jobId: row.job_id, mediaKey: request.media_key, container: request.container, timestampS: row.video_timestamp_s ?? 0, durationS: row.video_duration_s ?? request.duration_s, codec: row.video_codec ?? request.codec };
  }
}
