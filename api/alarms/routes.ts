import { Router } from '@koa/router';
import type { Client } from '@temporalio/client';
import { loadAlarmExport, presentExport, type AlarmExport } from '../../activities/alarm-export.js';
import { allowedImageCounts, submitAlarm, type SubmitAlarmDeps } from '../../commands/submit-alarm.js';
import type { AccountRepository } from '../../db/repositories/accounts.js';
import type { Db } from '../../db/database.js';
import { JobRepository } from '../../db/repositories/jobs.js';
import { ExportLockRepository } from '../../db/repositories/export-locks.js';
import { annotateFrame } from '../../media/annotate.js';
import type { MediaStore } from '../../media/store.js';
import type { Logger } from '../../logging/logger.js';
import type { ApiMetrics } from '../../observability/metrics.js';
import type { DetectionCategory } from '../../domain/types.js';
import { authenticate, authenticateRequest, presentedToken } from '../auth.js';
import { ApiError, envelope, notFound, validationError } from '../errors.js';
import { idempotencyKeyOf, maxProcessingSecondsOf, refusalError } from '../job-options.js';
import { readMultipartForm, type MultipartLimits } from '../multipart.js';
import type { UploadMemory } from '../upload-memory.js';
import { parseInput } from '../validate.js';
import { jobIdParams, ownedJobStatus } from '../owned-job.js';
import { presentAccepted, presentJobStatus } from './presenter.js';
import { exportQuery, submitAlarmFields, type SubmitAlarmFields } from './schema.js';

export interface AlarmRouteDeps extends SubmitAlarmDeps {
  db: Db;
  accounts: AccountRepository;
  media: MediaStore;
  temporal: Client;
  logger: Logger;
  metrics: Pick<ApiMetrics, 'jobsAccepted'>;
  /** Where the bytes of uploads being read and handled are counted, across requests. */
  uploadMemory: UploadMemory;
  maxImageBytes: number;
  exportLockSeconds: number;
  /** Max-Processing-Time when a submission sends none. */
  maxProcessingSeconds: number;
}

const imageFieldNames = new Set(['images', 'images[]']);

