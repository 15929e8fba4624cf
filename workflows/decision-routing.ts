/**
 * Who decides an alarm: the local rules (`Local`), or the primary vision LLM (`C1`), the
 * secondary once the primary has failed its retries (`C2`), the secondary's unsure answer settled by
 * the primary (`C21`), and the local rules when no model answered (`Cbr`). Orchestration only: every
 * call is an activity with its own retry policy.
 */
import { ActivityFailure, isCancellation, log, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { DecisionResult, FrameAnalysis } from '../activities/alarm.js';
import type { AskModelInput, LlmActivities, ModelVerdict } from '../activities/llm.js';
import { reachesModel } from '../domain/decision.js';
import { crimeRateOf, type DecisionMethod } from '../domain/types.js';
import type { LlmRouting } from './contracts/job.js';
import { alarmSteps } from './short-steps.js';

/** What a model is asked, with the full analysis the local rules also need. */
export interface DecideRequest extends Omit<AskModelInput, 'analysis'> {
  analysis: FrameAnalysis;
}

function modelActivities(llm: LlmRouting) {
  const options: ActivityOptions = {
    // An answer and its one repair, with room to build the contact sheet.
    startToCloseTimeout: (2 * llm.timeoutSeconds + 15) * 1000,
    heartbeatTimeout: '10s',
    retry: {
      initialInterval: llm.retryInitialSeconds * 1000,
      backoffCoefficient: 2,
      maximumInterval: llm.retryMaxSeconds * 1000,
      maximumAttempts: llm.maxAttempts,
    },
  };
  return {
    withRetries: proxyActivities<LlmActivities>(options),
    // The primary has just failed its retries: confirming gets one more try, not a second round.
    once: proxyActivities<LlmActivities>({ ...options, retry: { maximumAttempts: 1 } }),
  };
}

/** The model's verdict, or null when the activity failed for good (its retries spent or a non-retryable failure). */
async function answerOf(call: Promise<ModelVerdict>, jobId: string, role: string): Promise<ModelVerdict | null> {
  try {
    return await call;
  } catch (error) {
    if (isCancellation(error) || !(error instanceof ActivityFailure)) throw error;
    log.warn('LLM gave no verdict', { jobId, llmRole: role, failure: error.cause?.message });
    return null;
  }
}

/** No, Maybe or Yes for an analysed alarm, and who decided it. */
export async function decideAlarm(request: DecideRequest, llm: LlmRouting | undefined): Promise<DecisionResult> {
  const { frames: _frames, ...localRequest } = request;
  if (!llm || !reachesModel(request.sensitivity, request.analysis.kept)) return alarmSteps.decide(localRequest);

  const started = Date.now();
  const elapsedSeconds = () => Number(((Date.now() - started) / 1000).toFixed(3));
  const fromModel = (verdict: ModelVerdict, method: DecisionMethod): DecisionResult => ({
    decision: verdict.decision,
    crimeRate: crimeRateOf[verdict.decision],
    method,
    engine: verdict.engine,
    analysisCalled: true,
    analysisSeconds: elapsedSeconds(),
    decidedAt: verdict.decidedAt,
    description: verdict.description,
    indicators: [...new Set([...request.analysis.indicators, ...request.extraIndicators, ...verdict.indicators])],
  });
  const { withRetries, once } = modelActivities(llm);

  const primary = await answerOf(withRetries.askPrimaryModel(request), request.jobId, 'primary');
  if (primary) return fromModel(primary, 'C1');

  if (llm.secondary) {
    const secondary = await answerOf(withRetries.askSecondaryModel(request), request.jobId, 'secondary');
    if (secondary && secondary.confidence >= llm.confirmBelowConfidence) return fromModel(secondary, 'C2');
    if (secondary) {
      // The primary is the stronger model: when it answers now, its verdict stands.
      const confirmation = await answerOf(once.askPrimaryModel(request), request.jobId, 'primary');
      return confirmation ? fromModel(confirmation, 'C21') : fromModel(secondary, 'C2');
    }
  }

  const local = await alarmSteps.decide(localRequest);
  return { ...local, method: 'Cbr', analysisSeconds: elapsedSeconds() };
}
