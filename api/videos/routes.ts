import { Router } from '@koa/router';
import type { Client } from '@temporalio/client';
import type { Context } from 'koa';
import { sectionThumbnailKey } from '../../activities/video-document.js';
import { discardUpload, receiveVideo, submitVideo, VideoTooLargeError, type SubmitVideoDeps, type VideoUpload } from '../../commands/submit-video.js';
import type { AccountRepository } from '../../db/repositories/accounts.js';
import type { Db } from '../../db/database.js';
import { JobRepository } from '../../db/repositories/jobs.js';
import type { MediaStore } from '../../media/store.js';
import type { Logger } from '../../logging/logger.js';
import type { ApiMetrics } from '../../observability/metrics.js';
import { progressQuery, type JobProgress } from '../../workflows/contracts/job.js';
import { authenticate, presentedToken } from '../auth.js';
import { ApiError, notFound, validationError } from '../errors.js';
import { idempotencyKeyOf, maxProcessingSecondsOf, refusalError } from '../job-options.js';
import { storedMedia, sendMedia } from '../media-response.js';
import { readMultipartUpload } from '../multipart.js';
import { ownedJob } from '../owned-job.js';
import { parseInput } from '../validate.js';
import { presentAccepted, presentVideo } from './presenter.js';
import { sectionThumbnailPath, videoWebhookFields } from './schema.js';

export interface VideoRouteDeps extends SubmitVideoDeps {
  db: Db;
  accounts: AccountRepository;
  media: MediaStore;
  temporal: Client;
  logger: Logger;
  metrics: Pick<ApiMetrics, 'jobsAccepted'>;
  /** The largest upload; the bytes past it are never read. */
  maxVideoBytes: number;
  /** Max-Processing-Time when a submission sends none. */
  maxProcessingSeconds: number;
}

/** How long a status request waits for the workflow's live progress before falling back to the stored stage. */
const liveProgressDeadlineMs = 1500;
/** Seconds a client should wait before its first poll. */
const pollAfterSeconds = 5;
/** Room for a multipart body's boundaries and webhook fields beyond the video itself. */
const multipartFramingBytes = 64 * 1024;

export function videoRoutes(deps: VideoRouteDeps): Router {
  const router = new Router({ prefix: '/api/v1/videos' });
  const jobs = new JobRepository(deps.db);

  router.post('/', async (ctx) => {
    // Everything a header can refuse is refused before a byte of the body is read.
    const auth = await authenticate(deps.accounts, presentedToken(ctx, undefined));
    const maxProcessingSeconds = maxProcessingSecondsOf(ctx, deps.maxProcessingSeconds);
    const idempotencyKey = idempotencyKeyOf(ctx);
    const type = ctx.request.type;
    const multipart = type === 'multipart/form-data';
    if (!multipart && !type.startsWith('video/') && type !== 'application/octet-stream') {
      throw validationError('Content-Type', 'Send the video as the body (video/* or application/octet-stream), or as the video field of a multipart/form-data body.');
    }
    if (Number(ctx.get('content-length')) > deps.maxVideoBytes + (multipart ? multipartFramingBytes : 0)) throw tooLarge(deps.maxVideoBytes);

    const { upload, webhookFields } = multipart ? await readForm(ctx, deps) : await readRawBody(ctx, deps);
    const { accountId, accountName } = auth;
    const webhookUrl = webhookFields['webhook.url'];
    const result = await submitVideo(deps, {
      account: { accountId, accountName },
      upload,
      webhook: webhookUrl ? { url: webhookUrl, secret: webhookFields['webhook.secret'] ?? null } : null,
      maxProcessingSeconds,
      idempotencyKey,
    });
    if (result.outcome === 'refused') throw refusalError(result.refusal);
    if (result.outcome === 'existing') {
      ctx.status = 200;
      ctx.body = presentAccepted(result.existing.jobId);
      return;
    }
    deps.metrics.jobsAccepted.inc({ api: 'videos' });
    deps.logger.info({ jobId: result.jobId, workflowId: result.jobId, account: accountName, accountId, bytes: upload.bytes }, 'video accepted');
    ctx.status = 202;
    ctx.set('Location', `/api/v1/videos/${encodeURIComponent(result.jobId)}`);
    ctx.set('Retry-After', String(pollAfterSeconds));
    ctx.body = presentAccepted(result.jobId);
  });

  router.get('/:job_id', async (ctx) => {
    const { job } = await ownedJob(ctx, deps.accounts, jobs, 'video');
    const live = job.status === 'running' || job.status === 'queued' ? await readProgress(deps.temporal, job.id) : undefined;
    ctx.body = presentVideo(job, live);
  });

  router.get('/:job_id/sections/:n/thumbnail', async (ctx) => {
    const { job } = await ownedJob(ctx, deps.accounts, jobs, 'video');
    const { n } = parseInput(sectionThumbnailPath, ctx.params);
    if (job.status !== 'finished' || !job.result) throw new ApiError(409, 'NOT_READY', `The job is ${job.status}; its sections exist once it has finished.`);
    if (n >= job.result.sections.length) throw notFound('Section');
    const thumbnail = await storedMedia(deps.media, sectionThumbnailKey(job.id, n), 'image/jpeg');
    if (!thumbnail) throw notFound('Thumbnail');
    sendMedia(ctx, thumbnail, { cacheControl: 'private, max-age=3600' });
  });

  return router;
}

const tooLarge = (maxBytes: number) => new ApiError(413, 'PAYLOAD_TOO_LARGE', `The video is larger than the ${maxBytes} bytes accepted.`, { field: 'video' });

/** The upload as it streams in; passing the limit answers 413 at once. */
async function receive(deps: VideoRouteDeps, source: Parameters<typeof receiveVideo>[1]): Promise<VideoUpload> {
  try {
    return await receiveVideo(deps.media, source, deps.maxVideoBytes);
  } catch (error) {
    if (error instanceof VideoTooLargeError) throw tooLarge(error.maxBytes);
    throw error;
  }
}

/** A raw body: the webhook comes as headers, checked before the body is read. */
async function readRawBody(ctx: Context, deps: VideoRouteDeps) {
  const webhookFields = parseInput(videoWebhookFields, { 'webhook.url': ctx.get('webhook-url'), 'webhook.secret': ctx.get('webhook-secret') });
  return { upload: await receive(deps, ctx.req), webhookFields };
}

/** A multipart form: the `video` file streams to the store; the webhook fields may come before or after it. */
async function readForm(ctx: Context, deps: VideoRouteDeps) {
  const { fields, received } = await readMultipartUpload(ctx, {
    fileField: 'video',
    limits: { fields: 8, fieldBytes: 4096 },
    receive: (file) => receive(deps, file),
    discard: (upload) => discardUpload(deps.media, upload),
  });
  try {
    return { upload: received, webhookFields: parseInput(videoWebhookFields, fields) };
  } catch (error) {
    await discardUpload(deps.media, received);
    throw error;
  }
}

async function readProgress(temporal: Client, jobId: string): Promise<JobProgress | undefined> {
  try {
    return await temporal.withDeadline(Date.now() + liveProgressDeadlineMs, () => temporal.workflow.getHandle(jobId).query(progressQuery));
  } catch {
    return undefined;
  }
}
