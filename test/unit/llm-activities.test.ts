import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import sharp from 'sharp';
import { createLlmActivities, type AskModelInput, type ModelVerdict } from '../../activities/llm.js';
import { ConfigError, loadConfig, type LlmConfig } from '../../config/index.js';
import { llmIndicators } from '../../domain/llm-verdict.js';
import { createLogger } from '../../logging/logger.js';
import { FileSystemMediaStore } from '../../media/store.js';
import { startLlmDouble, type DoubleVerdict, type LlmDouble } from '../support/llm-double.js';
import { fixturesDir } from '../support/paths.js';
import { waitFor } from '../support/wait.js';

const event = 'pets2009_people_walking_a';
const media = new FileSystemMediaStore(path.join(fixturesDir, 'events'));
const logger = createLogger('silent', 'test');
const verdict: DoubleVerdict = { decision: 'Yes', confidence: 0.9, description: 'Two people at the door at night.', indicators: ['person_after_hours'] };

/** An activity context; the SDK's log line for each expected failure stays out of the output. */
const activityEnvironment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

type AskModel = (input: AskModelInput) => Promise<ModelVerdict>;
/** One model activity call, in an activity context of its own unless given one. */
const ask = (askModel: AskModel, environment = activityEnvironment()) =>
  environment.run<[AskModelInput], ModelVerdict, AskModel>(askModel, input);

const input: AskModelInput = {
  accountId: 'a1',
  jobId: 'raw_test_job',
  sensitivity: 2,
  siteCategory: 'retail',
  vendorTime: '2026-11-20 23:15:00',
  frames: [0, 1, 2, 3].map((index) => ({ index, key: `${event}/frame_0${index}.jpg` })),
  analysis: {
    kept: [0, 1, 2, 3].map((frameIndex) => ({
      frameIndex,
      width: 768,
      height: 576,
      detections: frameIndex < 2 ? [{ category: 'person', label: 'person', score: 0.81, box: [300, 200, 340, 300] }] : [],
    })),
    hasMotion: true,
    indicators: ['filtered_low_score'],
  },
  frameCount: 4,
  extraIndicators: [],
};

