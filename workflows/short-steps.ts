import { proxyLocalActivities } from '@temporalio/workflow';
import type { AlarmActivities } from '../activities/alarm.js';

/** Retries of a step that reads and writes PostgreSQL: about a minute, enough for a database restart. */
export const databaseRetry = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 10 } as const;

/**
 * The alarm's short database and analysis steps, including the local decision rules, run as local
 * activities in the analysis worker that runs the workflow: no task-queue round trip per step, yet each
 * is retried on a thrown error like any activity and its result is recorded in history (a marker) before
 * the workflow moves on. A worker lost mid-step makes the workflow task time out and run the step again.
 */
export const shortSteps = proxyLocalActivities<AlarmActivities>({
  startToCloseTimeout: '30s',
  retry: { ...databaseRetry, nonRetryableErrorTypes: ['INVALID_IMAGE', 'UNKNOWN_JOB'] },
});
