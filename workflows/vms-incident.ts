import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  setHandler,
  allHandlersFinished,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { filtersRunAt } from '../domain/types.js';
import { vmsIncidentDecisionSettings, type VmsVerdict } from '../domain/vms-events.js';
import { VigilDecision, VigilStage } from '../temporal/search-attributes.js';
import type { WorkerJobSettings } from './contracts/job.js';
import {
  vmsIncidentCloseSignal,
  vmsIncidentStateQuery,
  vmsIncidentUpdatedSignal,
  type VmsIncidentCarry,
  type VmsIncidentInput,
  type VmsIncidentOutcome,
} from './contracts/vms-incident.js';
import { decideAlarm } from './decision-routing.js';
import { detectionActivities } from './detection-steps.js';
import { jobMetrics } from './job-metrics.js';
import { alarmSteps, lifecycleSteps, vmsSteps } from './short-steps.js';
import { deliverJobWebhook, sendDelivery } from './webhook-delivery.js';

/** Signals one run takes before it continues as new, keeping its history short. */
const signalsPerRun = 1000;

/**
 * One VMS incident, from the event that opened it to the end-of-event message that closes it. It is signalled
 * when it opens, for the first snapshot after each verification read its window, and to close. The incident's
 * latest snapshots are verified as an alarm's frames are (detection on the detect queue, the nuisance filters,
 * the decision), at once for the first and then at most every `reverifySeconds`; each verdict goes out as a
 * `vms_incident.verified` webhook, the first real one is forwarded to the account's VMS/PSIM target (if any) in
 * the VMS's schema, and the closed incident goes out as `vms_incident.finished` in the job envelope.
 */
export async function vmsIncident(input: VmsIncidentInput, carried?: VmsIncidentCarry): Promise<VmsIncidentOutcome> {
  const scope = { accountId: input.accountId, incidentId: input.jobId };
  let pending = carried?.pending ?? false;
  let closing = carried?.closing ?? false;
  let lastVerifiedAt = carried?.lastVerifiedAt ?? null;
  let verifications = carried?.verifications ?? 0;
  let forwarded = carried?.forwarded ?? false;
  let lastVerdict: VmsVerdict | null = null;
  let signals = 0;
  setHandler(vmsIncidentUpdatedSignal, () => {
    pending = true;
    signals++;
  });
  setHandler(vmsIncidentCloseSignal, () => {
    closing = true;
    signals++;
  });
  setHandler(vmsIncidentStateQuery, () => ({ incidentId: input.jobId, closing, pending, verifications, lastVerdict }));

  const settings = carried?.settings ?? (await lifecycleSteps.workerSettings());
  if (!carried) {
    const state = await vmsSteps.beginVmsIncident(scope);
    // A signal after the incident closed, or for an event whose transaction rolled back: nothing to do.
    if (state !== 'open') return { incidentId: input.jobId, verdict: 'missing', verifications: 0 };
    upsertSearchAttributes([{ key: VigilStage, value: 'open' }]);
  }

  for (;;) {
    await condition(() => pending || closing);
    // A close verifies whatever came, announced or not: the signal of the last snapshots may still be owed
    // (commands/vms-signals.ts sends it again later), and a window with nothing new costs one read.
    if (pending || patched('vms-close-verifies-fresh')) {
      const due = lastVerifiedAt === null ? 0 : lastVerifiedAt + input.reverifySeconds * 1000 - Date.now();
      // Waits out the cadence; a close does not wait, it verifies what came and ends.
      if (due > 0 && !closing) await condition(() => closing, due);
      pending = false;
      const verdict = await verify(scope, settings);
      if (verdict) {
        lastVerifiedAt = Date.now();
        verifications++;
        lastVerdict = verdict;
        await deliverVerdict(scope, verifications, settings);
        if (verdict === 'real' && !forwarded) {
          forwarded = true;
          await forward(scope, settings);
        }
      }
    }
    // Snapshots announced while that verification ran are verified before the close ends the incident.
    if (closing && !(pending && patched('vms-close-verifies-fresh'))) break;
    if (signals >= signalsPerRun || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof vmsIncident>(input, { settings, pending, closing, lastVerifiedAt, verifications, forwarded });
    }
  }

  if (await vmsSteps.closeVmsIncident(scope)) jobMetrics.jobEnded('finished');
  upsertSearchAttributes([{ key: VigilStage, value: 'finished' }, ...(lastVerdict ? [{ key: VigilDecision, value: lastVerdict }] : [])]);
  try {
    await deliverJobWebhook({ accountId: input.accountId, jobId: input.jobId, deliveryId: uuid4(), trigger: 'completion' }, settings.webhookDelivery);
  } catch (error) {
    if (isCancellation(error)) throw error;
    log.warn('webhook delivery did not complete', { jobId: input.jobId, error: error instanceof Error ? error.message : String(error) });
  }
  return { incidentId: input.jobId, verdict: lastVerdict ?? 'unverified', verifications };
}

