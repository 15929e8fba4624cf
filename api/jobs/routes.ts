import { Router } from '@koa/router';
import type { Client } from '@temporalio/client';
import { eraseJob } from '../../commands/erase-job.js';
import type { Db } from '../../db/database.js';
import type { AccountRepository } from '../../db/repositories/accounts.js';
import { JobRepository } from '../../db/repositories/jobs.js';
import type { Logger } from '../../logging/logger.js';
import type { MediaStore } from '../../media/store.js';
import { ownedJob } from '../owned-job.js';
import { notFound } from '../errors.js';

export interface JobRouteDeps {
  db: Db;
  accounts: AccountRepository;
  media: MediaStore;
  temporal: Client;
  logger: Logger;
}

/** Routes for jobs of every kind; another account's job is a 404, like one that does not exist. */
export function jobRoutes(deps: JobRouteDeps): Router {
  const router = new Router({ prefix: '/api/v1/jobs' });
  const jobs = new JobRepository(deps.db);

  /** Cancels the job's workflow and waits for it to close, then erases the job. */
  router.delete('/:job_id', async (ctx) => {
    const { auth, job } = await ownedJob(ctx, deps.accounts, jobs);
    // A concurrent DELETE may have erased it meanwhile.
    if (!(await eraseJob(deps, auth.accountId, job.id))) throw notFound('Job');
    deps.logger.info({ jobId: job.id, workflowId: job.id, account: auth.accountName, accountId: auth.accountId }, 'job erased');
    ctx.status = 204;
  });

  return router;
}
