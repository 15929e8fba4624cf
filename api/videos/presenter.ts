import { presentVideoDocument, type LiveProgress } from '../../activities/video-document.js';
import type { TypedJob } from '../../db/schema.js';

/** The family's answers (spec 2): bare JSON documents, no envelope. */

export function presentAccepted(jobId: string) {
  return { job_id: jobId };
}

export function presentVideo(job: TypedJob<'video'>, live?: LiveProgress) {
  return presentVideoDocument(job, live);
}
