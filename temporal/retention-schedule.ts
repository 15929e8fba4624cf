import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import type { Config } from '../config/index.js';
import { retentionSweep } from '../workflows/retention.js';

export const retentionScheduleId = 'vigil-retention';

/**
 * Creates the hourly schedule of the retention sweep, or brings the existing one to this configuration
 * (RESULT_RETENTION_DAYS, task queue), keeping whether an operator paused it. Every analysis worker calls
 * it at start: however many start, there is one schedule. A sweep still running when the next hour comes
 * makes that hour's sweep skip.
 */
export async function ensureRetentionSchedule(client: Client, config: Config): Promise<void> {
  const spec = { intervals: [{ every: '1h' as const }] };
  const action: ScheduleOptionsStartWorkflowAction<typeof retentionSweep> = {
    type: 'startWorkflow',
    workflowType: retentionSweep,
    workflowId: retentionScheduleId,
    taskQueue: config.temporal.analysisTaskQueue,
    args: [{ retentionDays: config.resultRetentionDays }],
  };
  try {
    await client.schedule.create({ scheduleId: retentionScheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP } });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule
      .getHandle(retentionScheduleId)
      .update<typeof retentionSweep>((previous) => ({ ...previous, spec, action, policies: { ...previous.policies, overlap: ScheduleOverlapPolicy.SKIP } }));
  }
}
