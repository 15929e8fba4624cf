import { patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { VideoActivities, VideoStepActivities } from '../activities/video.js';
import type { FacesTextActivities } from '../gpu-worker/faces-text-activities.js';
import type { VideoDetectionActivities } from '../gpu-worker/video-activities.js';
import type { WorkerJobSettings } from './contracts/job.js';
import { videoChunks, type VideoOutcome, type VideoWorkflowInput } from './contracts/video-analysis.js';
import { runJob, type PipelineContext } from './job-lifecycle.js';
import { databaseRetry } from './short-steps.js';

/** Share of the progress each stage completes: detection dominates. */
const progressAt = { probed: 0.02, motion: 0.25, detected: 0.95 } as const;
/** The same, for a run that reads faces and text after detection. */
const progressWithFacesText = { ...progressAt, detected: 0.8, facesText: 0.95 } as const;

/** Long steps on the analysis worker: heartbeating, so a lost worker is noticed within the heartbeat timeout. */
const videoSteps = proxyActivities<VideoActivities>({
  startToCloseTimeout: '2h',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
});

/** Short database steps. */
const videoLocalSteps = proxyLocalActivities<VideoStepActivities>({ startToCloseTimeout: '60s', retry: databaseRetry });

function detectionActivities(taskQueue: string) {
  return proxyActivities<VideoDetectionActivities & FacesTextActivities>({
    taskQueue,
    // One chunk of a few seconds of video; heartbeats per frame (faces and text: per frame read).
    startToCloseTimeout: '10m',
    heartbeatTimeout: '20s',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '15s', maximumAttempts: 8 },
  });
}

/**
 * One uploaded video: the job lifecycle around its pipeline (probe, shot cuts and activity, detection in
 * chunks, faces and text on chosen frames of each chunk, summary into sections, people and text). `settings` pins the worker settings; absent, the worker's apply.
 */
export async function videoAnalysis(input: VideoWorkflowInput, settings?: WorkerJobSettings): Promise<VideoOutcome> {
  return runJob(input, settings, { kind: 'video', run: (context) => runVideoPipeline(input, context) });
}

async function runVideoPipeline(input: VideoWorkflowInput, { settings, enterStage, reportFraction }: PipelineContext): Promise<VideoOutcome> {
  const step = { accountId: input.accountId, jobId: input.jobId, video: input.video };
  const detect = detectionActivities(settings.detectTaskQueue);

  enterStage('probe');
  await videoSteps.probeStoredVideo(step);
  reportFraction(progressAt.probed);

  enterStage('motion');
  const motion = await videoSteps.analyseVideoMotion({ ...step, sampleFps: input.sampleFps });
  reportFraction(progressAt.motion);

  // Runs that started before faces and text were read go on without them.
  const readsFacesText = patched('video-faces-text');
  const detectedAt = readsFacesText ? progressWithFacesText.detected : progressAt.detected;

  enterStage('detect');
  const chunks = videoChunks(input.video.durationS, input.chunkSeconds);
  // A job resumed after its chunks were stored (a reset, a new run) does not detect them again.
  const done = new Set(await videoLocalSteps.finishedVideoChunks({ accountId: input.accountId, jobId: input.jobId }));
  for (const chunk of chunks) {
    if (!done.has(chunk.chunkIndex)) {
      await detect.detectVideoChunk({ ...step, ...chunk, sampleFps: input.sampleFps });
      await videoLocalSteps.storeVideoChunk({ ...step, ...chunk, sampleFps: input.sampleFps });
    }
    reportFraction(progressAt.motion + ((detectedAt - progressAt.motion) * (chunk.chunkIndex + 1)) / chunks.length);
  }

  if (readsFacesText) {
    enterStage('faces_text');
    // What is read goes to PostgreSQL; a chunk read again (a retry, a reset) replaces its rows.
    for (const chunk of chunks) {
      await detect.analyseVideoFacesText({ ...step, ...chunk, sampleFps: input.sampleFps });
      reportFraction(detectedAt + ((progressWithFacesText.facesText - detectedAt) * (chunk.chunkIndex + 1)) / chunks.length);
    }
  }

  enterStage('summarise');
  const summary = await videoSteps.summariseVideo(step);
  return { jobId: input.jobId, scenes: motion.scenes, sections: summary.sections, tracks: summary.tracks };
}
