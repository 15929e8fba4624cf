import type { InjectedSinks } from '@temporalio/worker';
import type { JobKind } from '../domain/job-kinds.js';
import type { JobMetricsSinks } from '../workflows/job-metrics.js';
import type { AnalysisWorkerMetrics, JobApi } from './metrics.js';

/** The API and job kind of each job workflow type; other workflows (redeliveries, retention) report nothing. */
const jobOfWorkflowType: Record<string, { api: JobApi; kind: JobKind }> = {
  alarmVerification: { api: 'alarms', kind: 'alarm' },
  imageBatchAnalysis: { api: 'images', kind: 'image_batch' },
  clipClassification: { api: 'classify', kind: 'classification' },
  vmsIncident: { api: 'vms', kind: 'vms_incident' },
  videoAnalysis: { api: 'videos', kind: 'video' },
};

/** The worker's side of `JobMetricsSinks`: stage durations and job ends into the analysis worker's registry. */
export function jobMetricsSinks(metrics: Pick<AnalysisWorkerMetrics, 'stageDuration' | 'jobsEnded'>): InjectedSinks<JobMetricsSinks> {
  return {
    jobMetrics: {
      stageCompleted: {
        fn(info, stage, durationMs) {
          const job = jobOfWorkflowType[info.workflowType];
          if (job) metrics.stageDuration.observe({ ...job, stage }, durationMs / 1000);
        },
        callDuringReplay: false,
      },
      jobEnded: {
        fn(info, status) {
          const job = jobOfWorkflowType[info.workflowType];
          if (job) metrics.jobsEnded.inc({ ...job, status });
        },
        callDuringReplay: false,
      },
    },
  };
}
