import type { TypedJob } from '../db/schema.js';
import { classificationErrorCode, classificationModel, classificationVersion } from '../domain/classification/documents.js';
import type { Risk } from '../domain/classification/risk.js';
import type { ClassificationClass, ClassificationScores } from '../domain/classification/scores.js';
import { FailureType } from '../domain/failure-types.js';

type StepStatus = 'accepted' | 'in_progress' | 'done' | 'error' | 'timeout';

/**
 * A classification as its API documents it (api/classify/schema.ts): `GET /api/result/{id}`, the answers to
 * `POST /api/classify`, and the `data` of its webhooks.
 */
export interface ClassificationDocument {
  id: string;
  status: { classify: StepStatus; video: StepStatus };
  parent_id: string;
  camera_id: string;
  analyse_id: number;
  tenant: string;
  duration: number;
  duration_seconds: number;
  model: string;
  version: string;
  error_code: number;
  error_msg: string;
  risk: Risk | null;
  labels: ClassificationClass[];
  scores: ClassificationScores | null;
  video: {
    videoname: string | null;
    filesize: number;
    specs: {
      width: number | null;
      height: number | null;
      fps: number | null;
      nframes: number | null;
      duration: number | null;
      'original.width': number;
      'original.height': number;
      'original.fps': number | null;
      'original.nframes': number;
    };
  };
  timing: { total: number | null };
  metadata: Record<string, unknown>;
  created_at: string;
  started_at: string | null;
}

/** What parent_id reads when the request named no parent. */
const noParent = '000000000000000000000000';

function stepStatusOf(job: TypedJob<'classification'>): StepStatus {
  switch (job.status) {
    case 'queued':
      return 'accepted';
    case 'running':
      return 'in_progress';
    case 'finished':
      return 'done';
    default:
      return job.error?.code === FailureType.MaxProcessingTimeExceeded ? 'timeout' : 'error';
  }
}

const millisecondsBetween = (from: Date | null, to: Date | null) => (from && to ? to.getTime() - from.getTime() : null);

/** A classification job as the classification API documents it, in any state. */
export function presentClassification(job: TypedJob<'classification'>): ClassificationDocument {
  const { request, result } = job;
  const { media } = request;
  const status = stepStatusOf(job);
  const duration = millisecondsBetween(job.created_at, job.finished_at) ?? 0;
  const processed = result?.processed;
  return {
    id: job.id,
    status: { classify: status, video: status },
    parent_id: request.parent_id ?? noParent,
    camera_id: request.camera_id ?? '',
    analyse_id: request.analyse_id ?? 0,
    tenant: request.tenant,
    duration,
    duration_seconds: Math.floor(duration / 1000),
    model: result?.model ?? classificationModel,
    version: result?.version ?? classificationVersion,
    error_code: job.error ? classificationErrorCode(job.error.code) : 0,
    error_msg: job.error ? `${job.error.code}: ${job.error.message}` : '',
    risk: result?.risk ?? null,
    labels: result?.labels ?? [],
    scores: result?.scores ?? null,
    video: {
      videoname: media.kind === 'video' ? media.name : null,
      filesize: media.bytes,
      specs: {
        width: processed?.width ?? null,
        height: processed?.height ?? null,
        fps: processed?.fps ?? null,
        nframes: processed?.nframes ?? null,
        duration: processed?.duration ?? null,
        'original.width': media.original.width,
        'original.height': media.original.height,
        'original.fps': media.kind === 'video' ? media.original.fps : null,
        'original.nframes': media.original.nframes,
      },
    },
    timing: { total: job.status === 'finished' ? millisecondsBetween(job.started_at, job.finished_at) : null },
    metadata: request.metadata,
    created_at: job.created_at.toISOString(),
    started_at: job.started_at?.toISOString() ?? null,
  };
}
