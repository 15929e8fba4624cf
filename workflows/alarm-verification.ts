import { patched, upsertSearchAttributes } from '@temporalio/workflow';
import type { DecisionResult, SiteTime } from '../activities/alarm.js';
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
  // Asked before the first command: a version marker recorded after a local activity of the same workflow task made
  // a query's replay of that task fail as nondeterministic (seen in the workflows tier).
  const pipeline = patched(MERGED_ALARM_STEPS) ? runAlarmPipeline : runAlarmPipelineStepByStep;
  return runJob(input, settings, {
    kind: 'alarm',
    run: (context) => pipeline(input, context),
    onFinished: (outcome) =>
      upsertSearchAttributes([
        { key: VigilDecision, value: outcome.decision },
        { key: VigilCrimeRate, value: outcome.crimeRate },
      ]),
  });
}

/** Workflows started before the alarm's steps were merged replay them one local activity at a time. */
const MERGED_ALARM_STEPS = 'merged-alarm-steps';

/**
 * Two workflow tasks, one local activity each besides the worker's settings: `beginAlarm` (tenancy and site time)
 * before detection, `settleAlarm` (analysis, local decision, storage) after it; only an alarm a vision model is to
 * decide comes back for the model's route and then its storage.
 */
async function runAlarmPipeline(input: AlarmWorkflowInput, { settings, enterStage }: PipelineContext): Promise<AlarmOutcome> {
  const detect = detectionActivities(settings.detectTaskQueue);
  const scope = { accountId: input.accountId, jobId: input.jobId };

  enterStage('tenancy');
  const { site, siteTime } = await alarmSteps.beginAlarm({ ...scope, ...tenancyOf(input), timestamp: input.timestamp });

  enterStage('detect');
  const detections = await detect.detectFrames(detectionOf(input));

  enterStage('analyse');
  const decisionInput = decisionContext(input, site.category, siteTime);
  const settled = await alarmSteps.settleAlarm({ ...decisionInput, cameraId: input.cameraId, detections, modelConfigured: settings.llm !== undefined });
  if ('decision' in settled) return outcomeOf(input, settled.decision);

  enterStage('decide');
  const decision = await decideAlarm({ ...decisionInput, analysis: settled.analysis, frameCount: input.frames.length }, settings.llm);

  enterStage('persist');
  await alarmSteps.persistResult({ ...scope, analysis: settled.analysis, decision });
  return outcomeOf(input, decision);
}

/** The pipeline as workflows started before `MERGED_ALARM_STEPS` recorded it: one local activity per stage. */
async function runAlarmPipelineStepByStep(input: AlarmWorkflowInput, { settings, enterStage }: PipelineContext): Promise<AlarmOutcome> {
  const detect = detectionActivities(settings.detectTaskQueue);
  const scope = { accountId: input.accountId, jobId: input.jobId };

  enterStage('tenancy');
  const site = await alarmSteps.upsertTenancy({ ...scope, ...tenancyOf(input) });

  enterStage('site_time');
  const siteTime = await alarmSteps.resolveSiteTime({ ...scope, site, timestamp: input.timestamp });

  enterStage('detect');
  const detections = await detect.detectFrames(detectionOf(input));

  enterStage('analyse');
  const analysis = await alarmSteps.analyseFrames({ ...scope, cameraId: input.cameraId, siteCategory: site.category, frames: input.frames, detections, sensitivity: input.sensitivity });

  enterStage('decide');
  const decision = await decideAlarm({ ...decisionContext(input, site.category, siteTime), analysis, frameCount: input.frames.length }, settings.llm);

  enterStage('persist');
  await alarmSteps.persistResult({ ...scope, analysis, decision });
  return outcomeOf(input, decision);
}

/** What the analysis and the decision need of the alarm besides its detections: its scope, site and time. */
const decisionContext = (input: AlarmWorkflowInput, siteCategory: string, siteTime: SiteTime) => ({
  accountId: input.accountId,
  jobId: input.jobId,
  sensitivity: input.sensitivity,
  siteCategory,
  vendorTime: siteTime.vendorTime,
  frames: input.frames,
  extraIndicators: siteTime.indicators,
});

/** Every frame detected, measured for the analysis; every changed one looked at where a person seen once counts. */
const detectionOf = ({ accountId, jobId, frames, sensitivity }: AlarmWorkflowInput) => ({
  accountId,
  jobId,
  frames,
  everyChangedFrame: !filtersRunAt(sensitivity),
  measure: true,
});

const tenancyOf = ({ cameraId, siteCategory, siteAddress, names }: AlarmWorkflowInput) => ({ cameraId, siteCategory, siteAddress, names });

const outcomeOf = ({ jobId }: AlarmWorkflowInput, { crimeRate, decision }: DecisionResult): AlarmOutcome => ({ jobId, crimeRate, decision });
