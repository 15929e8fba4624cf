import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { RetentionActivities } from '../activities/retention.js';
import type { RetentionSweepInput } from './contracts/retention-sweep.js';
import { databaseRetry } from './short-steps.js';

/** Jobs one activity erases: a bounded amount of work per attempt, however large the backlog. */
const jobsPerBatch = 100;

const retention = proxyActivities<RetentionActivities>({ startToCloseTimeout: '5m', retry: databaseRetry });

/**
 * Erases every job that ended more than `retentionDays` ago, a batch per activity, until a batch comes back
 * short. Started hourly by the `vigil-retention` schedule (temporal/retention-schedule.ts). Returns how many
 * jobs this run found expired.
 */
export async function retentionSweep(input: RetentionSweepInput): Promise<number> {
  let erased = 0;
  for (;;) {
    const found = await retention.eraseExpiredJobs({ retentionDays: input.retentionDays, limit: jobsPerBatch });
    erased += found;
    if (found < jobsPerBatch) return erased;
    // A backlog of many batches goes on in a fresh history rather than one that grows without bound.
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<typeof retentionSweep>(input);
  }
}
