import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { z } from 'zod';
import { LlmCallError } from '../../llm/failures.js';
import { createVisionClient, type VisionClientOptions, type VisionContent, type VisionQuestion } from '../../llm/vision-client.js';
import { createLogger } from '../../logging/logger.js';
import { startLlmDouble, type LlmDouble, type LlmReply } from '../support/llm-double.js';

// A question that is not an alarm's: the client knows nothing of verdicts.
const labelSchema = z.object({ label: z.enum(['cat', 'dog']) });
const frame: VisionContent = { text: 'One clip frame.', images: [Buffer.from('jpeg bytes'), 'data:image/jpeg;base64,AAAA'] };
const question: VisionQuestion<z.infer<typeof labelSchema>> = {
  system: 'Name the animal.',
  user: frame,
  answer: { name: 'clip_label', schema: labelSchema, maxTokens: 50 },
  repairPrompt: (problem) => `Unusable: ${problem}.`,
};
const model = 'vision-clip';

describe('vision client against a chat-completions double', () => {
  let double: LlmDouble;
  before(async () => (double = await startLlmDouble()));
  after(async () => double.stop());
  beforeEach(() => double.reset());

  const client = (overrides: Partial<VisionClientOptions> = {}) =>
    createVisionClient({
      endpoint: { baseUrl: double.baseUrl, model, apiKey: 'sk-unit-secret' },
      timeoutSeconds: 0.3,
      breaker: { failures: 3, cooldownSeconds: 600 },
      logger: createLogger('silent', 'test'),
      ...overrides,
    });

  async function callErrorOf(call: Promise<unknown>): Promise<LlmCallError> {
    const error = await call.catch((caught: unknown) => caught);
    assert.ok(error instanceof LlmCallError, `expected an LlmCallError, got ${inspect(error)}`);
    return error;
  }

  it('sends the prompt, the text, the images as data URLs and the JSON schema; returns the checked answer and the model', async () => {
    double.script(model, { content: '{"label": "dog"}' });
    assert.deepEqual(await client().ask(question), { answer: { label: 'dog' }, model });

    const [request] = double.requestsFor(model);
    assert.equal(request!.body.max_tokens, 50);
    const format = request!.body.response_format!;
    assert.deepEqual([format.type, format.json_schema?.name, format.json_schema?.strict], ['json_schema', 'clip_label', true]);
    const schema = format.json_schema!.schema as { $schema?: string; properties: { label: { enum: string[] } } };
    assert.deepEqual(schema.properties.label.enum, ['cat', 'dog']);
    assert.equal(schema.$schema, undefined);
    assert.deepEqual(request!.body.messages, [
      { role: 'system', content: 'Name the animal.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'One clip frame.' },
          { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${Buffer.from('jpeg bytes').toString('base64')}` } },
          { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AAAA' } },
        ],
      },
    ]);
  });

  it('tells the model what was wrong once, then gives up with LLM_INVALID_ANSWER', async () => {
    double.script(model, { content: '{"label": "cow"}' }, { content: 'a cow' });
    const error = await callErrorOf(client().ask(question));
    assert.equal(error.type, 'LLM_INVALID_ANSWER');
    const repair = double.requestsFor(model)[1]!.body.messages.at(-1)!;
    assert.match(String(repair.content), /^Unusable: label: /);
  });

  const failures: Array<[reply: LlmReply, type: string, retryable: boolean, countsAgainstEndpoint: boolean]> = [
    [{ status: 429 }, 'LLM_RATE_LIMITED', true, true],
    [{ status: 408 }, 'LLM_UNAVAILABLE', true, true],
    [{ status: 502 }, 'LLM_UNAVAILABLE', true, true],
    [{ status: 401 }, 'LLM_UNAUTHORIZED', false, true],
    [{ status: 404 }, 'LLM_BAD_REQUEST', false, false],
    [{ drop: true }, 'LLM_UNAVAILABLE', true, true],
    [{ hang: true }, 'LLM_TIMEOUT', true, true],
    [{ page: '<html>Welcome to nginx</html>' }, 'LLM_BAD_RESPONSE', false, true],
  ];
  for (const [reply, type, retryable, countsAgainstEndpoint] of failures) {
    it(`${JSON.stringify(reply)} is ${type}${retryable ? ', retryable' : ''}${countsAgainstEndpoint ? ', counted by the breaker' : ''}`, async () => {
      double.script(model, 'status' in reply ? { ...reply, message: 'Incorrect API key provided: sk-unit-secret' } : reply);
      const error = await callErrorOf(client().ask(question));
      assert.deepEqual([error.type, error.retryable, error.countsAgainstEndpoint], [type, retryable, countsAgainstEndpoint]);
      assert.doesNotMatch(error.message, /sk-unit-secret/);
    });
  }

  it('an aborted call rejects with the reason of its signal', async () => {
    double.script(model, { hang: true });
    const cancel = new AbortController();
    const call = client({ timeoutSeconds: 60 }).ask({ ...question, signal: cancel.signal });
    const reason = new Error('cancelled by the caller');
    setTimeout(() => cancel.abort(reason), 50);
    await assert.rejects(call, (error) => error === reason);
  });

  it('the breaker opens after consecutive counted failures and then fails at once, before building the content', async () => {
    const vision = client({ breaker: { failures: 2, cooldownSeconds: 600 } });
    double.script(model, { status: 503 });
    for (let i = 0; i < 2; i++) assert.equal((await callErrorOf(vision.ask(question))).type, 'LLM_UNAVAILABLE');

    double.script(model, { content: '{"label": "cat"}' });
    let built = 0;
    const lazy = async () => {
      built += 1;
      return frame;
    };
    const open = await callErrorOf(vision.ask({ ...question, user: lazy }));
    assert.deepEqual([open.type, open.retryable], ['LLM_CIRCUIT_OPEN', false]);
    assert.equal(built, 0, 'no content built for an open breaker');
    assert.equal(double.requestsFor(model).length, 2, 'an open breaker sends nothing');
  });
});
