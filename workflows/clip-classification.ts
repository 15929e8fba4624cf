import { condition, proxyActivities, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { ClassificationActivities } from '../activities/classification.js';
import type { ClassifierActivities, DetectionActivities } from '../gpu-worker/activities.js';
import type { TextActivities } from '../gpu-worker/text-activities.js';
import { classifierEvidence, textEvidence } from '../domain/classification/evidence.js';
import {
  classificationEndedUpdate,
  type ClassificationOutcome,
  type ClassificationWorkflowInput,
} from './contracts/clip-classification.js';
import type { WorkerJobSettings } from './contracts/job.js';
import { runJob, type PipelineContext } from './job-lifecycle.js';
import { databaseRetry } from './short-steps.js';

/**
 * Local activities in the analysis worker: no task-queue round trip per step, which the seconds a monitoring
 * centre waits for a sync answer cannot spare. Sampling a clip reads the whole file, so it gets longer.
 */
const classificationSteps = proxyLocalActivities<ClassificationActivities>({ startToCloseTimeout: '2m', retry: databaseRetry });

function detectionActivities(taskQueue: string) {
  return proxyActivities<DetectionActivities & ClassifierActivities & TextActivities>({
    taskQueue,
    startToCloseTimeout: '2m',
    heartbeatTimeout: '10s',
    retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 8 },
  });
}

/** Frames the classifier sees, spread over the clip: its groups need no more to be found, and each costs time. */
const classifierFrames = 6;

function spreadOver<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.round((i * (items.length - 1)) / (count - 1))]!);
}

/**
 * One clip classification: the job lifecycle around sampling the clip (or taking the images), one detection
 * activity for every frame, then the scores, the risk and the stored result in one local step.
 */
export async function clipClassification(input: ClassificationWorkflowInput, settings?: WorkerJobSettings): Promise<ClassificationOutcome> {
  let ended = false;
  setHandler(classificationEndedUpdate, () => condition(() => ended));
  return runJob(input, settings, {
    kind: 'classification',
    run: async (context) => {
      try {
        return await runClassificationPipeline(input, context);
      } finally {
        ended = true;
      }
    },
  });
}

async function runClassificationPipeline(input: ClassificationWorkflowInput, { settings, enterStage }: PipelineContext): Promise<ClassificationOutcome> {
  const detect = detectionActivities(settings.detectTaskQueue);
  const scope = { accountId: input.accountId, jobId: input.jobId };

  enterStage('prepare');
  const prepared = await classificationSteps.prepareClassification({ ...scope, source: input.source });

  enterStage('detect');
  // Queued together: the detection worker runs them as its sessions allow. The classifier sees a few frames and
  // the crop of the busiest region; the text reader the middle frame.
  const classified = [...spreadOver(prepared.frames, classifierFrames), ...(prepared.regionKey ? [{ index: -1, key: prepared.regionKey }] : [])];
  const middle = prepared.frames[Math.floor(prepared.frames.length / 2)]!;
  const [detections, classes, text] = await Promise.all([
    detect.detectFrames({ ...scope, frames: prepared.frames }),
    detect.classifyFrames({ ...scope, frames: classified }),
    detect.readText({ mediaKeys: [middle.key] }),
  ]);

  enterStage('score');
  const { risk } = await classificationSteps.scoreClassification({
    ...scope,
    cameraId: input.cameraId,
    prepared,
    detections,
    evidence: { classifier: classifierEvidence(classes), text: textEvidence(text.frames.flatMap((frame) => frame.lines)) },
  });
  return { jobId: input.jobId, risk };
}
