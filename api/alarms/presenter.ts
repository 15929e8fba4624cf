import type { JobStatusRow } from '../../db/repositories/jobs.js';

/** A job's status as its row has it: the alarm's steps keep the row's stage current (activities/alarm.ts). */
export function presentJobStatus(job: JobStatusRow) {
  return {
    job_id: job.id,
    status: job.status,
    stage: job.stage,
    created_at: job.created_at.toISOString(),
    finished_at: job.finished_at?.toISOString() ?? null,
    error: job.error ?? null,
  };
}

export function presentAccepted(jobId: string, status: string, duplicate: boolean) {
  return duplicate ? { job_id: jobId, status, duplicate: true } : { job_id: jobId, status };
}
