import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Db } from '../db/database.js';
import { FaceRepository } from '../db/repositories/faces.js';
import { FailureType } from '../domain/failure-types.js';
import type { Box } from '../domain/types.js';
import { decodeToRgb, InvalidImageError } from '../media/image.js';
import type { MediaStore } from '../media/store.js';
import type { FaceAnalyser, Gender } from './faces.js';

export interface AnalyseFacesInput {
  accountId: string;
  jobId: string;
  /** A frame or image in the media store. */
  mediaKey: string;
  /** People found there by the detector: faces are looked for inside them only. Absent: the whole image. */
  personBoxes?: Box[];
}

export interface AnalysedFaceSummary {
  box: Box;
  score: number;
  age: number;
  gender: Gender;
  /**
   * The stored face (`faces` row: descriptor and thumbnail), for clustering and the allowlist. Absent
   * when the account's face analysis is off: then nothing of the face is stored.
   */
  embeddingId?: string;
}

/**
 * Faces on the detection worker: found, described and estimated there; descriptors and thumbnails go
 * straight to PostgreSQL under the job, so only their ids travel through the workflow's history.
 */
export function createFaceActivities({ analyser, media, db }: { analyser: FaceAnalyser; media: MediaStore; db: Db }) {
  const faces = new FaceRepository(db);
  return {
    async analyseFaces({ accountId, jobId, mediaKey, personBoxes }: AnalyseFacesInput): Promise<{ faces: AnalysedFaceSummary[] }> {
      Context.current().heartbeat();
      let image;
      try {
        image = await decodeToRgb(await media.get(mediaKey));
      } catch (error) {
        if (error instanceof InvalidImageError) throw ApplicationFailure.nonRetryable(`${mediaKey}: ${error.message}`, FailureType.InvalidImage);
        throw error;
      }
      if (personBoxes && personBoxes.length === 0) return { faces: [] };
      const enabled = await faces.faceAnalysisEnabled(accountId);
      const { faces: found } = await analyser.analyse(image, personBoxes);
      const round1 = (value: number) => Math.round(value * 10) / 10;
      const summaries: AnalysedFaceSummary[] = found.map((face) => ({ box: face.box.map(round1) as Box, score: face.score, age: face.age, gender: face.gender }));
      if (!enabled) return { faces: summaries };
      const ids = await faces.addFaces(
        accountId,
        jobId,
        found.map((face, i) => ({ mediaKey, box: summaries[i]!.box, score: face.score, age: face.age, gender: face.gender, descriptor: face.descriptor, thumbnail: face.thumbnail })),
      );
      return { faces: summaries.map((summary, i) => ({ ...summary, embeddingId: ids[i]! })) };
    },
  };
}


export type FaceActivities = ReturnType<typeof createFaceActivities>;
