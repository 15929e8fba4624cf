import { endedJobStatuses } from '../../domain/job-kinds.js';
import type { Box } from '../../domain/types.js';
import type { Db } from '../database.js';
import type { MediaFacesTable } from '../schema.js';

/** A face seen in a frame or image; `descriptor` and `thumbnail` only while the account's face analysis is on. */
export interface MediaFace {
  timestampS: number;
  frameWidth: number;
  frameHeight: number;
  box: Box;
  score: number;
  age: number;
  gender: MediaFacesTable['gender'];
  descriptor?: ArrayLike<number>;
  thumbnail?: Buffer;
}

export interface MediaTextLine {
  timestampS: number;
  text: string;
  confidence: number;
  box: Box;
}

/** What was read in one part of a job: a video's chunk or a batch's item. */
export interface FacesTextPart {
  partIndex: number;
  faces: readonly MediaFace[];
  lines: readonly MediaTextLine[];
}

/**
 * Faces and text lines read in a job's media, kept in PostgreSQL between the detection worker that reads
 * them and the step that builds the result, so descriptors and thumbnails never pass through a workflow.
 * Every query takes the account; the rows go with their job.
 */
export class FacesTextRepository {
  constructor(private readonly db: Db) {}

  /**
   * Replaces what was stored for these parts (a retried step stores its parts again), in one transaction.
   * False when the job is gone or has ended: nothing is stored.
   */
  async replaceParts(accountId: string, jobId: string, parts: readonly FacesTextPart[]): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const job = await trx.selectFrom('jobs').select('status').where('account_id', '=', accountId).where('id', '=', jobId).forShare().executeTakeFirst();
      if (!job || (endedJobStatuses as readonly string[]).includes(job.status)) return false;
      const indexes = parts.map((part) => part.partIndex);
      if (indexes.length === 0) return true;
      for (const table of ['media_faces', 'media_text_lines'] as const) {
        await trx.deleteFrom(table).where('account_id', '=', accountId).where('job_id', '=', jobId).where('part_index', 'in', indexes).execute();
      }
      const faces = parts.flatMap((part) =>
        part.faces.map((face) => ({
          account_id: accountId,
          job_id: jobId,
          part_index: part.partIndex,
          timestamp_s: face.timestampS,
          frame_width: face.frameWidth,
          frame_height: face.frameHeight,
          box: [...face.box],
          score: face.score,
          age: face.age,
          gender: face.gender,
          descriptor: face.descriptor ? Array.from(face.descriptor) : null,
          thumbnail: face.thumbnail ?? null,
        })),
      );
      if (faces.length > 0) await trx.insertInto('media_faces').values(faces).execute();
      const lines = parts.flatMap((part) =>
        part.lines.map((line) => ({
          account_id: accountId,
          job_id: jobId,
          part_index: part.partIndex,
          timestamp_s: line.timestampS,
          text: line.text,
          confidence: line.confidence,
          box: [...line.box],
        })),
      );
      if (lines.length > 0) await trx.insertInto('media_text_lines').values(lines).execute();
      return true;
    });
  }

  /** The job's faces (of `partIndexes` only, when given), in time order. */
  async faces(accountId: string, jobId: string, partIndexes?: readonly number[]): Promise<(MediaFace & { partIndex: number })[]> {
    if (partIndexes && partIndexes.length === 0) return [];
    let query = this.db
      .selectFrom('media_faces')
      .select(['part_index', 'timestamp_s', 'frame_width', 'frame_height', 'box', 'score', 'age', 'gender', 'descriptor', 'thumbnail'])
      .where('account_id', '=', accountId)
      .where('job_id', '=', jobId);
    if (partIndexes) query = query.where('part_index', 'in', partIndexes);
    const rows = await query.orderBy('part_index').orderBy('timestamp_s').orderBy('id').execute();
    return rows.map((row) => ({
      partIndex: row.part_index,
      timestampS: row.timestamp_s,
      frameWidth: row.frame_width,
      frameHeight: row.frame_height,
      box: row.box as Box,
      score: row.score,
      age: row.age,
      gender: row.gender,
      ...(row.descriptor ? { descriptor: row.descriptor } : {}),
      ...(row.thumbnail ? { thumbnail: row.thumbnail } : {}),
    }));
  }

  /** The job's text lines (of `partIndexes` only, when given), in time order, each frame's in reading order. */
  async textLines(accountId: string, jobId: string, partIndexes?: readonly number[]): Promise<(MediaTextLine & { partIndex: number })[]> {
    if (partIndexes && partIndexes.length === 0) return [];
    let query = this.db
      .selectFrom('media_text_lines')
      .select(['part_index', 'timestamp_s', 'text', 'confidence', 'box'])
      .where('account_id', '=', accountId)
      .where('job_id', '=', jobId);
    if (partIndexes) query = query.where('part_index', 'in', partIndexes);
    const rows = await query.orderBy('part_index').orderBy('timestamp_s').orderBy('id').execute();
    return rows.map((row) => ({ partIndex: row.part_index, timestampS: row.timestamp_s, text: row.text, confidence: row.confidence, box: row.box as Box }));
  }
}
