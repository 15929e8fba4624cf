import { Worker, type NativeConnection } from '@temporalio/worker';
import { createDetectionActivities } from './activities.js';
import { createVideoDetectionActivities } from './video-activities.js';
import type { Config } from '../config/index.js';
import type { MediaStore } from '../media/store.js';
import type { DetectionEngine } from './engine.js';

/** The `vigil-detect` worker: detection only, as many at once as the device runs sessions. */
export function createDetectionWorker(deps: { config: Config; connection: NativeConnection; engine: DetectionEngine; media: MediaStore }): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.config.temporal.namespace,
    taskQueue: deps.config.temporal.detectTaskQueue,
    activities: {
      ...createDetectionActivities({ engine: deps.engine, media: deps.media }),
      ...createVideoDetectionActivities({ engine: deps.engine, media: deps.media }),
    },
    maxConcurrentActivityTaskExecutions: deps.config.detector.concurrency,
    // Cancellation reaches an activity only with a heartbeat's answer; the default throttle (80 % of the
    // heartbeat timeout) would let a whole event's detection finish before a deadline is seen.
    maxHeartbeatThrottleInterval: '500ms',
  });
}