describe('LLM activities against a chat-completions double', () => {
  let double: LlmDouble;
  before(async () => (double = await startLlmDouble()));
  after(async () => double.stop());
  beforeEach(() => double.reset());

  function llmConfig(overrides: Partial<LlmConfig> = {}): LlmConfig {
    return {
      primary: { baseUrl: double.baseUrl, model: 'vision-primary', apiKey: 'sk-unit-secret' },
      secondary: null,
      timeoutSeconds: 1,
      maxAttempts: 3,
      retryInitialSeconds: 0.1,
      retryMaxSeconds: 0.2,
      confirmBelowConfidence: 0.6,
      breakerFailures: 3,
      breakerCooldownSeconds: 600,
      ...overrides,
    };
  }
  const activities = (overrides: Partial<LlmConfig> = {}) => createLlmActivities({ llm: llmConfig(overrides), media, logger });

  async function failureOf(call: Promise<unknown>): Promise<ApplicationFailure> {
    const error = await call.then(
      () => assert.fail('expected the call to fail'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof ApplicationFailure, String(error));
    return error;
  }

  it('sends the contact sheet, the context and the JSON schema, and returns the verdict', async () => {
    double.script('vision-primary', { verdict, model: 'vision-primary-2026-01' });
    const answer = await ask(activities().askPrimaryModel);
    assert.equal(answer.decision, 'Yes');
    assert.equal(answer.confidence, 0.9);
    assert.equal(answer.engine, 'vision-primary-2026-01');
    assert.ok(!Number.isNaN(Date.parse(answer.decidedAt)));

    const [request] = double.requestsFor('vision-primary');
    assert.equal(request!.headers.authorization, 'Bearer sk-unit-secret');
    assert.equal(request!.body.response_format?.type, 'json_schema');
    const schema = request!.body.response_format!.json_schema!.schema as { properties: Record<string, { enum?: string[]; items?: { enum?: string[] } }> };
    assert.deepEqual(schema.properties.decision!.enum, ['No', 'Maybe', 'Yes']);
    assert.deepEqual(schema.properties.indicators!.items!.enum, llmIndicators.map(({ indicator }) => indicator));
    const [system, user] = request!.body.messages;
    assert.equal(system!.role, 'system');
    assert.ok(Array.isArray(user!.content));
    const text = user!.content.find((part) => part.type === 'text');
    const image = user!.content.find((part) => part.type === 'image_url');
    assert.match(text && 'text' in text ? text.text : '', /Site category: retail\. Business hours: 08:00–22:00\.\nLocal time: 2026-11-20 23:15:00 \(after hours\)\./);
    assert.match(text && 'text' in text ? text.text : '', /Persons detected: frame 1: 1, frame 2: 1 \(best score 0\.81\)\./);
    assert.match(text && 'text' in text ? text.text : '', /Notes: filtered_low_score\./);
    const url = image && 'image_url' in image ? image.image_url.url : '';
    assert.match(url, /^data:image\/jpeg;base64,/);
    const sheet = await sharp(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64')).metadata();
    assert.deepEqual([sheet.format, sheet.width, sheet.height], ['jpeg', 960, 720]);
  });

  it("builds a job's contact sheet once for all its calls, and reads its frames once", async () => {
    const reads: string[] = [];
    const countingMedia = Object.assign(Object.create(media) as FileSystemMediaStore, {
      get: (key: string) => {
        reads.push(key);
        return media.get(key);
      },
    });
    const primary = llmConfig().primary;
    const both = createLlmActivities({ llm: llmConfig({ secondary: primary }), media: countingMedia, logger });
    double.script('vision-primary', { verdict }, { verdict }, { verdict });
    await ask(both.askPrimaryModel);
    await ask(both.askSecondaryModel);
    await ask(both.askPrimaryModel);
    const images = double.requestsFor('vision-primary').map(({ body }) => JSON.stringify(body.messages[1]!.content));
    assert.equal(images.length, 3);
    assert.equal(new Set(images).size, 1, 'the same sheet every time');
    assert.deepEqual(reads.sort(), input.frames.map((frame) => frame.key).sort());
  });

  it('accepts JSON fenced in Markdown', async () => {
    double.script('vision-primary', { content: '```json\n' + JSON.stringify(verdict) + '\n```' });
    const answer = await ask(activities().askPrimaryModel);
    assert.equal(answer.description, verdict.description);
  });

  it('asks once more after an unusable answer, telling the model what was wrong', async () => {
    double.script('vision-primary', { content: '{"decision": "Perhaps"}' }, { verdict });
    const answer = await ask(activities().askPrimaryModel);
    assert.equal(answer.decision, 'Yes');
    const [, repair] = double.requestsFor('vision-primary');
    const messages = repair!.body.messages;
    assert.deepEqual(messages.slice(-2).map((m) => m.role), ['assistant', 'user']);
    assert.equal(messages.at(-2)!.content, '{"decision": "Perhaps"}');
    assert.match(String(messages.at(-1)!.content), /decision/);
  });

  it('gives up on an answer still invalid after the repair: non-retryable LLM_INVALID_ANSWER', async () => {
    double.script('vision-primary', { content: 'I think it is fine' });
    const failure = await failureOf(ask(activities().askPrimaryModel));
    assert.equal(failure.type, 'LLM_INVALID_ANSWER');
    assert.equal(failure.nonRetryable, true);
    assert.equal(double.requestsFor('vision-primary').length, 2);
  });

  const httpCases: Array<[status: number, type: string, nonRetryable: boolean]> = [
    [500, 'LLM_UNAVAILABLE', false],
    [503, 'LLM_UNAVAILABLE', false],
    [429, 'LLM_RATE_LIMITED', false],
    [400, 'LLM_BAD_REQUEST', true],
    [401, 'LLM_UNAUTHORIZED', true],
    [403, 'LLM_UNAUTHORIZED', true],
  ];
  for (const [status, type, nonRetryable] of httpCases) {
    it(`HTTP ${status} is ${nonRetryable ? 'a non-retryable' : 'a retryable'} ${type}`, async () => {
      double.script('vision-primary', { status, message: 'Incorrect API key provided: sk-unit-secret' });
      const failure = await failureOf(ask(activities().askPrimaryModel));
      assert.equal(failure.type, type);
      assert.equal(failure.nonRetryable, nonRetryable);
      assert.doesNotMatch(failure.message, /sk-unit-secret/);
    });
  }

  it('a call past LLM_TIMEOUT_S is a retryable LLM_TIMEOUT', async () => {
    double.script('vision-primary', { hang: true });
    const failure = await failureOf(ask(activities().askPrimaryModel));
    assert.equal(failure.type, 'LLM_TIMEOUT');
    assert.equal(failure.nonRetryable, false);
  });

  it('a 200 that is not a chat completion is a non-retryable LLM_BAD_RESPONSE', async () => {
    double.script('vision-primary', { page: '<html>Welcome to nginx</html>' });
    const failure = await failureOf(ask(activities().askPrimaryModel));
    assert.equal(failure.type, 'LLM_BAD_RESPONSE');
    assert.equal(failure.nonRetryable, true);
  });

  it('a secondary that is not configured fails at once', async () => {
    const failure = await failureOf(ask(activities().askSecondaryModel));
    assert.equal(failure.type, 'LLM_NOT_CONFIGURED');
    assert.equal(failure.nonRetryable, true);
  });

  it('cancellation aborts a call that is waiting on the model', async () => {
    double.script('vision-primary', { hang: true });
    const environment = activityEnvironment();
    const call = ask(activities({ timeoutSeconds: 60 }).askPrimaryModel, environment);
    await waitFor('the request to reach the double', () => double.requestsFor('vision-primary').length === 1);
    environment.cancel();
    await assert.rejects(call, (error) => error instanceof CancelledFailure);
  });

  it('the circuit breaker opens after consecutive failures, fails at once, then lets a trial call through', async () => {
    const llm = activities({ breakerFailures: 2, breakerCooldownSeconds: 0.3 });
    double.script('vision-primary', { drop: true });
    for (let i = 0; i < 2; i++) {
      assert.equal((await failureOf(ask(llm.askPrimaryModel))).type, 'LLM_UNAVAILABLE');
    }
    double.script('vision-primary', { verdict });
    const open = await failureOf(ask(llm.askPrimaryModel));
    assert.equal(open.type, 'LLM_CIRCUIT_OPEN');
    assert.equal(open.nonRetryable, true);
    assert.equal(double.requestsFor('vision-primary').length, 2, 'an open breaker sends nothing');

    const answer = await waitFor('the breaker to let a trial call through', () =>
      ask(llm.askPrimaryModel),
    );
    assert.equal(answer.decision, 'Yes');
    assert.equal(double.requestsFor('vision-primary').length, 3);
  });

  it('bad requests and unusable answers do not open the breaker', async () => {
    const llm = activities({ breakerFailures: 1 });
    double.script('vision-primary', { status: 400 }, { content: 'nope' }, { content: 'still nope' }, { verdict });
    assert.equal((await failureOf(ask(llm.askPrimaryModel))).type, 'LLM_BAD_REQUEST');
    assert.equal((await failureOf(ask(llm.askPrimaryModel))).type, 'LLM_INVALID_ANSWER');
    assert.equal((await ask(llm.askPrimaryModel)).decision, 'Yes');
  });
});

describe('LLM configuration', () => {
  const base = { LLM_BASE_URL: 'http://127.0.0.1:11434/v1', LLM_MODEL: 'qwen2.5vl:7b' };

  it('has no LLM without LLM_BASE_URL', () => {
    const { llm } = loadConfig({});
    assert.equal(llm.primary, null);
    assert.equal(llm.secondary, null);
  });

  it('lets the secondary share the primary server and key', () => {
    const { llm } = loadConfig({ ...base, LLM_API_KEY: 'k1', LLM_FALLBACK_MODEL: 'llava:7b' });
    assert.deepEqual(llm.secondary, { baseUrl: base.LLM_BASE_URL, model: 'llava:7b', apiKey: 'k1' });
  });

  it('gives a secondary on its own server its own key only', () => {
    const { llm } = loadConfig({ ...base, LLM_API_KEY: 'k1', LLM_FALLBACK_BASE_URL: 'http://127.0.0.1:8000/v1', LLM_FALLBACK_MODEL: 'm2' });
    assert.deepEqual(llm.secondary, { baseUrl: 'http://127.0.0.1:8000/v1', model: 'm2', apiKey: undefined });
  });

  const invalid: Array<[name: string, env: Record<string, string>, field: RegExp]> = [
    ['a base URL without a model', { LLM_BASE_URL: base.LLM_BASE_URL }, /LLM_MODEL/],
    ['a fallback without a primary', { LLM_FALLBACK_MODEL: 'm2' }, /LLM_BASE_URL/],
    ['a fallback server without a fallback model', { ...base, LLM_FALLBACK_BASE_URL: 'http://127.0.0.1:8000/v1' }, /LLM_FALLBACK_MODEL/],
    ['a confidence threshold above 1', { ...base, LLM_CONFIRM_BELOW: '1.5' }, /LLM_CONFIRM_BELOW/],
    ['a zero timeout', { ...base, LLM_TIMEOUT_S: '0' }, /LLM_TIMEOUT_S/],
  ];
  for (const [name, env, field] of invalid) {
    it(`refuses ${name}`, () => assert.throws(() => loadConfig(env), (error) => error instanceof ConfigError && field.test(error.message)));
  }
});
