import type { Frame, Job } from '../../db/schema.js';
import type { JobWithNames, StoredDetection } from '../../db/repositories/jobs.js';
import { boxFileName } from '../../domain/identifiers.js';
import { detectionCategories } from '../../domain/types.js';

const round = (value: number, digits: number) => Number(value.toFixed(digits));

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

/** The export document; `annotatedImages` (frame index → base64 JPEG) only for admin media_type 1. */
export function presentExport(job: JobWithNames, frames: Frame[], detections: StoredDetection[], annotatedImages?: Map<number, string>) {
  const request = job.request;
  return {
    job_id: job.id,
    vendor: {
      vendor_time: job.vendor_time,
      vendor_event_id: job.vendor_event_id,
      dealer_group_id: request.group_id,
      dealer_site_id: request.site_id,
      dealer_zone_id: request.zone_id,
      group_name: job.group_name,
      site_name: job.site_name,
      camera_name: job.camera_name,
      site_category: job.site_category,
      site_timezone: job.site_timezone,
    },
    server: job.result,
    media: {
      type: 'boxes',
      frames: frames.map((frame) => {
        const boxes = Object.fromEntries(
          detectionCategories.map((category) => [
            category,
            detections
              .filter((d) => d.frameIndex === frame.frame_index && d.category === category)
              .map((d) => [...d.box.map((v) => round(v, 1)), round(d.score, 3)]),
          ]),
        );
        const image = annotatedImages?.get(frame.frame_index);
        return { name: frame.name, box_file: boxFileName(frame.name), boxes, ...(image ? { image_base64: image } : {}) };
      }),
    },
  };
}
