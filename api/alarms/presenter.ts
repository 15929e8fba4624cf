import type { Job } from '../../db/schema.js';

export function presentJobStatus(job: Job, liveStage?: string) {
  return {
    job_id: job.id,
    status: job.status,
    stage: liveStage ?? job.stage,
    created_at: job.created_at.toISOString(),
    finished_at: job.finished_at?.toISOString() ?? null,
    error: job.error ?? null,
  };
}

export function presentAccepted(jobId: string, status: string, duplicate: boolean) {
  return duplicate ? { job_id: jobId, status, duplicate: true } : { job_id: jobId, status };
}
