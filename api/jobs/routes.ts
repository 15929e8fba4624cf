import { Router } from '@koa/router';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { eraseJob } from '../../activities/job-erasure.js';
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

/** How long an erasure waits for the cancelled workflow to close before terminating it. */
const workflowCloseDeadlineMs = 5000;

/** Routes for jobs of every kind; another account's job is a 404, like one that does not exist. */
export function jobRoutes(deps: JobRouteDeps): Router {
  const router = new Router({ prefix: '/api/v1/jobs' });
  const jobs = new JobRepository(deps.db);

  /** Cancels the job's workflow (workflow id = job id) and waits for it to close, then erases the job. */
  router.delete('/:job_id', async (ctx) => {
    const { auth, job } = await ownedJob(ctx, deps.accounts, jobs);
    await closeWorkflow(deps.temporal, job.id);
    // A concurrent DELETE may have erased it meanwhile.
    if (!(await eraseJob(deps, auth.accountId, job.id))) throw notFound('Job');
    deps.logger.info({ jobId: job.id, workflowId: job.id, account: auth.accountName, accountId: auth.accountId }, 'job erased');
    ctx.status = 204;
  });

  return router;
}

/**
 * Asks the workflow to cancel, so it ends the job and sends its webhook as any cancelled job does, and waits
 * for it to close: nothing it writes may outlive the erasure. One that does not close in time (its webhook
 * still retrying) is terminated. A workflow closed already is left as it is.
 */
async function closeWorkflow(temporal: Client, workflowId: string): Promise<void> {
  const handle = temporal.workflow.getHandle(workflowId);
  try {
    await handle.cancel();
    // result() throws for a cancelled run as for one past the deadline: describe() tells which.
    await temporal.withDeadline(Date.now() + workflowCloseDeadlineMs, () => handle.result()).catch(() => undefined);
    if ((await handle.describe()).status.name === 'RUNNING') await handle.terminate('job erased before its cancellation completed');
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
}
