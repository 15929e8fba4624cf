import { condition, proxyActivities, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { ClassificationActivities } from '../activities/classification.js';
import type { DetectionActivities } from '../gpu-worker/activities.js';
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
  return proxyActivities<DetectionActivities>({
    taskQueue,
    startToCloseTimeout: '2m',
    heartbeatTimeout: '10s',
    retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 8 },
  });
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
  const detections = await detect.detectFrames({ ...scope, frames: prepared.frames });

  enterStage('classify');
  const { risk } = await classificationSteps.classifyFrames({
    ...scope,
    cameraId: input.cameraId,
    prepared,
    detections,
    evidence: { classifier: null, text: null },
  });
  return { jobId: input.jobId, risk };
}
