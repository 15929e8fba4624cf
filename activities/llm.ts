import { ApplicationFailure, Context } from '@temporalio/activity';
import { BrokenCircuitError, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import { z } from 'zod';
import type { LlmConfig, LlmEndpoint } from '../config/index.js';
import { defaultBusinessHours, type BusinessHours } from '../domain/decision.js';
import {
  describeForModel,
  llmResponseFormat,
  llmSystemPrompt,
  llmVerdictSchema,
  repairPrompt,
  type LlmVerdict,
} from '../domain/llm-verdict.js';
import type { Sensitivity, SiteCategory } from '../domain/types.js';
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

/**
 * Stable `ApplicationFailure` types of the model activities. Retryable: LLM_TIMEOUT, LLM_RATE_LIMITED,
 * LLM_UNAVAILABLE. The rest are not: retrying would get the same answer, or (LLM_CIRCUIT_OPEN) the
 * model is known to be down.
 */
export type LlmFailureType =
  | 'LLM_NOT_CONFIGURED'
  | 'LLM_CIRCUIT_OPEN'
  | 'LLM_TIMEOUT'
  | 'LLM_RATE_LIMITED'
  | 'LLM_UNAVAILABLE'
  | 'LLM_UNAUTHORIZED'
  | 'LLM_BAD_REQUEST'
  | 'LLM_BAD_RESPONSE'
  | 'LLM_INVALID_ANSWER';

/** A failed call to a model server; `countsAgainstEndpoint` feeds the circuit breaker. */
class LlmCallError extends Error {
  constructor(
    readonly type: LlmFailureType,
    message: string,
    readonly retryable: boolean,
    readonly countsAgainstEndpoint: boolean,
  ) {
    super(message);
    this.name = 'LlmCallError';
  }
}

const outcomeOfFailure: Record<LlmFailureType, LlmCallOutcome> = {
  LLM_NOT_CONFIGURED: 'error',
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
  if (error instanceof BrokenCircuitError) return 'circuit_open';
  return error instanceof LlmCallError ? outcomeOfFailure[error.type] : 'error';
}

const chatCompletionSchema = z.object({
  model: z.string().optional(),
  choices: z
    .array(z.object({ message: z.object({ content: z.string().nullish() }), finish_reason: z.string().nullish() }))
    .min(1),
});
type ChatCompletion = z.infer<typeof chatCompletionSchema>;

type ChatMessage =
  | { role: 'system' | 'assistant'; content: string }
  | { role: 'user'; content: string | ({ type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } })[] };

/** Room for the JSON answer; a model that runs past it is cut off and gets its repair attempt. */
const maxAnswerTokens = 600;
const errorBodyExcerpt = 300;

function withoutSecret(text: string, endpoint: LlmEndpoint): string {
  return endpoint.apiKey ? text.replaceAll(endpoint.apiKey, '[redacted]') : text;
}

function httpFailure(status: number, body: string, endpoint: LlmEndpoint): LlmCallError {
  const message = `${endpoint.model} answered HTTP ${status}: ${withoutSecret(body.slice(0, errorBodyExcerpt), endpoint)}`;
  if (status === 429) return new LlmCallError('LLM_RATE_LIMITED', message, true, true);
  if (status === 408 || status >= 500) return new LlmCallError('LLM_UNAVAILABLE', message, true, true);
  if (status === 401 || status === 403) return new LlmCallError('LLM_UNAUTHORIZED', message, false, true);
  // The request itself is at fault (unknown model, image refused): the server is fine.
  return new LlmCallError('LLM_BAD_REQUEST', message, false, false);
}

async function postChatCompletion(
  endpoint: LlmEndpoint,
  messages: ChatMessage[],
  timeoutMs: number,
  cancelled: AbortSignal,
): Promise<ChatCompletion> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([timeout, cancelled]);
  let status: number;
  let text: string;
  try {
    const response = await fetch(`${endpoint.baseUrl.replace(/\/+$/, '')}/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}),
      },
      body: JSON.stringify({
        model: endpoint.model,
        messages,
        temperature: 0,
        max_tokens: maxAnswerTokens,
        response_format: llmResponseFormat,
      }),
      signal,
    });
    status = response.status;
    text = await response.text();
  } catch (error) {
    if (cancelled.aborted) throw cancelled.reason;
    if (timeout.aborted) {
      throw new LlmCallError('LLM_TIMEOUT', `${endpoint.model} did not answer within ${timeoutMs / 1000} s.`, true, true);
    }
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    throw new LlmCallError('LLM_UNAVAILABLE', `Could not reach ${endpoint.model}${cause}.`, true, true);
  }
  if (status < 200 || status >= 300) throw httpFailure(status, text, endpoint);
  try {
    return chatCompletionSchema.parse(JSON.parse(text));
  } catch {
    // A 200 that is not a chat completion: the base URL points at something else.
    throw new LlmCallError('LLM_BAD_RESPONSE', `${endpoint.model} answered something that is not a chat completion.`, false, true);
  }
}

type ParsedAnswer = { verdict: LlmVerdict; engine: string | undefined } | { problem: string; content: string };

function parseAnswer(completion: ChatCompletion): ParsedAnswer {
  const [choice] = completion.choices;
  const content = choice?.message.content?.trim() ?? '';
  if (!content) return { problem: 'the answer was empty', content };
  // Some servers fence JSON in Markdown even when asked for a schema.
  const json = content.replace(/^```(?:json)?\s*/i, '').replace(/\s*```$/, '');
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { problem: choice?.finish_reason === 'length' ? 'the answer was cut off' : 'the answer was not JSON', content };
  }
  const parsed = llmVerdictSchema.safeParse(value);
  if (parsed.success) return { verdict: parsed.data, engine: completion.model };
  const problem = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'answer'}: ${issue.message}`).join('; ');
  return { problem, content };
}

