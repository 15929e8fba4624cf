import { patched, proxyActivities } from '@temporalio/workflow';
import type { ImageAnalysisActivities } from '../gpu-worker/activities.js';
import type { FacesTextActivities, ImageFacesTextInput } from '../gpu-worker/faces-text-activities.js';
import type { AnalyseImagesResult, ImageBatchOutcome, ImageBatchWorkflowInput } from './contracts/image-batch-analysis.js';
import type { WorkerJobSettings } from './contracts/job.js';
import { runJob, type PipelineContext } from './job-lifecycle.js';
import { imageBatchSteps } from './short-steps.js';

/**
 * Images per `analyseImages` activity: each answer stays a few kilobytes in history, progress moves in small
 * steps, and a worker lost mid-batch costs at most one chunk again.
 */
export const IMAGE_CHUNK = 8;

function imageAnalysisActivities(taskQueue: string) {
  return proxyActivities<ImageAnalysisActivities & FacesTextActivities>({
    taskQueue,
    startToCloseTimeout: '5m',
    // Heartbeats per image: a worker that dies mid-chunk is noticed within this, and the chunk goes elsewhere.
    heartbeatTimeout: '30s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '15s', maximumAttempts: 8 },
  });
}

/**
 * One image batch: the job lifecycle around tagging its images chunk by chunk on the detection worker, and
 * reading their faces and text in the same task.
 */
export async function imageBatchAnalysis(input: ImageBatchWorkflowInput, settings?: WorkerJobSettings): Promise<ImageBatchOutcome> {
  return runJob(input, settings, { kind: 'image_batch', run: (context) => runImageBatch(input, context) });
}

async function runImageBatch(input: ImageBatchWorkflowInput, { settings, enterStage, reportFraction }: PipelineContext): Promise<ImageBatchOutcome> {
  const scope = { accountId: input.accountId, jobId: input.jobId };
  const analysis = imageAnalysisActivities(settings.detectTaskQueue);

  enterStage('start');
  await imageBatchSteps.startImageBatch(scope);

  enterStage('analyse');
  reportFraction(0);
  for (let fromIndex = 0; fromIndex < input.itemCount; fromIndex += IMAGE_CHUNK) {
    const toIndex = Math.min(input.itemCount, fromIndex + IMAGE_CHUNK);
    // Items that failed at submission, or were stored by an earlier run of this step, are not queued any more.
    const images = await imageBatchSteps.queuedImages({ ...scope, fromIndex, toIndex });
    if (images.length > 0) {
      // Faces and text go to PostgreSQL, where storing the chunk's outcomes finds them.
      const analysed = patched('image-faces-text-once')
        ? // One task per chunk: each image is fetched once for its tags, faces and text.
          await analysis.analyseImages({ ...scope, images, facesText: true })
        : await analyseChunkBefore(analysis, { ...scope, images });
      await imageBatchSteps.storeImageOutcomes({ ...scope, analysed });
    }
    reportFraction(toIndex / input.itemCount);
  }

  enterStage('persist');
  return imageBatchSteps.finishImageBatch(scope);
}

/**
 * A chunk of a batch started before `analyseImages` read faces and text itself: they were a second task beside
 * it, and batches started before faces and text were read at all go on without them.
 */
async function analyseChunkBefore(analysis: ReturnType<typeof imageAnalysisActivities>, input: ImageFacesTextInput): Promise<AnalyseImagesResult> {
  const [analysed] = await Promise.all([
    analysis.analyseImages(input),
    patched('image-faces-text') ? analysis.analyseImageFacesText(input) : undefined,
  ]);
  return analysed;
}
