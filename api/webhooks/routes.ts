import { randomUUID } from 'node:crypto';
import { Router } from '@koa/router';
import type { Client } from '@temporalio/client';
import type { Context } from 'koa';
import type { Db } from '../../db/database.js';
import type { SecretKeyring } from '../../domain/secret-keyring.js';
import type { AccountRepository } from '../../db/repositories/accounts.js';
import { JobRepository } from '../../db/repositories/jobs.js';
import { WebhookRepository } from '../../db/repositories/webhooks.js';
import type { Logger } from '../../logging/logger.js';
import { redeliverWebhook } from '../../workflows/webhook-delivery.js';
import { ApiError, envelope } from '../errors.js';
import { ownedJob } from '../owned-job.js';
import { presentDeliveries, presentRedelivery } from './presenter.js';
import { deliveryPrefixes } from './schema.js';

export interface DeliveryRouteDeps {
  db: Db;
  accounts: AccountRepository;
  temporal: Client;
  logger: Logger;
  analysisTaskQueue: string;
  secrets: SecretKeyring;
}

/** `GET …/{job_id}/deliveries` and `POST …/deliveries/redeliver`; another account's job is a 404. */
export function deliveryRoutes(deps: DeliveryRouteDeps): Router[] {
  const jobs = new JobRepository(deps.db);
  const webhooks = new WebhookRepository(deps.db, deps.secrets);
  const jobOf = (ctx: Context, prefix: string) => (prefix === '/api/v1/alarms' ? ownedJob(ctx, deps.accounts, jobs, 'alarm') : ownedJob(ctx, deps.accounts, jobs));

  return deliveryPrefixes.map((prefix) => {
    const router = new Router({ prefix });
    router.get('/:job_id/deliveries', async (ctx) => {
      const { auth, job } = await jobOf(ctx, prefix);
      ctx.body = envelope(presentDeliveries(job.id, await webhooks.listForJob(auth.accountId, job.id)));
    });

    /** The final payload again, as a new delivery with its own attempts; X-Webhook-Id stays that of the job's outcome. */
    router.post('/:job_id/deliveries/redeliver', async (ctx) => {
      const { auth, job } = await jobOf(ctx, prefix);
      if (job.status === 'queued' || job.status === 'running') {
        throw new ApiError(409, 'NOT_READY', `The job is ${job.status}; its webhook is sent once it has ended.`);
      }
      if (!(await webhooks.resolveTargetId(auth.accountId, job.id))) {
        throw new ApiError(409, 'WEBHOOK_NOT_CONFIGURED', 'The job has no webhook target and its account has no default one.');
      }
      const deliveryId = randomUUID();
      const workflowId = `${job.id}-redelivery-${deliveryId}`;
      await deps.temporal.workflow.start(redeliverWebhook, {
        workflowId,
        taskQueue: deps.analysisTaskQueue,
        workflowIdConflictPolicy: 'FAIL',
        args: [{ accountId: auth.accountId, jobId: job.id, deliveryId }],
      });
      deps.logger.info({ jobId: job.id, workflowId, account: auth.accountName, accountId: auth.accountId, deliveryId }, 'webhook redelivery started');
      ctx.status = 202;
      ctx.set('Location', `${prefix}/${encodeURIComponent(job.id)}/deliveries`);
      ctx.body = envelope(presentRedelivery(job.id, deliveryId));
    });
    return router;
  });
}