/**
 * The vision LLM activities (methods C1, C2, C21): one contact sheet of the event and its context to
 * one OpenAI-compatible chat-completions model, one JSON verdict back. Each role has its circuit
 * breaker, in this closure and so per worker process: after `breakerFailures` consecutive failed calls
 * it fails every call at once for `breakerCooldownSeconds`, then lets one trial call through.
 */
/** Contact sheets kept per worker for the jobs whose models are being asked now. */
const RECENT_SHEETS = 16;

export function createLlmActivities({ llm, media, logger, businessHours = defaultBusinessHours, metrics }: LlmActivityDeps) {
  const endpoints: Record<LlmRole, LlmEndpoint | null> = { primary: llm.primary, secondary: llm.secondary };
  const breakers = {} as Record<LlmRole, CircuitBreakerPolicy>;
  for (const role of ['primary', 'secondary'] as const) {
    const breaker = circuitBreaker(
      handleWhen((error) => error instanceof LlmCallError && error.countsAgainstEndpoint),
      { halfOpenAfter: llm.breakerCooldownSeconds * 1000, breaker: new ConsecutiveBreaker(llm.breakerFailures) },
    );
    const model = endpoints[role]?.model;
    breaker.onBreak(() => logger.warn({ llmRole: role, model, cooldownSeconds: llm.breakerCooldownSeconds }, 'LLM circuit breaker opened'));
    breaker.onReset(() => logger.info({ llmRole: role, model }, 'LLM circuit breaker closed'));
    breakers[role] = breaker;
  }

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

  async function userMessage(input: AskModelInput): Promise<ChatMessage> {
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
    return {
      role: 'user',
      content: [
        { type: 'text', text },
        { type: 'image_url', image_url: { url: await contactSheetDataUrl(input) } },
      ],
    };
  }

  async function askModel(role: LlmRole, input: AskModelInput): Promise<ModelVerdict> {
    const endpoint = endpoints[role];
    if (!endpoint) throw ApplicationFailure.nonRetryable(`No ${role} LLM is configured.`, 'LLM_NOT_CONFIGURED');
    const context = Context.current();
    const log = jobLogger(logger, input).child({ llmRole: role, model: endpoint.model, attempt: context.info.attempt });
    const breaker = breakers[role];
    const timeoutMs = llm.timeoutSeconds * 1000;
    // The sheet is built inside the first breaker call, so an open breaker answers before any image work.
    let messages: ChatMessage[] | undefined;
    const call = () =>
      breaker.execute(async () => {
        messages ??= [{ role: 'system', content: llmSystemPrompt }, await userMessage(input)];
        return postChatCompletion(endpoint, messages, timeoutMs, context.cancellationSignal);
      });
    // Heartbeats carry cancellation to a call that is waiting on a slow model.
    const heartbeat = setInterval(() => context.heartbeat(), 1000);
    try {
      const first = parseAnswer(await call());
      if ('verdict' in first) return answered(first);
      log.info({ problem: first.problem }, 'LLM answer unusable, asking once more');
      messages!.push({ role: 'assistant', content: first.content }, { role: 'user', content: repairPrompt(first.problem) });
      const second = parseAnswer(await call());
      if ('verdict' in second) return answered(second);
      throw new LlmCallError('LLM_INVALID_ANSWER', `${endpoint.model} gave no valid answer after one repair: ${second.problem}.`, false, false);
    } catch (error) {
      metrics?.llmCalls.inc({ role, outcome: callOutcomeOf(error) });
      throw toActivityFailure(error, role, log);
    } finally {
      clearInterval(heartbeat);
    }

    function answered({ verdict, engine }: { verdict: LlmVerdict; engine: string | undefined }): ModelVerdict {
      metrics?.llmCalls.inc({ role, outcome: 'answered' });
      log.info({ decision: verdict.decision, confidence: verdict.confidence }, 'LLM answered');
      return { ...verdict, engine: engine ?? endpoint!.model, decidedAt: new Date().toISOString() };
    }
  }

  function toActivityFailure(error: unknown, role: LlmRole, log: Logger): unknown {
    if (error instanceof BrokenCircuitError) {
      log.warn('LLM circuit breaker is open, failing at once');
      return ApplicationFailure.nonRetryable(`The ${role} LLM failed repeatedly; its circuit breaker is open.`, 'LLM_CIRCUIT_OPEN');
    }
    if (error instanceof LlmCallError) {
      log.warn({ type: error.type, retryable: error.retryable, err: error.message }, 'LLM call failed');
      return ApplicationFailure.create({ type: error.type, message: error.message, nonRetryable: !error.retryable });
    }
    return error;
  }

  return {
    /** C1, and the confirmation of C21. */
    askPrimaryModel: (input: AskModelInput) => askModel('primary', input),
    /** C2, after the primary failed its retries. */
    askSecondaryModel: (input: AskModelInput) => askModel('secondary', input),
  };
}

export type LlmActivities = ReturnType<typeof createLlmActivities>;
