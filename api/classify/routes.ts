import { Router } from '@koa/router';
import type { Client } from '@temporalio/client';
import { submitClassification, classificationImageCounts, type SubmitClassificationDeps, type UploadedFile } from '../../commands/submit-classification.js';
import type { AccountRepository } from '../../db/repositories/accounts.js';
import type { Db } from '../../db/database.js';
import { JobRepository } from '../../db/repositories/jobs.js';
import type { TypedJob } from '../../db/schema.js';
import type { Logger } from '../../logging/logger.js';
import type { ApiMetrics } from '../../observability/metrics.js';
import { classificationEndedUpdate } from '../../workflows/contracts/clip-classification.js';
import { authenticate, presentedToken } from '../auth.js';
import { refuseControlCharacters } from '../control-characters.js';
import { ApiError, validationError } from '../errors.js';
import { idempotencyKeyOf, maxProcessingSecondsOf, refusalError } from '../job-options.js';
import { readMultipartForm, type MultipartForm, type MultipartLimits } from '../multipart.js';
import { ownedJob } from '../owned-job.js';
import type { UploadMemory } from '../upload-memory.js';
import { parseInput } from '../validate.js';
import { presentClassification } from '../../activities/classification-document.js';
import { classifyFields, classifyQuery, type ClassifyFields } from './schema.js';

export interface ClassificationRouteDeps extends SubmitClassificationDeps {
  db: Db;
  accounts: AccountRepository;
  temporal: Client;
  logger: Logger;
  metrics: Pick<ApiMetrics, 'jobsAccepted'>;
  uploadMemory: UploadMemory;
  maxImageBytes: number;
  maxClipBytes: number;
  /** Max-Processing-Time when a submission sends none. */
  maxProcessingSeconds: number;
  /** How long `?sync=true` waits for the result before answering the accepted document. */
  syncWaitSeconds: number;
}

const imageFieldNames = new Set(['images', 'images[]']);

export function classificationRoutes(deps: ClassificationRouteDeps): Router {
  const router = new Router();
  const jobs = new JobRepository(deps.db);
  const formLimits: MultipartLimits = {
    files: classificationImageCounts.max,
    fileBytes: Math.max(deps.maxImageBytes, deps.maxClipBytes),
    fields: 20,
    fieldBytes: 32 * 1024,
  };

  router.post('/api/classify', async (ctx) => {
    const query = parseInput(classifyQuery, ctx.query);
    if (!ctx.is('multipart/form-data')) throw validationError('body', 'Send the clip as multipart/form-data.');
    // As for alarms: the token from the header before the body is read, or from a form field before the first file.
    let auth = ctx.get('authorization') ? await authenticate(deps.accounts, presentedToken(ctx, undefined)) : undefined;
    const memory = deps.uploadMemory.share();
    let jobId: string;
    let existing = false;
    try {
      const form = await readMultipartForm(ctx, {
        limits: formLimits,
        memory,
        beforeFirstFile: async (fields) => {
          auth ??= await authenticate(deps.accounts, fields.token);
        },
        tooManyFiles: () =>
          new ApiError(400, 'INVALID_IMAGE_COUNT', `Send ${classificationImageCounts.min} to ${classificationImageCounts.max} images.`, { field: 'images' }),
      });
      auth ??= await authenticate(deps.accounts, form.fields.token);
      const fields = parseInput(classifyFields, form.fields);
      const media = mediaOf(form.files);
      const { accountId, accountName } = auth;
      const result = await submitClassification(deps, {
        account: { accountId, accountName },
        tenant: fields.tenant,
        cameraId: cameraIdOf(fields),
        analyseId: fields.analyse_id ?? null,
        parentId: fields.parent_id ?? null,
        metadata: fields.metadata ?? {},
        media,
        webhook: fields.webhook_url ? { url: fields.webhook_url, secret: fields.webhook_secret ?? null } : null,
        maxProcessingSeconds: maxProcessingSecondsOf(ctx, deps.maxProcessingSeconds),
        idempotencyKey: idempotencyKeyOf(ctx),
      });
      if (result.outcome === 'refused') throw refusalError(result.refusal);
      if (result.outcome === 'existing') {
        jobId = result.existing.jobId;
        existing = true;
      } else {
        jobId = result.jobId;
        deps.metrics.jobsAccepted.inc({ api: 'classify' });
        deps.logger.info({ jobId, workflowId: jobId, account: accountName, accountId }, 'classification accepted');
      }
    } finally {
      memory.release();
    }
    const accountId = auth.accountId;
    const job = query.sync ? await syncResult(deps, jobs, accountId, jobId) : await jobs.getOfKind(accountId, jobId, 'classification');
    if (!job) throw new ApiError(500, 'INTERNAL_ERROR', 'The accepted classification could not be read back.');
    ctx.status = existing || (query.sync && hasEnded(job)) ? 200 : 202;
    ctx.set('Location', `/api/result/${jobId}`);
    ctx.body = presentClassification(job);
  });

  router.get('/api/result/:job_id', async (ctx) => {
    const { job } = await ownedJob(ctx, deps.accounts, jobs, 'classification');
    ctx.body = presentClassification(job as TypedJob<'classification'>);
  });

  return router;
}

