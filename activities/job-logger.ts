import { Context } from '@temporalio/activity';
import type { Logger } from '../logging/logger.js';

/**
 * The logger for an activity working on one job: every line carries the job, the workflow running it
 * (a redelivery's workflow is not the job's) and the account, so one job's lines can be found across
 * processes.
 */
export function jobLogger(logger: Logger, job: { jobId: string; accountId: string }): Logger {
  return logger.child({ jobId: job.jobId, workflowId: Context.current().info.workflowExecution?.workflowId, accountId: job.accountId });
}
