import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { z } from 'zod';
import { alarmExportData, alarmStatusData, acceptedAlarmData } from '../../api/alarms/schema.js';
import { apiRouters } from '../../api/app.js';
import { readinessData } from '../../api/health/schema.js';
import { deliveriesData } from '../../api/webhooks/schema.js';
import { createLogger } from '../../logging/logger.js';
import { FileSystemMediaStore } from '../../media/store.js';
import { jobStages } from '../../observability/metrics.js';
import { alarmForm, api, defaultFields, eventFrames, submitAlarm, type JobStatus } from '../support/alarms.js';
import { startLlmDouble, type LlmDouble } from '../support/llm-double.js';
import { labelValues, sampleValue, scrape } from '../support/prometheus.js';
import { startStack, type DetectionWorkerProcess, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const primaryModel = 'vision-primary';
const llmApiKey = 'sk-llm-9d1f3b7e5a2c48e0b6f4';
const webhookSecret = 'whsec_4c8e2a6f0b9d1e3a7c5f';
const hookPath = '/observability';

/** The documented schema accepts what the API answered. */
function assertDocumented(schema: z.ZodType, data: unknown, what: string): void {
  const parsed = schema.safeParse(data);
  assert.ok(parsed.success, `${what} does not match its documented schema: ${parsed.error?.message}\n${JSON.stringify(data)}`);
}

describe('observability: metrics of every process, the OpenAPI document and docs, logs without secrets', () => {
  let stack: TestStack;
  let double: LlmDouble;
  let receiver: WebhookReceiver;
  let detectionWorker: DetectionWorkerProcess;
  let token: string;
  let jobId: string;
  const answers: { accepted?: unknown; status?: unknown; export?: unknown; deliveries?: unknown; ready?: unknown } = {};

  before(async () => {
    double = await startLlmDouble();
    receiver = await startWebhookReceiver();
    stack = await startStack({
      captureLogs: true,
      detectionWorker: false,
      env: {
        LLM_BASE_URL: double.baseUrl,
        LLM_MODEL: primaryModel,
        LLM_API_KEY: llmApiKey,
        LLM_TIMEOUT_S: '5',
        LLM_RETRY_INITIAL_S: '0.1',
        LLM_RETRY_MAX_S: '0.2',
        WEBHOOK_INITIAL_INTERVAL_S: '0.2',
        WEBHOOK_MAX_INTERVAL_S: '1',
      },
    });
    detectionWorker = await stack.startDetectionWorker();
    token = await stack.createToken('acme');

    // One failure before each success: the failure paths log and count too.
    double.script(primaryModel, { status: 503 }, { verdict: { decision: 'Yes', confidence: 0.9, description: 'Two people after hours.', indicators: ['person_after_hours'] } });
    receiver.answer(hookPath, [503]);

    // The token travels every way the API takes it: form field, query string, header.
    const form = alarmForm(
      defaultFields({ token, webhook_url: receiver.url(hookPath), webhook_secret: webhookSecret }),
      await eventFrames('pets2009_people_walking_a', 4),
    );
    const submitted = await submitAlarm(stack.baseUrl, undefined, form, { 'Max-Processing-Time': '120' });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    answers.accepted = submitted.body.data;
    jobId = submitted.body.data.job_id;

    answers.status = await waitFor(
      `job ${jobId} to finish`,
      async () => {
        const { body } = await api<JobStatus>(stack.baseUrl, `/api/v1/alarms/${jobId}?token=${token}`);
        assert.notEqual(body.data.status, 'failed', JSON.stringify(body));
        return body.data.status === 'finished' ? body.data : undefined;
      },
      120_000,
      200,
    );
    await waitFor('the webhook retried and delivered', () => receiver.received(hookPath).some((hook) => hook.answeredWith === 200), 30_000);
    const exported = await api(stack.baseUrl, `/api/v1/alarms/${jobId}/export?token=${token}`);
    assert.equal(exported.status, 200, JSON.stringify(exported.body));
    answers.export = exported.body.data;
    // The delivery is recorded as delivered just after the receiver answered.
    answers.deliveries = await waitFor('the delivery to be recorded', async () => {
      const { body } = await api<{ deliveries: { status: string }[] }>(stack.baseUrl, `/api/v1/alarms/${jobId}/deliveries`, { token });
      return body.data.deliveries[0]?.status === 'delivered' ? body.data : undefined;
    });
    answers.ready = (await api(stack.baseUrl, '/readyz')).body.data;
    assert.equal((await api(stack.baseUrl, `/api/v1/alarms/${jobId}`, { token: 'vgl_not_a_real_token' })).status, 401);
    assert.equal((await api(stack.baseUrl, `/api/v1/alarms/${jobId}/no-such-thing`)).status, 404);
  });

  after(async () => {
    await stack?.stop();
    await receiver?.close();
    await double?.stop();
  });

  test('the API counts requests by route pattern and status, and the jobs it accepted', async () => {
    const text = await scrape(`${stack.baseUrl}/metrics`);
    assert.equal(sampleValue(text, 'vigil_jobs_accepted_total', { api: 'alarms', role: 'api' }), 1);
    assert.equal(sampleValue(text, 'vigil_http_requests_total', { method: 'POST', route: '/api/v1/alarms', status: '202' }), 1);
    assert.ok(sampleValue(text, 'vigil_http_requests_total', { method: 'GET', route: '/api/v1/alarms/:job_id', status: '200' })! >= 1);
    assert.equal(sampleValue(text, 'vigil_http_requests_total', { method: 'GET', route: '/api/v1/alarms/:job_id', status: '401' }), 1);
    assert.equal(sampleValue(text, 'vigil_http_requests_total', { method: 'GET', route: '/api/v1/alarms/:job_id/export', status: '200' }), 1);
    assert.equal(sampleValue(text, 'vigil_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }), 1);
    assert.equal(sampleValue(text, 'vigil_http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/alarms', status: '202' }), 1);
    // Route patterns only: neither the job id nor the token ever becomes a label.
    for (const route of labelValues(text, 'route')) assert.ok(route === 'unmatched' || route.startsWith('/'), route);
    assert.ok(!text.includes(jobId) && !text.includes(token));
  });

  test('the analysis worker serves jobs ended, stage durations, webhook attempts, LLM calls and its slots', async (t) => {
    const text = await scrape(stack.workerMetricsUrl);
    assert.equal(sampleValue(text, 'vigil_jobs_ended_total', { api: 'alarms', status: 'finished', role: 'worker' }), 1);
    for (const stage of jobStages) {
      assert.equal(sampleValue(text, 'vigil_job_stage_duration_seconds_count', { api: 'alarms', stage }), 1, stage);
    }
    const stageMs = jobStages.map((stage) => `${stage} ${Math.round(sampleValue(text, 'vigil_job_stage_duration_seconds_sum', { api: 'alarms', stage })! * 1000)} ms`);
    t.diagnostic(`stages: ${stageMs.join(', ')}`);
    assert.ok(sampleValue(text, 'vigil_job_stage_duration_seconds_sum', { api: 'alarms', stage: 'detect' })! > 0);
    assert.equal(sampleValue(text, 'vigil_webhook_attempts_total', { outcome: 'retry' }), 1);
    assert.equal(sampleValue(text, 'vigil_webhook_attempts_total', { outcome: 'delivered' }), 1);
    assert.equal(sampleValue(text, 'vigil_llm_calls_total', { role: 'primary', outcome: 'unavailable' }), 1);
    assert.equal(sampleValue(text, 'vigil_llm_calls_total', { role: 'primary', outcome: 'answered' }), 1);
    assert.equal(sampleValue(text, 'vigil_worker_activity_slots', { task_queue: stack.config.temporal.analysisTaskQueue }), stack.config.temporal.analysisConcurrency);
    assert.equal(sampleValue(text, 'vigil_worker_activity_slots_used', { task_queue: stack.config.temporal.analysisTaskQueue }), 0);
  });

  test('the detection worker serves inference time per frame and its slots on its own port', async (t) => {
    const text = await scrape(detectionWorker.metricsUrl);
    const frames = sampleValue(text, 'vigil_detector_frame_duration_seconds_count', { model: stack.config.detector.model, device: 'cpu', role: 'gpu-worker' });
    assert.ok(frames !== undefined && frames >= 4, `${frames} frames timed`);
    const seconds = sampleValue(text, 'vigil_detector_frame_duration_seconds_sum', { model: stack.config.detector.model })!;
    assert.ok(seconds > 0);
    t.diagnostic(`${stack.config.detector.model}: ${frames} frames, ${((seconds * 1000) / frames).toFixed(1)} ms a frame`);
    assert.equal(sampleValue(text, 'vigil_worker_activity_slots', { task_queue: stack.config.temporal.detectTaskQueue }), stack.config.detector.concurrency);
    assert.equal(sampleValue(text, 'vigil_worker_activity_slots_used', { task_queue: stack.config.temporal.detectTaskQueue }), 0);
  });

  test('every log line about the job names it, its workflow and its account; none holds the token, the webhook secret or the LLM key', () => {
    const lines = stack.logLines();
    for (const secret of [token, webhookSecret, llmApiKey]) {
      const leaks = lines.filter((line) => line.includes(secret));
      assert.deepEqual(leaks, [], `${secret.slice(0, 6)}… appears in ${leaks.length} log line(s)`);
    }

    const entries = lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
    const aboutJob = entries.filter((entry) => entry.jobId === jobId);
    const messages = new Set(aboutJob.map((entry) => entry.msg));
    for (const message of ['alarm accepted', 'LLM call failed', 'LLM answered', 'alarm job finished', 'webhook attempt']) {
      assert.ok(messages.has(message), `a "${message}" line about the job (have: ${[...messages].join(', ')})`);
    }
    for (const entry of aboutJob) {
      assert.equal(entry.workflowId, jobId, JSON.stringify(entry));
      assert.ok(typeof entry.accountId === 'string' && entry.accountId.length > 0, JSON.stringify(entry));
    }
    assert.ok(entries.some((entry) => entry.source === 'temporal-sdk' && entry.workflowId === jobId), 'the SDK\'s own lines are captured too');
    assert.ok(entries.some((entry) => entry.role === 'gpu-worker'), 'the detection worker\'s lines are captured too');
  });

  test('/openapi.json is valid OpenAPI 3.1 and documents exactly the routes the routers register', async () => {
    const response = await fetch(`${stack.baseUrl}/openapi.json`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const document = (await response.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    const validation = await new Validator().validate(document);
    assert.equal(validation.valid, true, JSON.stringify(validation.errors, null, 2));
    assert.equal(document.openapi, '3.1.0');

    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).filter((key) => key !== 'parameters').map((method) => `${method.toUpperCase()} ${path}`)),
    );
    const routers = apiRouters({
      config: stack.config,
      db: stack.db,
      media: new FileSystemMediaStore(stack.config.mediaDir),
      temporal: stack.temporal,
      logger: createLogger('silent', 'test'),
      secrets: stack.secrets,
      metrics: stack.metrics.api,
    });
    const registered = new Set(
      routers.flatMap((router) =>
        router.stack.flatMap((layer) => {
          // `/:job_id` → `/{job_id}`.
          const path = String(layer.path).replace(/:(\w+)/g, '{$1}');
          return layer.methods.filter((method) => method !== 'HEAD').map((method) => `${method} ${path}`);
        }),
      ),
    );
    assert.ok(registered.size >= 20, `${registered.size} routes registered`);
    assert.deepEqual([...registered].filter((route) => !documented.has(route)), [], 'routes missing from the document');
    assert.deepEqual([...documented].filter((route) => !registered.has(route)), [], 'documented routes that do not exist');
  });

  test('the documented response schemas describe what the API answered', () => {
    assertDocumented(acceptedAlarmData, answers.accepted, 'POST /api/v1/alarms');
    assertDocumented(alarmStatusData, answers.status, 'GET /api/v1/alarms/{job_id}');
    assertDocumented(alarmExportData, answers.export, 'GET /api/v1/alarms/{job_id}/export');
    assertDocumented(deliveriesData, answers.deliveries, 'GET /api/v1/alarms/{job_id}/deliveries');
    assertDocumented(readinessData, answers.ready, 'GET /readyz');
  });

  test('/docs serves the interactive reference with every asset from this server, no CDN', async () => {
    const response = await fetch(`${stack.baseUrl}/docs`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(response.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const html = await response.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    assert.ok(assets.length >= 4, assets.join());
    const expectedTypes: Record<string, RegExp> = { '.js': /javascript/, '.css': /^text\/css/, '.png': /^image\/png/ };
    for (const asset of assets) {
      assert.ok(asset.startsWith('/docs/assets/'), `${asset} is served here`);
      const fetched = await fetch(stack.baseUrl + asset);
      assert.equal(fetched.status, 200, asset);
      const extension = asset.slice(asset.lastIndexOf('.'));
      assert.match(fetched.headers.get('content-type') ?? '', expectedTypes[extension]!, asset);
      assert.ok((await fetched.arrayBuffer()).byteLength > 0, asset);
    }
    const initializer = await (await fetch(`${stack.baseUrl}/docs/assets/vigil-docs.js`)).text();
    assert.match(initializer, /url: '\/openapi\.json'/);
    assert.match(initializer, /validatorUrl: null/);
    // Only the page's own files: nothing else of the package (or the disk) is reachable.
    for (const other of ['package.json', '..%2Fpackage.json', 'index.html']) {
      const refused = await api(stack.baseUrl, `/docs/assets/${other}`);
      assert.equal(refused.status, 404, other);
      assert.equal(refused.body.error?.code, 'NOT_FOUND');
    }
  });
});
