import { Worker, type NativeConnection } from '@temporalio/worker';
import { createClassifierActivities, createDetectionActivities, createImageAnalysisActivities } from './activities.js';
import type { Classifier } from './classifier.js';
import type { Detector } from './detector.js';
import { createVideoDetectionActivities } from './video-activities.js';
import { createClassificationFrameActivities } from './classification-activities.js';
import type { Config } from '../config/index.js';
import type { MediaStore } from '../media/store.js';
import type { DetectionEngine } from './engine.js';
import type { TextReader } from './ocr.js';
import type { Db } from '../db/database.js';
import { createFaceActivities } from './face-activities.js';
import type { FaceAnalyser } from './faces.js';
import { createTextActivities } from './text-activities.js';
import { createFacesTextActivities } from './faces-text-activities.js';

/** The `vigil-detect` worker: detection, classification, text and faces, as many at once as the device runs sessions. */
export function createDetectionWorker(deps: {
  config: Config;
  connection: NativeConnection;
  engine: DetectionEngine;
  /** Tags image batches' pictures (with `classifier`). */
  detector: Detector;
  classifier: Classifier;
  media: MediaStore;
  /** Without a reader (tests of detection alone), the worker offers no text activity. */
  reader?: TextReader;
  faces?: { analyser: FaceAnalyser; db: Db };
}): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.config.temporal.namespace,
    taskQueue: deps.config.temporal.detectTaskQueue,
    activities: {
      ...createDetectionActivities({ engine: deps.engine, media: deps.media }),
      ...createClassifierActivities({ classifier: deps.classifier, media: deps.media }),
      ...createImageAnalysisActivities({
        detector: deps.detector,
        classifier: deps.classifier,
        media: deps.media,
        facesText: deps.faces && deps.reader ? { ...deps.faces, reader: deps.reader } : undefined,
      }),
      ...(deps.reader ? createTextActivities({ reader: deps.reader, media: deps.media }) : {}),
      ...(deps.faces ? createFaceActivities({ ...deps.faces, media: deps.media }) : {}),
      ...(deps.faces && deps.reader ? createFacesTextActivities({ ...deps.faces, reader: deps.reader, media: deps.media }) : {}),
      ...createVideoDetectionActivities({ engine: deps.engine, media: deps.media }),
      ...createClassificationFrameActivities({
        engine: deps.engine,
        classifier: deps.classifier,
        reader: deps.reader,
        media: deps.media,
        sampling: deps.config.classification.sampling,
      }),
    },
    maxConcurrentActivityTaskExecutions: deps.config.detector.concurrency,
    // Cancellation reaches an activity only with a heartbeat's answer; the default throttle (80 % of the
    // heartbeat timeout) would let a whole event's detection finish before a deadline is seen.
    maxHeartbeatThrottleInterval: '500ms',
  });
}