export function alarmRoutes(deps: AlarmRouteDeps): Router {
  const router = new Router({ prefix: '/api/v1/alarms' });
  const jobs = new JobRepository(deps.db);
  const formLimits: MultipartLimits = { files: allowedImageCounts.at(-1)!, fileBytes: deps.maxImageBytes, fields: 40, fieldBytes: 64 * 1024 };

  router.post('/', async (ctx) => {
    if (!ctx.is('multipart/form-data')) throw validationError('body', 'Send the alarm as multipart/form-data.');
    // The token is checked before the body is read: from the header, or else from a form field sent before the first image.
    let auth = ctx.get('authorization') ? await authenticate(deps.accounts, presentedToken(ctx, undefined)) : undefined;
    const memory = deps.uploadMemory.share();
    try {
      const form = await readMultipartForm(ctx, {
        limits: formLimits,
        memory,
        beforeFirstFile: async (fields) => {
          auth ??= await authenticate(deps.accounts, fields.token);
        },
        tooManyFiles: () => new ApiError(400, 'INVALID_IMAGE_COUNT', 'Send exactly 4, 6 or 8 images.', { field: 'images' }),
      });
      auth ??= await authenticate(deps.accounts, form.fields.token);
      const stray = form.files.find((file) => !imageFieldNames.has(file.field));
      if (stray) throw validationError(stray.field, `Unexpected file field ${stray.field}; send frames as images.`);
      const fields = parseInput(submitAlarmFields, form.fields);
      const { accountId, accountName } = auth;
      const result = await submitAlarm(deps, {
        ...submissionOf(fields),
        account: { accountId, accountName },
        images: form.files.map((file) => file.bytes),
        maxProcessingSeconds: maxProcessingSecondsOf(ctx, deps.maxProcessingSeconds),
        idempotencyKey: idempotencyKeyOf(ctx),
      });
      if (result.outcome === 'refused') throw refusalError(result.refusal);
      if (result.outcome === 'existing') {
        ctx.status = 200;
        ctx.body = envelope(presentAccepted(result.existing.jobId, result.existing.status, true));
        return;
      }
      deps.metrics.jobsAccepted.inc({ api: 'alarms' });
      deps.logger.info({ jobId: result.jobId, workflowId: result.jobId, account: accountName, accountId }, 'alarm accepted');
      ctx.status = 202;
      ctx.set('Location', `/api/v1/alarms/${encodeURIComponent(result.jobId)}`);
      ctx.body = envelope(presentAccepted(result.jobId, 'queued', false));
    } finally {
      memory.release();
    }
  });

  router.get('/:job_id', async (ctx) => {
    ctx.body = envelope(presentJobStatus(await ownedJobStatus(ctx, jobs, 'alarm')));
  });

  router.get('/:job_id/export', async (ctx) => {
    const query = parseInput(exportQuery, ctx.query);
    const auth = await authenticateRequest(deps.accounts, ctx);
    const { job_id } = parseInput(jobIdParams, ctx.params);
    if (query.media_type !== 0 && auth.role !== 'admin') {
      throw new ApiError(403, 'FORBIDDEN', 'media_type other than 0 needs an admin token.');
    }
    // Read before the transaction, which then needs no other connection than its own.
    const exported = await loadAlarmExport(jobs, auth.accountId, job_id);
    if (!exported) throw notFound('Job');
    const { job } = exported;
    if (job.status === 'failed' || job.status === 'cancelled') {
      throw new ApiError(409, 'JOB_FAILED', `The job ended ${job.status}${job.error ? `: ${job.error.code}` : ''}; there is nothing to export.`);
    }
    if (job.status !== 'finished') throw new ApiError(409, 'NOT_READY', `The job is ${job.status}; export it once it has finished.`);

    // A HEAD (the router answers it with this GET route) sends no document, so it must not take the lock either.
    if (ctx.method === 'HEAD') {
      const secondsLeft = await new ExportLockRepository(deps.db).secondsLeft(auth.tokenId, job.id);
      if (secondsLeft !== undefined) throw exportLocked(secondsLeft);
      ctx.status = 200;
      return;
    }
    // The lock is claimed in the transaction that builds the document: a failed export does not lock.
    ctx.body = await deps.db.transaction().execute(async (trx) => {
      const lock = await new ExportLockRepository(trx).claim(auth.tokenId, job.id, deps.exportLockSeconds);
      if (!lock.claimed) throw exportLocked(lock.retryAfterSeconds);
      const annotated = query.media_type === 1 ? await annotateFrames(deps.media, exported) : undefined;
      return envelope(presentExport(exported, annotated));
    });
  });

  return router;
}

const exportLocked = (retryAfterSeconds: number) =>
  new ApiError(429, 'EXPORT_LOCKED', 'This job was exported with this token recently; save the first response.', { retryAfterSeconds });

function submissionOf(fields: SubmitAlarmFields) {
  return {
    camera: { groupId: fields.group_id, siteId: fields.site_id, zoneId: fields.zone_id },
    names: { groupName: fields.group_name ?? null, siteName: fields.site_name ?? null, zoneName: fields.zone_name ?? null },
    siteCategory: fields.site_category,
    vendorEventId: fields.vendor_event_id,
    siteAddress: fields.site_address ?? null,
    timestamp: fields.timestamp ?? null,
    sensitivity: fields.detection_sensitive_level,
    webhook: fields.webhook_url ? { url: fields.webhook_url, secret: fields.webhook_secret ?? null } : null,
  };
}

async function annotateFrames(media: MediaStore, { frames, detections }: AlarmExport): Promise<Map<number, string>> {
  const annotated = await Promise.all(
    frames.map(async (frame) => {
      const boxes = detections
        .filter((d) => d.frameIndex === frame.frame_index)
        .map((d) => ({ category: d.category as DetectionCategory, box: d.box, score: d.score }));
      return [frame.frame_index, (await annotateFrame(await media.get(frame.media_key), boxes)).toString('base64')] as const;
    }),
  );
  return new Map(annotated);
}
