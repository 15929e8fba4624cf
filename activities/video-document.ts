import type { JobRepository } from '../db/repositories/jobs.js';
import type { JobError, TypedJob, VideoResult } from '../db/schema.js';
import { jobMediaPrefix } from '../media/store.js';

/**
 * The video document (spec 2): the answer of GET /api/v1/videos/{job_id} and the `data` of the
 * video.finished and video.failed webhooks, presented here for both.
 */
export interface VideoDocument {
  job_id: string;
  status: string;
  /** While the job runs: the fraction done (0–1) and the stage. */
  progress?: number;
  stage?: string;
  /** Once finished. */
  result?: VideoResult;
  /** Once failed or cancelled. */
  error?: JobError;
}

/** Where a running job is, from its workflow's `progress` query; absent when the workflow did not answer in time. */
export interface LiveProgress {
  stage: string;
  fractionDone: number | null;
}

export function presentVideoDocument(job: TypedJob<'video'>, live?: LiveProgress): VideoDocument {
  const document: VideoDocument = { job_id: job.id, status: job.status };
  if (job.status === 'queued' || job.status === 'running') {
    document.progress = live?.fractionDone ?? 0;
    document.stage = live?.stage ?? job.stage;
  }
  if (job.status === 'finished' && job.result) document.result = job.result;
  if (job.error) document.error = job.error;
  return document;
}

export async function loadVideoDocument(jobs: JobRepository, accountId: string, jobId: string): Promise<VideoDocument | undefined> {
  const job = await jobs.getOfKind(accountId, jobId, 'video');
  return job && presentVideoDocument(job);
}

/** Where a section's thumbnail is stored under the job's media prefix. */
export function sectionThumbnailKey(jobId: string, sectionIndex: number): string {
  return `${jobMediaPrefix('video', jobId)}/thumbnails/section_${String(sectionIndex).padStart(3, '0')}.jpg`;
}
