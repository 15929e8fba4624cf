import { BrokenCircuitError, ConsecutiveBreaker, circuitBreaker, handleWhen } from 'cockatiel';
import { z } from 'zod';
import type { LlmEndpoint } from '../config/index.js';
import type { Logger } from '../logging/logger.js';
import { LlmCallError, httpFailure } from './failures.js';

export interface VisionClientOptions {
  endpoint: LlmEndpoint;
  /** One HTTP call to the model. */
  timeoutSeconds: number;
  /** Consecutive failed calls that open the breaker, and how long it stays open. */
  breaker: { failures: number; cooldownSeconds: number };
  /** Where the breaker's opening and closing are logged. */
  logger: Logger;
}

/** One user turn: a text, then images, each as JPEG bytes or a `data:` URL. */
export interface VisionContent {
  text: string;
  images: (Buffer | string)[];
}

export interface VisionQuestion<T> {
  system: string;
  /** A function is called only once the breaker lets the call through, so an open breaker costs no image work. */
  user: VisionContent | (() => Promise<VisionContent>);
  /**
   * The JSON answer: its name and schema (sent as the JSON-schema `response_format`, and checked on the
   * answer), and room for it in tokens; an answer cut off there gets the repair turn.
   */
  answer: { name: string; schema: z.ZodType<T>; maxTokens: number };
  /** What to tell a model whose answer was unusable, `problem` saying why; it gets one more turn. */
  repairPrompt: (problem: string) => string;
  /** Aborts the call, which then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Where this call's repair turn is logged; the client's logger when not given. */
  logger?: Logger;
}

export interface VisionAnswer<T> {
  answer: T;
  /** The model that answered, as its server names it. */
  model: string;
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

function userMessage({ text, images }: VisionContent): ChatMessage {
  const urls = images.map((image) => (typeof image === 'string' ? image : `data:image/jpeg;base64,${image.toString('base64')}`));
  return { role: 'user', content: [{ type: 'text', text }, ...urls.map((url) => ({ type: 'image_url' as const, image_url: { url } }))] };
}

function responseFormat({ name, schema }: VisionQuestion<unknown>['answer']) {
  // The `$schema` tag is dropped: some servers refuse schemas that carry it.
  const { $schema: _tag, ...jsonSchema } = z.toJSONSchema(schema);
  return { type: 'json_schema', json_schema: { name, strict: true, schema: jsonSchema } };
}

type ParsedAnswer<T> = VisionAnswer<T> | { problem: string; content: string };

/**
 * A client of one OpenAI-compatible chat-completions server that reads images: a system prompt and
 * one user turn in, one JSON answer checked against a schema out, with one repair turn for an unusable
 * answer. Every failure is an `LlmCallError` (llm/failures.ts). The client holds its endpoint's circuit
 * breaker, so one per endpoint and process: after `breaker.failures` consecutive failed calls it fails
 * every call at once for `breaker.cooldownSeconds`, then lets one trial call through.
 */
export function createVisionClient({ endpoint, timeoutSeconds, breaker: limits, logger: parentLogger }: VisionClientOptions) {
  const { model } = endpoint;
  const logger = parentLogger.child({ model });
  const breaker = circuitBreaker(
    handleWhen((error) => error instanceof LlmCallError && error.countsAgainstEndpoint),
    { halfOpenAfter: limits.cooldownSeconds * 1000, breaker: new ConsecutiveBreaker(limits.failures) },
  );
  breaker.onBreak(() => logger.warn({ cooldownSeconds: limits.cooldownSeconds }, 'LLM circuit breaker opened'));
  breaker.onReset(() => logger.info('LLM circuit breaker closed'));

  async function postChatCompletion(body: object, cancelled: AbortSignal | undefined): Promise<ChatCompletion> {
    const timeout = AbortSignal.timeout(timeoutSeconds * 1000);
    let status: number;
    let text: string;
    try {
      const response = await fetch(`${endpoint.baseUrl.replace(/\/+$/, '')}/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}),
        },
        body: JSON.stringify({ model, temperature: 0, ...body }),
        signal: cancelled ? AbortSignal.any([timeout, cancelled]) : timeout,
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      if (cancelled?.aborted) throw cancelled.reason;
      if (timeout.aborted) throw new LlmCallError('LLM_TIMEOUT', `${model} did not answer within ${timeoutSeconds} s.`, true, true);
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      throw new LlmCallError('LLM_UNAVAILABLE', `Could not reach ${model}${cause}.`, true, true);
    }
    if (status < 200 || status >= 300) throw httpFailure(status, text, endpoint);
    try {
      return chatCompletionSchema.parse(JSON.parse(text));
    } catch {
      // A 200 that is not a chat completion: the base URL points at something else.
      throw new LlmCallError('LLM_BAD_RESPONSE', `${model} answered something that is not a chat completion.`, false, true);
    }
  }

  function parseAnswer<T>(completion: ChatCompletion, schema: z.ZodType<T>): ParsedAnswer<T> {
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
    const parsed = schema.safeParse(value);
    if (parsed.success) return { answer: parsed.data, model: completion.model ?? model };
    const problem = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'answer'}: ${issue.message}`).join('; ');
    return { problem, content };
  }

  async function ask<T>(question: VisionQuestion<T>): Promise<VisionAnswer<T>> {
    const request = { max_tokens: question.answer.maxTokens, response_format: responseFormat(question.answer) };
    let messages: ChatMessage[] | undefined;
    const call = () =>
      breaker.execute(async () => {
        messages ??= [
          { role: 'system', content: question.system },
          userMessage(typeof question.user === 'function' ? await question.user() : question.user),
        ];
        return postChatCompletion({ ...request, messages }, question.signal);
      });
    try {
      const first = parseAnswer(await call(), question.answer.schema);
      if ('answer' in first) return first;
      (question.logger ?? logger).info({ problem: first.problem }, 'LLM answer unusable, asking once more');
      messages!.push({ role: 'assistant', content: first.content }, { role: 'user', content: question.repairPrompt(first.problem) });
      const second = parseAnswer(await call(), question.answer.schema);
      if ('answer' in second) return second;
      throw new LlmCallError('LLM_INVALID_ANSWER', `${model} gave no valid answer after one repair: ${second.problem}.`, false, false);
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        throw new LlmCallError('LLM_CIRCUIT_OPEN', `${model} failed repeatedly; its circuit breaker is open.`, false, false);
      }
      throw error;
    }
  }

  return { model, ask };
}

export type VisionClient = ReturnType<typeof createVisionClient>;
