import type { InjectedSinks } from '@temporalio/worker';
import type { JobMetricsSinks } from '../workflows/job-metrics.js';
import type { AnalysisWorkerMetrics, JobApi } from './metrics.js';

/** The API whose jobs each workflow type runs; other workflows (redeliveries) report nothing. */
const apiOfWorkflowType: Record<string, JobApi> = { alarmVerification: 'alarms' };

/** The worker's side of `JobMetricsSinks`: stage durations and job ends into the analysis worker's registry. */
export function jobMetricsSinks(metrics: Pick<AnalysisWorkerMetrics, 'stageDuration' | 'jobsEnded'>): InjectedSinks<JobMetricsSinks> {
  return {
    jobMetrics: {
      stageCompleted: {
        fn(info, stage, durationMs) {
          const api = apiOfWorkflowType[info.workflowType];
          if (api) metrics.stageDuration.observe({ api, stage }, durationMs / 1000);
        },
        callDuringReplay: false,
      },
      jobEnded: {
        fn(info, status) {
          const api = apiOfWorkflowType[info.workflowType];
          if (api) metrics.jobsEnded.inc({ api, status });
        },
        callDuringReplay: false,
      },
    },
  };
}