/**
 * Verifies the incident's latest snapshots when any arrived since the last verification; returns the verdict, or
 * null when there was nothing new or the verification failed (recorded on the incident, which stays open: the next
 * event retries).
 */
async function verify(scope: { accountId: string; incidentId: string }, settings: WorkerJobSettings): Promise<VmsVerdict | null> {
  const window = await vmsSteps.vmsIncidentWindow(scope);
  if (!window || !window.fresh || window.frames.length === 0) return null;
  const job = { accountId: scope.accountId, jobId: scope.incidentId };
  const rules = vmsIncidentDecisionSettings;
  try {
    const detections = await detectionActivities(settings.detectTaskQueue).detectFrames({
      ...job,
      frames: window.frames,
      everyChangedFrame: !filtersRunAt(rules.sensitivity),
      measure: true,
    });
    const analysis = await alarmSteps.analyseFrames({ ...job, cameraId: window.cameraId, siteCategory: rules.siteCategory, frames: window.frames, detections, sensitivity: rules.sensitivity });
    const decision = await decideAlarm(
      {
        ...job,
        sensitivity: rules.sensitivity,
        siteCategory: rules.siteCategory,
        vendorTime: null,
        frames: window.frames,
        analysis,
        frameCount: window.frames.length,
        extraIndicators: [],
      },
      settings.llm,
    );
    return await vmsSteps.recordVmsVerification({ ...scope, window, analysis: { kept: analysis.kept, removed: analysis.removed }, decision });
  } catch (error) {
    if (isCancellation(error) || !(error instanceof ActivityFailure)) throw error;
    const cause = error.cause;
    const failure = cause instanceof ApplicationFailure && cause.type ? `${cause.type}: ${cause.message}` : (cause?.message ?? error.message);
    log.warn('vms incident verification failed', { jobId: scope.incidentId, failure });
    // Shown on the incident (its document's verification_error) until a verification succeeds.
    if (patched('vms-verification-failure')) await vmsSteps.recordVmsVerificationFailure({ ...scope, message: failure });
    return null;
  }
}

async function deliverVerdict(scope: { accountId: string; incidentId: string }, sequence: number, settings: WorkerJobSettings): Promise<void> {
  const deliveryId = uuid4();
  if (!(await vmsSteps.prepareVmsIncidentDelivery({ ...scope, deliveryId, sequence }))) return;
  await sendDelivery({ accountId: scope.accountId, deliveryId }, settings.webhookDelivery);
}

/** Forwards the confirmed incident once, with the webhook delivery's retries and recorded attempts. */
async function forward(scope: { accountId: string; incidentId: string }, settings: WorkerJobSettings): Promise<void> {
  const deliveryId = uuid4();
  if (!(await vmsSteps.prepareVmsForward({ ...scope, deliveryId }))) return;
  await sendDelivery({ accountId: scope.accountId, deliveryId }, settings.webhookDelivery);
}
