import { upsertSearchAttributes } from '@temporalio/workflow';
import { filtersRunAt } from '../domain/types.js';
import { VigilCrimeRate, VigilDecision } from '../temporal/search-attributes.js';
import type { AlarmOutcome, AlarmWorkflowInput } from './contracts/alarm-verification.js';
import type { WorkerJobSettings } from './contracts/job.js';
import { decideAlarm } from './decision-routing.js';
import { detectionActivities } from './detection-steps.js';
import { runJob, type PipelineContext } from './job-lifecycle.js';
import { alarmSteps } from './short-steps.js';

/**
 * One alarm submission: the job lifecycle around the alarm pipeline (tenancy, site time, detection,
 * analysis, decision, storage). `settings` pins the worker settings; absent, the analysis worker's apply.
 */
export async function alarmVerification(input: AlarmWorkflowInput, settings?: WorkerJobSettings): Promise<AlarmOutcome> {
  return runJob(input, settings, {
    kind: 'alarm',
    run: (context) => runAlarmPipeline(input, context),
    onFinished: (outcome) =>
      upsertSearchAttributes([
        { key: VigilDecision, value: outcome.decision },
        { key: VigilCrimeRate, value: outcome.crimeRate },
      ]),
  });
}

async function runAlarmPipeline(input: AlarmWorkflowInput, { settings, enterStage }: PipelineContext): Promise<AlarmOutcome> {
  const detect = detectionActivities(settings.detectTaskQueue);
  const scope = { accountId: input.accountId, jobId: input.jobId };

  enterStage('tenancy');
  const site = await alarmSteps.upsertTenancy({ ...scope, cameraId: input.cameraId, siteCategory: input.siteCategory, siteAddress: input.siteAddress, names: input.names });

  enterStage('site_time');
  const siteTime = await alarmSteps.resolveSiteTime({ ...scope, site, timestamp: input.timestamp });

  enterStage('detect');
  const detections = await detect.detectFrames({ ...scope, frames: input.frames, everyChangedFrame: !filtersRunAt(input.sensitivity), measure: true });

  enterStage('analyse');
  const analysis = await alarmSteps.analyseFrames({ ...scope, cameraId: input.cameraId, siteCategory: site.category, frames: input.frames, detections, sensitivity: input.sensitivity });

  enterStage('decide');
  const decision = await decideAlarm(
    {
      ...scope,
      sensitivity: input.sensitivity,
      siteCategory: site.category,
      vendorTime: siteTime.vendorTime,
      frames: input.frames,
      analysis,
      frameCount: input.frames.length,
      extraIndicators: siteTime.indicators,
    },
    settings.llm,
  );

  enterStage('persist');
  await alarmSteps.persistResult({ ...scope, analysis, decision });
  return { jobId: input.jobId, crimeRate: decision.crimeRate, decision: decision.decision };
}
