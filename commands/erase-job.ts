import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Db } from '../db/database.js';
import { JobErasureRepository } from '../db/repositories/job-erasure.js';
import { jobMediaPrefix, type MediaStore } from '../media/store.js';

export interface JobErasureDeps {
  db: Db;
  media: MediaStore;
}

/** How long an erasure waits for the cancelled workflow to close before terminating it. */
const workflowCloseDeadlineMs = 5000;

/**
 * Erases a job of the account at its owner's request (`DELETE /api/v1/jobs/{job_id}`): its workflow is
 * cancelled and closed first, so nothing it writes outlives the erasure. Returns false when the account
 * has no such job (or a concurrent erasure took it).
 */
export async function eraseJob(deps: JobErasureDeps & { temporal: Client }, accountId: string, jobId: string): Promise<boolean> {
  await closeWorkflow(deps.temporal, jobId);
  return eraseEndedJob(deps, accountId, jobId);
}

/**
 * Erases a job whose workflow has ended: its rows in one transaction, and every file under its media
 * prefix (frames, and the detection images drawn from them). The retention sweep calls this directly.
 * Returns false when the account has no such job.
 */
export function eraseEndedJob({ db, media }: JobErasureDeps, accountId: string, jobId: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const kind = await new JobErasureRepository(trx).erase(accountId, jobId);
    if (!kind) return false;
    // Before the commit: when the files cannot be removed the rows stay, and the next attempt finds the job again.
    await media.remove(jobMediaPrefix(kind, jobId));
    return true;
  });
}

/**
 * Asks the workflow (id = job id) to cancel, so it ends the job and sends its webhook as any cancelled job
 * does, and waits for it to close. One that does not close in time (its webhook still retrying) is
 * terminated. A workflow closed already is left as it is.
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
