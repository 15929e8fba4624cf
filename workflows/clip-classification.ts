import { condition, patched, proxyActivities, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { ClassificationActivities } from '../activities/classification.js';
import type { ClassifierActivities, DetectionActivities } from '../gpu-worker/activities.js';
import type { ClassificationFrameActivities } from '../gpu-worker/classification-activities.js';
import type { TextActivities } from '../gpu-worker/text-activities.js';
import { classifierEvidence, textEvidence } from '../domain/classification/evidence.js';
import { classifierFrames, middleOf, spreadOver } from '../domain/classification/sampling.js';
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
  return proxyActivities<DetectionActivities & ClassifierActivities & TextActivities & ClassificationFrameActivities>({
    taskQueue,
    startToCloseTimeout: '2m',
    heartbeatTimeout: '10s',
    retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 8 },
  });
}

/**
 * One clip classification: the job lifecycle around one detect-queue task that decodes the clip (or the images) and
 * analyses every frame, then the scores, the risk and the stored result in one local step.
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

  if (patched('classification-frames-in-one-task')) {
    // The job marked running beside the analysis: each is short next to the other, and a sync caller waits on both.
    enterStage('detect');
    const [, analysed] = await Promise.all([
      classificationSteps.beginClassification(scope),
      detect.analyseClassificationFrames({ ...scope, source: input.source }),
    ]);
    enterStage('score');
    const { risk } = await classificationSteps.scoreAnalysedClassification({ ...scope, cameraId: input.cameraId, analysed });
    return { jobId: input.jobId, risk };
  }

  // Workflows started before: the clip sampled into stored frames, then three detect-queue tasks.
  enterStage('prepare');
  const prepared = await classificationSteps.prepareClassification({ ...scope, source: input.source });

  enterStage('detect');
  // Queued together: the detection worker runs them as its sessions allow. The classifier sees a few frames and
  // the crop of the busiest region; the text reader the middle frame.
  const classified = [...spreadOver(prepared.frames, classifierFrames), ...(prepared.regionKey ? [{ index: -1, key: prepared.regionKey }] : [])];
  const middle = middleOf(prepared.frames);
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
