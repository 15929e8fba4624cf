import type { JobRepository, JobWithNames, StoredDetection } from '../db/repositories/jobs.js';
import type { Frame } from '../db/schema.js';
import { boxFileName } from '../domain/identifiers.js';
import { detectionCategories } from '../domain/types.js';

/**
 * The alarm export document: the answer of GET /api/v1/alarms/{job_id}/export and the `data`
 * of the alarm.finished webhook, loaded and presented here for both.
 */
export interface AlarmExport {
  job: JobWithNames;
  /** In upload order; read only for a finished job, empty otherwise. */
  frames: Frame[];
  /** What the job saw (kept, and parked vehicles); read only for a finished job, empty otherwise. */
  detections: StoredDetection[];
}

/** The account's job with what its export shows; undefined when the account has no such job. */
export async function loadAlarmExport(jobs: JobRepository, accountId: string, jobId: string): Promise<AlarmExport | undefined> {
  const job = await jobs.getWithNames(accountId, jobId);
  if (!job) return undefined;
  if (job.status !== 'finished') return { job, frames: [], detections: [] };
  const [frames, detections] = await Promise.all([jobs.frames(accountId, jobId), jobs.seenDetections(accountId, jobId)]);
  return { job, frames, detections };
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

/** The export document of a finished job; `annotatedImages` (frame index → base64 JPEG) only for admin media_type 1. */
export function presentExport({ job, frames, detections }: AlarmExport, annotatedImages?: Map<number, string>) {
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
