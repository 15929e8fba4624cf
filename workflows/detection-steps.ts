import { proxyActivities } from '@temporalio/workflow';
import type { DetectionActivities } from '../gpu-worker/activities.js';

/** The detection worker's activities on its task queue, as every pipeline that detects on frames calls them. */
export function detectionActivities(taskQueue: string) {
  return proxyActivities<DetectionActivities>({
    taskQueue,
    startToCloseTimeout: '2m',
    // Per-frame heartbeats: a worker that dies mid-event is noticed within this, and the frames go elsewhere.
    heartbeatTimeout: '10s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '15s', maximumAttempts: 8 },
  });
}
