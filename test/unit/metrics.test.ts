import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Router } from '@koa/router';
import type { WorkflowInfo } from '@temporalio/workflow';
import Koa from 'koa';
import { ApiError, errorEnvelope } from '../../api/errors.js';
import { httpMetrics } from '../../api/http-metrics.js';
import { createDetector } from '../../gpu-worker/detector.js';
import { createLogger } from '../../logging/logger.js';
import { openResizable } from '../../media/image.js';
import { observeInference } from '../../gpu-worker/metrics.js';
import { jobMetricsSinks } from '../../observability/job-metrics-sinks.js';
import { createAnalysisWorkerMetrics, createApiMetrics, createDetectionWorkerMetrics } from '../../observability/metrics.js';
import { serveMetrics } from '../../observability/metrics-server.js';
import { modelsDir } from '../support/paths.js';
import { labelValues, sampleValue as sample } from '../support/prometheus.js';

const silent = createLogger('silent', 'test');

describe('HTTP metrics by route pattern', () => {
  const metrics = createApiMetrics();
  let server: Server;
  let baseUrl: string;

  before(async () => {
    const router = new Router({ prefix: '/things' });
    router.get('/:thing_id', (ctx) => {
      ctx.body = { id: ctx.params.thing_id };
    });
    router.get('/:thing_id/broken', () => {
      throw new ApiError(409, 'NOT_READY', 'not yet');
    });
    const app = new Koa();
    app.use(httpMetrics(metrics));
    app.use(errorEnvelope(silent));
    app.use(router.routes()).use(router.allowedMethods());
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('labels requests with the route pattern and the final status, never the path with its ids', async () => {
    for (const path of ['/things/a1', '/things/b2', '/things/c3/broken', '/nothing/here/42']) await (await fetch(baseUrl + path)).arrayBuffer();
    const text = await metrics.registry.metrics();

    assert.equal(sample(text, 'vigil_http_requests_total', { method: 'GET', route: '/things/:thing_id', status: '200' }), 2);
    assert.equal(sample(text, 'vigil_http_requests_total', { route: '/things/:thing_id/broken', status: '409' }), 1);
    assert.equal(sample(text, 'vigil_http_requests_total', { route: 'unmatched', status: '404' }), 1);
    assert.equal(sample(text, 'vigil_http_request_duration_seconds_count', { route: '/things/:thing_id', status: '200' }), 2);
    assert.deepEqual([...labelValues(text, 'route')].sort(), ['/things/:thing_id', '/things/:thing_id/broken', 'unmatched']);
    assert.match(text, /role="api"/);
  });
});

describe('job metrics from the workflow sink', () => {
  const info = (workflowType: string) => ({ workflowType }) as WorkflowInfo;

  it('observes stages and job ends of the alarm workflow under api="alarms" and ignores other workflows', async () => {
    const metrics = createAnalysisWorkerMetrics();
    const sinks = jobMetricsSinks(metrics);
    await sinks.jobMetrics.stageCompleted.fn(info('alarmVerification'), 'detect', 1500);
    await sinks.jobMetrics.stageCompleted.fn(info('alarmVerification'), 'detect', 500);
    await sinks.jobMetrics.jobEnded.fn(info('alarmVerification'), 'finished');
    await sinks.jobMetrics.stageCompleted.fn(info('redeliverAlarmWebhook'), 'detect', 100);
    await sinks.jobMetrics.jobEnded.fn(info('redeliverAlarmWebhook'), 'failed');
    assert.equal(sinks.jobMetrics.stageCompleted.callDuringReplay, false, 'a replayed history is not counted again');

    const text = await metrics.registry.metrics();
    assert.equal(sample(text, 'vigil_job_stage_duration_seconds_count', { api: 'alarms', stage: 'detect' }), 2);
    assert.equal(sample(text, 'vigil_job_stage_duration_seconds_sum', { api: 'alarms', stage: 'detect' }), 2);
    assert.equal(sample(text, 'vigil_job_stage_duration_seconds_bucket', { api: 'alarms', stage: 'detect', le: '1' }), 1);
    assert.equal(sample(text, 'vigil_jobs_ended_total', { api: 'alarms', status: 'finished' }), 1);
    assert.equal(sample(text, 'vigil_jobs_ended_total', { status: 'failed' }), undefined);
  });
});

describe('worker metrics servers', () => {
  it('serves GET /metrics, answers 404 elsewhere, and a port already taken is logged, not thrown', async () => {
    const metrics = createAnalysisWorkerMetrics();
    metrics.webhookAttempts.inc({ outcome: 'delivered' });
    const first = await serveMetrics(metrics.registry, { host: '127.0.0.1', port: 0 }, silent);
    assert.ok(first);
    try {
      const response = await fetch(first.url);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = await response.text();
      assert.equal(sample(text, 'vigil_webhook_attempts_total', { outcome: 'delivered', role: 'worker' }), 1);
      assert.ok(sample(text, 'process_resident_memory_bytes') !== undefined, 'process metrics are collected');
      assert.equal((await fetch(first.url.replace('/metrics', '/other'))).status, 404);

      const port = Number(new URL(first.url).port);
      assert.equal(await serveMetrics(metrics.registry, { host: '127.0.0.1', port }, silent), null);
    } finally {
      await first.close();
    }
  });
});

describe('detector timing', () => {
  it('observes one sample per inferred frame, labelled with the model and device', async () => {
    const metrics = createDetectionWorkerMetrics();
    const onInference = observeInference(metrics);
    const detector = await createDetector({ modelsDir, model: 'yolox_nano_416_coco', device: { kind: 'cpu' }, intraOpThreads: 1, onInference });
    try {
      const frame = await detector.prepare(await openResizable(await readFile(path.join(modelsDir, 'testdata/indoor-person_768x432.png'))));
      const detections = await detector.infer(frame);
      assert.ok(detections.some((d) => d.category === 'person'));
      const text = await metrics.registry.metrics();
      assert.equal(sample(text, 'vigil_detector_frame_duration_seconds_count', { model: 'yolox_nano_416_coco', device: 'cpu', role: 'gpu-worker' }), 1);
      assert.ok(sample(text, 'vigil_detector_frame_duration_seconds_sum', { model: 'yolox_nano_416_coco' })! > 0);
    } finally {
      await detector.release();
    }
  });
});
