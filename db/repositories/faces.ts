import { FACE_DESCRIPTOR_MODEL } from '../../domain/faces/allowlist-match.js';
import type { Db } from '../database.js';
import type { FacesTable } from '../schema.js';

export interface NewFace {
  mediaKey: string;
  box: [number, number, number, number];
  score: number;
  age: number;
  gender: FacesTable['gender'];
  descriptor: ArrayLike<number>;
  thumbnail: Buffer;
}

export interface StoredFace extends Omit<NewFace, 'descriptor'> {
  id: string;
  descriptor: number[];
}

export interface AllowlistEntry {
  id: string;
  name: string;
  /** Photos whose descriptors the current face model made: the only ones faces are compared with. */
  photos: number;
  createdAt: Date;
}

/** Faces found in jobs, the per-account face switch and the face allowlist; every query scoped by account. */
export class FaceRepository {
  constructor(private readonly db: Db) {}

  async faceAnalysisEnabled(accountId: string): Promise<boolean> {
    const row = await this.db.selectFrom('accounts').select('face_analysis').where('id', '=', accountId).executeTakeFirst();
    return row?.face_analysis ?? false;
  }

  /** Returns whether the account exists. */
  async setFaceAnalysis(accountId: string, enabled: boolean): Promise<boolean> {
    const result = await this.db.updateTable('accounts').set({ face_analysis: enabled }).where('id', '=', accountId).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Stores a frame's faces of a job; their ids in the same order. */
  async addFaces(accountId: string, jobId: string, faces: readonly NewFace[]): Promise<string[]> {
    if (faces.length === 0) return [];
    const rows = await this.db
      .insertInto('faces')
      .values(
        faces.map((face) => ({
          account_id: accountId,
          job_id: jobId,
          media_key: face.mediaKey,
          box: [...face.box],
          score: face.score,
          age: face.age,
          gender: face.gender,
          descriptor: Array.from(face.descriptor),
          thumbnail: face.thumbnail,
        })),
      )
      .returning('id')
      .execute();
    return rows.map((row) => row.id);
  }

  /** The job's faces, or only those of `ids`. */
  async facesOfJob(accountId: string, jobId: string, ids?: readonly string[]): Promise<StoredFace[]> {
    if (ids && ids.length === 0) return [];
    let query = this.db
      .selectFrom('faces')
      .select(['id', 'media_key', 'box', 'score', 'age', 'gender', 'descriptor', 'thumbnail'])
      .where('account_id', '=', accountId)
      .where('job_id', '=', jobId);
    if (ids) query = query.where('id', 'in', ids);
    const rows = await query.orderBy('created_at').orderBy('id').execute();
    return rows.map((row) => ({
      id: row.id,
      mediaKey: row.media_key,
      box: row.box as [number, number, number, number],
      score: row.score,
      age: row.age,
      gender: row.gender,
      descriptor: row.descriptor,
      thumbnail: row.thumbnail,
    }));
  }

  /** A person and the descriptors of their photos, in one transaction. */
  async addAllowlistEntry(accountId: string, name: string, descriptors: readonly ArrayLike<number>[]): Promise<AllowlistEntry> {
    return this.db.transaction().execute(async (trx) => {
      const entry = await trx
        .insertInto('face_allowlist')
        .values({ account_id: accountId, name })
        .returning(['id', 'name', 'created_at'])
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('face_allowlist_photos')
        .values(descriptors.map((descriptor) => ({ account_id: accountId, entry_id: entry.id, descriptor: Array.from(descriptor), descriptor_model: FACE_DESCRIPTOR_MODEL })))
        .execute();
      return { id: entry.id, name: entry.name, photos: descriptors.length, createdAt: entry.created_at };
    });
  }

  async allowlist(accountId: string): Promise<AllowlistEntry[]> {
    const rows = await this.db
      .selectFrom('face_allowlist')
      .leftJoin('face_allowlist_photos', (join) =>
        join.onRef('face_allowlist_photos.entry_id', '=', 'face_allowlist.id').on('face_allowlist_photos.descriptor_model', '=', FACE_DESCRIPTOR_MODEL),
      )
      .select(({ fn }) => ['face_allowlist.id', 'face_allowlist.name', 'face_allowlist.created_at', fn.count<string>('face_allowlist_photos.id').as('photos')])
      .where('face_allowlist.account_id', '=', accountId)
      .groupBy(['face_allowlist.id', 'face_allowlist.name', 'face_allowlist.created_at'])
      .orderBy('face_allowlist.created_at')
      .orderBy('face_allowlist.id')
      .execute();
    return rows.map((row) => ({ id: row.id, name: row.name, photos: Number(row.photos), createdAt: row.created_at }));
  }

  /** The person and their photos' descriptors; false when the account has no such entry. */
  async deleteAllowlistEntry(accountId: string, entryId: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('face_allowlist_photos').where('account_id', '=', accountId).where('entry_id', '=', entryId).execute();
      const result = await trx.deleteFrom('face_allowlist').where('account_id', '=', accountId).where('id', '=', entryId).executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  /** Every photo descriptor on the account's allowlist that the current face model made, with its entry. */
  async allowlistDescriptors(accountId: string): Promise<{ entryId: string; descriptor: number[] }[]> {
    const rows = await this.db
      .selectFrom('face_allowlist_photos')
      .select(['entry_id', 'descriptor'])
      .where('account_id', '=', accountId)
      .where('descriptor_model', '=', FACE_DESCRIPTOR_MODEL)
      .execute();
    return rows.map((row) => ({ entryId: row.entry_id, descriptor: row.descriptor }));
  }
}
