import { proxySinks, type Sinks } from '@temporalio/workflow';

/**
 * Stage timings and job ends, reported from the workflow to its worker's metrics through a Temporal
 * sink: the worker calls them outside the sandbox and not while replaying, so a replayed history is
 * not counted twice. The worker names the job kind from the workflow type.
 */
export interface JobMetricsSinks extends Sinks {
  jobMetrics: {
    stageCompleted(stage: string, durationMs: number): void;
    jobEnded(status: 'finished' | 'failed' | 'cancelled'): void;
  };
}

export const { jobMetrics } = proxySinks<JobMetricsSinks>();
