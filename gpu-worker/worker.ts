import { Worker, type NativeConnection } from '@temporalio/worker';
import { createClassifierActivities, createDetectionActivities } from './activities.js';
import type { Classifier } from './classifier.js';
import type { Config } from '../config/index.js';
import type { MediaStore } from '../media/store.js';
import type { DetectionEngine } from './engine.js';
import type { TextReader } from './ocr.js';
import { createTextActivities } from './text-activities.js';

/** The `vigil-detect` worker: detection, classification and text, as many at once as the device runs sessions. */
export function createDetectionWorker(deps: {
  config: Config;
  connection: NativeConnection;
  engine: DetectionEngine;
  classifier: Classifier;
  media: MediaStore;
  /** Without a reader (tests of detection alone), the worker offers no text activity. */
  reader?: TextReader;
}): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.config.temporal.namespace,
    taskQueue: deps.config.temporal.detectTaskQueue,
    activities: {
      ...createDetectionActivities({ engine: deps.engine, media: deps.media }),
      ...createClassifierActivities({ classifier: deps.classifier, media: deps.media }),
      ...(deps.reader ? createTextActivities({ reader: deps.reader, media: deps.media }) : {}),
    },
    maxConcurrentActivityTaskExecutions: deps.config.detector.concurrency,
    // Cancellation reaches an activity only with a heartbeat's answer; the default throttle (80 % of the
    // heartbeat timeout) would let a whole event's detection finish before a deadline is seen.
    maxHeartbeatThrottleInterval: '500ms',
  });
}
