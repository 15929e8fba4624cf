import { Router } from '@koa/router';
import type { Context, Next } from 'koa';
import { loadImageBatchDocument } from '../../activities/image-batch-document.js';
import { submitImageBatch, type SubmitImageBatchDeps } from '../../commands/submit-image-batch.js';
import type { Db } from '../../db/database.js';
import type { AccountRepository } from '../../db/repositories/accounts.js';
import { JobRepository } from '../../db/repositories/jobs.js';
import type { Logger } from '../../logging/logger.js';
import type { ApiMetrics } from '../../observability/metrics.js';
import { authenticate, presentedToken } from '../auth.js';
import { idempotencyKeyOf, maxProcessingSecondsOf, refusalError } from '../job-options.js';
import { jsonBody } from '../json-body.js';
import { ownedJob } from '../owned-job.js';
import { parseInput } from '../validate.js';
import { submitImagesBody } from './schema.js';

export interface ImageRouteDeps extends SubmitImageBatchDeps {
  db: Db;
  accounts: AccountRepository;
  logger: Logger;
  metrics: Pick<ApiMetrics, 'jobsAccepted'>;
  /** Bytes of a submission's JSON body; beyond is 413. */
  maxBodyBytes: number;
  /** Max-Processing-Time when a submission sends none. */
  maxProcessingSeconds: number;
}

/** Seconds a client should wait before its first poll of a new batch. */
const FIRST_POLL_SECONDS = 2;

/** Spec 2's image batches: bodies at the top level (`{job_id}`, `{job_id, status, items}`); errors as `{"error": {…}}` (api/errors.ts `answersWithoutEnvelope`). */
export function imageRoutes(deps: ImageRouteDeps): Router {
  const router = new Router({ prefix: '/api/v1/images' });
  const jobs = new JobRepository(deps.db);

  // The token is checked before the body (up to maxBodyBytes of base64) is read.
  const authenticated = async (ctx: Context, next: Next) => {
    ctx.state.auth = await authenticate(deps.accounts, presentedToken(ctx, undefined));
    await next();
  };

  router.post('/', authenticated, jsonBody(deps.maxBodyBytes), async (ctx) => {
    const { accountId, accountName } = ctx.state.auth as { accountId: string; accountName: string };
    const body = parseInput(submitImagesBody, ctx.request.body);
    const result = await submitImageBatch(deps, {
      account: { accountId, accountName },
      images: body.images.map((image) => ({ externalId: image.external_id, bytes: Buffer.from(image.data_base64, 'base64') })),
      webhook: body.webhook ? { url: body.webhook.url, secret: body.webhook.secret ?? null } : null,
      maxProcessingSeconds: maxProcessingSecondsOf(ctx, deps.maxProcessingSeconds),
      idempotencyKey: idempotencyKeyOf(ctx),
    });
    if (result.outcome === 'refused') throw refusalError(result.refusal);
    if (result.outcome === 'existing') {
      ctx.status = 200;
      ctx.body = { job_id: result.existing.jobId };
      return;
    }
    deps.metrics.jobsAccepted.inc({ api: 'images' });
    deps.logger.info({ jobId: result.jobId, workflowId: result.jobId, account: accountName, accountId, images: body.images.length }, 'image batch accepted');
    ctx.status = 202;
    ctx.set('Location', `/api/v1/images/${encodeURIComponent(result.jobId)}`);
    ctx.set('Retry-After', String(FIRST_POLL_SECONDS));
    ctx.body = { job_id: result.jobId };
  });

  router.get('/:job_id', async (ctx) => {
    const { job } = await ownedJob(ctx, deps.accounts, jobs, 'image_batch');
    ctx.body = await loadImageBatchDocument(deps.db, job);
  });

  return router;
}
