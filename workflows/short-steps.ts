import { proxyLocalActivities } from '@temporalio/workflow';
import type { AlarmActivities } from '../activities/alarm.js';
import type { ImageBatchActivities } from '../activities/image-batch.js';
import type { JobLifecycleActivities } from '../activities/job-lifecycle.js';
import type { VmsActivities } from '../activities/vms.js';

/** Retries of a step that reads and writes PostgreSQL: about a minute, enough for a database restart. */
export const databaseRetry = { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 10 } as const;

/**
 * Short database and analysis steps run as local activities in the analysis worker that runs the workflow:
 * no task-queue round trip per step, yet each is retried on a thrown error like any activity and its result
 * is recorded in history (a marker) before the workflow moves on. A worker lost mid-step makes the workflow
 * task time out and run the step again.
 */
const localStepOptions = { startToCloseTimeout: '30s', retry: databaseRetry } as const;

/** Every kind's: the worker's settings, and ending a job that failed. */
export const lifecycleSteps = proxyLocalActivities<JobLifecycleActivities>(localStepOptions);

/** The alarm pipeline's tenancy, site time, analysis, local decision and storage. */
export const alarmSteps = proxyLocalActivities<AlarmActivities>(localStepOptions);

/** The image-batch pipeline's item reads and writes. */
export const imageBatchSteps = proxyLocalActivities<ImageBatchActivities>(localStepOptions);
/** VMS incidents' and camera watches' bookkeeping: windows, verdicts, closing, camera status, their webhooks' records. */
export const vmsSteps = proxyLocalActivities<VmsActivities>(localStepOptions);