/** One `video` file, or only `images` files; anything else is refused with the field at fault. */
function mediaOf(files: MultipartForm['files']): { kind: 'video'; file: UploadedFile } | { kind: 'images'; files: UploadedFile[] } {
  const stray = files.find((file) => file.field !== 'video' && !imageFieldNames.has(file.field));
  if (stray) throw validationError(stray.field, `Unexpected file field ${stray.field}; send a video or images.`);
  const videos = files.filter((file) => file.field === 'video');
  const images = files.filter((file) => imageFieldNames.has(file.field));
  if (videos.length === 0 && images.length === 0) throw validationError('video', 'Send a video clip or 2 to 60 images.');
  if (videos.length > 0 && images.length > 0) throw validationError('video', 'Send a video or images, not both.');
  if (videos.length > 1) throw validationError('video', 'Send one video.');
  const uploaded = (file: MultipartForm['files'][number], fallback: string): UploadedFile => {
    refuseControlCharacters(file.filename, file.field);
    return { name: (file.filename || fallback).slice(0, 255), bytes: file.bytes };
  };
  if (videos.length === 1) return { kind: 'video', file: uploaded(videos[0]!, 'video') };
  return { kind: 'images', files: images.map((file, index) => uploaded(file, `image_${index}`)) };
}

/** metadata.camera_id wins (a number is written as text), else the camera_id field. */
function cameraIdOf(fields: ClassifyFields): string | null {
  const fromMetadata = fields.metadata?.camera_id;
  if (typeof fromMetadata === 'string' && fromMetadata.trim() !== '') return fromMetadata.trim().slice(0, 128);
  if (typeof fromMetadata === 'number' && Number.isFinite(fromMetadata)) return String(fromMetadata);
  return fields.camera_id ?? null;
}

const hasEnded = (job: TypedJob<'classification'>) => job.status === 'finished' || job.status === 'failed' || job.status === 'cancelled';

/**
 * The classification once its pipeline has ended, or as it stands after `syncWaitSeconds`. The workflow answers
 * the update once the result is stored, before the webhook goes out; a failing pipeline ends before the lifecycle
 * stores its failure, which the workflow's own end then awaits.
 */
async function syncResult(deps: ClassificationRouteDeps, jobs: JobRepository, accountId: string, jobId: string) {
  const deadline = Date.now() + deps.syncWaitSeconds * 1000;
  const handle = deps.temporal.workflow.getHandle(jobId);
  const read = () => jobs.getOfKind(accountId, jobId, 'classification');
  // Either rejection (the deadline, a workflow closed already, a failed one) leaves the stored row to say where it is.
  await deps.temporal.withDeadline(deadline, () => handle.executeUpdate(classificationEndedUpdate)).catch(() => undefined);
  const job = await read();
  if (!job || hasEnded(job) || Date.now() >= deadline) return job;
  await deps.temporal.withDeadline(deadline, () => handle.result()).catch(() => undefined);
  return read();
}
