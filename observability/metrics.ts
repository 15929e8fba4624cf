import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric Vigil exports, defined once. Each process builds its own registry with the metrics of its
 * role (API, analysis worker, detection worker) and hands them to the code that observes them; nothing
 * registers into prom-client's global registry.
 */

/** The APIs that accept jobs; a job's metrics carry the one that accepted it. */
export type JobApi = 'alarms' | 'images' | 'classify' | 'vms' | 'videos';

/**
 * The alarm workflow's stages, in order (workflows/alarm-verification.ts): `decide` and `persist` only for an alarm a
 * vision model decides (otherwise `analyse` decides and stores too); `queued` is never observed: nothing runs then.
 */
export const jobStages = ['tenancy', 'detect', 'analyse', 'decide', 'persist'] as const;

/** What one webhook attempt came to: a receiver's answer (`responseOutcome`) or why none came. */
export type WebhookAttemptOutcome = 'delivered' | 'retry' | 'rejected' | 'unreachable' | 'refused' | 'target_removed';

/** One ask of a vision model (an activity attempt, its one repair included): `answered`, or why not. */
export type LlmCallOutcome =
  | 'answered'
  | 'circuit_open'
  | 'timeout'
  | 'rate_limited'
  | 'unavailable'
  | 'unauthorized'
  | 'bad_request'
  | 'bad_response'
  | 'invalid_answer'
  | 'error';

/** What a Temporal worker reports about itself (`Worker.getStatus()`); only what the slot gauges read. */
type WorkerStatus = { numInFlightNonLocalActivities: number; numInFlightLocalActivities: number };

export interface WorkerStatusSource {
  getStatus(): WorkerStatus;
}

/** Seconds, from a few milliseconds (tenancy) to minutes (a detection queued behind a busy worker). */
const stageBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** Seconds per frame: a few ms on a GPU to about a second on a small CPU. */
const frameBuckets = [0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56];

function newRegistry(role: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  // Process CPU, memory, event-loop lag and GC: the first questions about any slow process.
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Slots of a worker's activity executors: how many activities it may run at once and how many run now,
 * for task-queue activities and, apart, for the local activities of its workflows.
 */
function workerSlotMetrics(registry: Registry) {
  const taskQueueWorkers = new Map<string, WorkerStatusSource>();
  const localWorkers = new Map<string, WorkerStatusSource>();
  const gauges = (name: string, what: string, workers: Map<string, WorkerStatusSource>, inFlight: (status: WorkerStatus) => number) => {
    new Gauge({
      name: `vigil_worker_${name}_slots_used`,
      help: `${what} the worker is running now.`,
      labelNames: ['task_queue'] as const,
      registers: [registry],
      collect() {
        for (const [taskQueue, worker] of workers) this.set({ task_queue: taskQueue }, inFlight(worker.getStatus()));
      },
    });
    return new Gauge({ name: `vigil_worker_${name}_slots`, help: `${what} the worker may run at once.`, labelNames: ['task_queue'] as const, registers: [registry] });
  };
  const activitySlots = gauges('activity', 'Task-queue activities (maxConcurrentActivityTaskExecutions)', taskQueueWorkers, (s) => s.numInFlightNonLocalActivities);
  const localSlots = gauges('local_activity', 'Local activities of its workflows (maxConcurrentLocalActivityExecutions)', localWorkers, (s) => s.numInFlightLocalActivities);
  return {
    /** Reports a worker's slots from now on; read at each scrape. Local slots for a worker that runs workflows. */
    trackWorker(worker: WorkerStatusSource, taskQueue: string, maxActivities: number, maxLocalActivities?: number): void {
      taskQueueWorkers.set(taskQueue, worker);
      activitySlots.set({ task_queue: taskQueue }, maxActivities);
      if (maxLocalActivities === undefined) return;
      localWorkers.set(taskQueue, worker);
      localSlots.set({ task_queue: taskQueue }, maxLocalActivities);
    },
  };
}

export function createApiMetrics() {
  const registry = newRegistry('api');
  return {
    registry,
    httpRequests: new Counter({
      name: 'vigil_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    httpRequestDuration: new Histogram({
      name: 'vigil_http_request_duration_seconds',
      help: 'Time from receiving a request to its answer, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    jobsAccepted: new Counter({
      name: 'vigil_jobs_accepted_total',
      help: 'Jobs accepted (answered 202 with a started workflow), by API.',
      labelNames: ['api'] as const,
      registers: [registry],
    }),
    uploadBytesHeld: new Gauge({
      name: 'vigil_api_upload_bytes_held',
      help: 'Bytes of uploads the API holds in memory now, across requests (at most API_UPLOAD_MEMORY_BYTES).',
      registers: [registry],
    }),
  };
}
export type ApiMetrics = ReturnType<typeof createApiMetrics>;

export function createAnalysisWorkerMetrics() {
  const registry = newRegistry('worker');
  return {
    registry,
    jobsEnded: new Counter({
      name: 'vigil_jobs_ended_total',
      help: 'Jobs that ended, by API, job kind and status (finished, failed, cancelled).',
      labelNames: ['api', 'kind', 'status'] as const,
      registers: [registry],
    }),
    stageDuration: new Histogram({
      name: 'vigil_job_stage_duration_seconds',
      help: "Duration of each completed stage of a job as its workflow saw it (queueing and retries included), by API, job kind and stage.",
      labelNames: ['api', 'kind', 'stage'] as const,
      buckets: stageBuckets,
      registers: [registry],
    }),
    webhookAttempts: new Counter({
      name: 'vigil_webhook_attempts_total',
      help: 'Webhook delivery attempts, by outcome.',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    llmCalls: new Counter({
      name: 'vigil_llm_calls_total',
      help: 'Asks of a vision LLM (one activity attempt each), by role (primary, secondary) and outcome.',
      labelNames: ['role', 'outcome'] as const,
      registers: [registry],
    }),
    ...workerSlotMetrics(registry),
  };
}
export type AnalysisWorkerMetrics = ReturnType<typeof createAnalysisWorkerMetrics>;

export function createDetectionWorkerMetrics() {
  const registry = newRegistry('gpu-worker');
  return {
    registry,
    detectorFrameDuration: new Histogram({
      name: 'vigil_detector_frame_duration_seconds',
      help: 'Model inference per frame (pre-processed frame in, decoded boxes out), by model and device.',
      labelNames: ['model', 'device'] as const,
      buckets: frameBuckets,
      registers: [registry],
    }),
    ...workerSlotMetrics(registry),
  };
}
export type DetectionWorkerMetrics = ReturnType<typeof createDetectionWorkerMetrics>;
