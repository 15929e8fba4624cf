import { ApplicationFailure, Context } from '@temporalio/activity';
import type { LlmConfig } from '../config/index.js';
import { defaultBusinessHours, type BusinessHours } from '../domain/decision.js';
import { describeForModel, llmSystemPrompt, llmVerdictAnswer, repairPrompt, type LlmVerdict } from '../domain/llm-verdict.js';
import type { Sensitivity, SiteCategory } from '../domain/types.js';
import { LlmCallError, type LlmFailureType } from '../llm/failures.js';
import { createVisionClient, type VisionClient, type VisionContent } from '../llm/vision-client.js';
import { buildContactSheet } from '../media/contact-sheet.js';
import type { MediaStore } from '../media/store.js';
import type { Logger } from '../logging/logger.js';
import type { AnalysisWorkerMetrics, LlmCallOutcome } from '../observability/metrics.js';
import type { FrameRef } from '../workflows/contracts/alarm-verification.js';
import type { FrameAnalysis } from './alarm.js';
import { jobLogger } from './job-logger.js';

export interface LlmActivityDeps {
  llm: LlmConfig;
  media: MediaStore;
  logger: Logger;
  businessHours?: Record<SiteCategory, BusinessHours | null>;
  /** Counts every ask by outcome; none counted when not given. */
  metrics?: Pick<AnalysisWorkerMetrics, 'llmCalls'>;
}

export type LlmRole = 'primary' | 'secondary';

export interface AskModelInput {
  accountId: string;
  jobId: string;
  sensitivity: Sensitivity;
  siteCategory: string;
  vendorTime: string | null;
  frames: FrameRef[];
  analysis: Pick<FrameAnalysis, 'kept' | 'hasMotion' | 'indicators'>;
  frameCount: number;
  /** Indicators from earlier stages, e.g. `timezone_unresolved`. */
  extraIndicators: string[];
}

export interface ModelVerdict extends LlmVerdict {
  /** The model that answered, as its server names it. */
  engine: string;
  decidedAt: string;
}

const outcomeOfFailure: Record<LlmFailureType, LlmCallOutcome> = {
  LLM_CIRCUIT_OPEN: 'circuit_open',
  LLM_TIMEOUT: 'timeout',
  LLM_RATE_LIMITED: 'rate_limited',
  LLM_UNAVAILABLE: 'unavailable',
  LLM_UNAUTHORIZED: 'unauthorized',
  LLM_BAD_REQUEST: 'bad_request',
  LLM_BAD_RESPONSE: 'bad_response',
  LLM_INVALID_ANSWER: 'invalid_answer',
};

/** The metric outcome of an ask that failed; cancellation and surprises are `error`. */
function callOutcomeOf(error: unknown): LlmCallOutcome {
  return error instanceof LlmCallError ? outcomeOfFailure[error.type] : 'error';
}

/** Contact sheets kept per worker for the jobs whose models are being asked now. */
const RECENT_SHEETS = 16;

/**
 * The vision LLM activities (methods C1, C2, C21): one contact sheet of the event and its context to
 * one model, one JSON verdict back. Each role has its own client (llm/vision-client.ts), and so its
 * own circuit breaker per worker process.
 */
export function createLlmActivities({ llm, media, logger, businessHours = defaultBusinessHours, metrics }: LlmActivityDeps) {
  const clientFor = (role: LlmRole) => {
    const endpoint = llm[role];
    return endpoint
      ? createVisionClient({
          endpoint,
          timeoutSeconds: llm.timeoutSeconds,
          breaker: { failures: llm.breakerFailures, cooldownSeconds: llm.breakerCooldownSeconds },
          logger: logger.child({ llmRole: role }),
        })
      : null;
  };
  const clients: Record<LlmRole, VisionClient | null> = { primary: clientFor('primary'), secondary: clientFor('secondary') };

  // A job's sheet is the same for each of its calls (retries, the secondary, the confirmation): built once.
  const recentSheets = new Map<string, string>();
  async function contactSheetDataUrl(input: AskModelInput): Promise<string> {
    const cached = recentSheets.get(input.jobId);
    if (cached) return cached;
    const boxesOf = new Map(input.analysis.kept.map((frame) => [frame.frameIndex, frame.detections]));
    const frames = await Promise.all(
      [...input.frames]
        .sort((a, b) => a.index - b.index)
        .map(async (frame) => ({ bytes: await media.get(frame.key), boxes: boxesOf.get(frame.index) ?? [] })),
    );
    const dataUrl = `data:image/jpeg;base64,${(await buildContactSheet(frames)).jpeg.toString('base64')}`;
    recentSheets.set(input.jobId, dataUrl);
    if (recentSheets.size > RECENT_SHEETS) recentSheets.delete(recentSheets.keys().next().value!);
    return dataUrl;
  }

  async function userContent(input: AskModelInput): Promise<VisionContent> {
    const text = describeForModel({
      siteCategory: input.siteCategory as SiteCategory,
      vendorTime: input.vendorTime,
      businessHours,
      sensitivity: input.sensitivity,
      frameCount: input.frameCount,
      frames: input.analysis.kept,
      hasMotion: input.analysis.hasMotion,
      notes: [...input.analysis.indicators, ...input.extraIndicators],
    });
    return { text, images: [await contactSheetDataUrl(input)] };
  }

  async function askModel(role: LlmRole, input: AskModelInput): Promise<ModelVerdict> {
    const client = clients[role];
    if (!client) throw ApplicationFailure.nonRetryable(`No ${role} LLM is configured.`, 'LLM_NOT_CONFIGURED');
    const context = Context.current();
    const log = jobLogger(logger, input).child({ llmRole: role, model: client.model, attempt: context.info.attempt });
    // Heartbeats carry cancellation to a call that is waiting on a slow model.
    const heartbeat = setInterval(() => context.heartbeat(), 1000);
    try {
      const { answer, model } = await client.ask({
        system: llmSystemPrompt,
        // Lazy, so that an open breaker fails the call before the sheet is built.
        user: () => userContent(input),
        answer: llmVerdictAnswer,
        repairPrompt,
        signal: context.cancellationSignal,
        logger: log,
      });
      metrics?.llmCalls.inc({ role, outcome: 'answered' });
      log.info({ decision: answer.decision, confidence: answer.confidence }, 'LLM answered');
      return { ...answer, engine: model, decidedAt: new Date().toISOString() };
    } catch (error) {
      metrics?.llmCalls.inc({ role, outcome: callOutcomeOf(error) });
      if (!(error instanceof LlmCallError)) throw error;
      log.warn({ type: error.type, retryable: error.retryable, err: error.message }, 'LLM call failed');
      throw ApplicationFailure.create({ type: error.type, message: error.message, nonRetryable: !error.retryable });
    } finally {
      clearInterval(heartbeat);
    }
  }

  return {
    /** C1, and the confirmation of C21. */
    askPrimaryModel: (input: AskModelInput) => askModel('primary', input),
    /** C2, after the primary failed its retries. */
    askSecondaryModel: (input: AskModelInput) => askModel('secondary', input),
  };
}

export type LlmActivities = ReturnType<typeof createLlmActivities>;
