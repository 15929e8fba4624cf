import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { maxProcessingSecondsLimit } from '../domain/processing-time.js';
import { defaultBusinessHours, type BusinessHours } from '../domain/decision.js';
import { siteCategories, type SiteCategory } from '../domain/types.js';
import { filterOverridesSchema } from '../domain/filters.js';
import { secretKeyBytes } from '../domain/secret-keyring.js';
import { embeddedPostgresUrl } from '../db/embedded.js';
import { sectionTags } from '../domain/video/summary.js';

/** The one place where Vigil reads its environment. Every other module receives a `Config`. */

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const positiveSeconds = z.coerce.number().positive();
const boolFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

export const detectorModels = ['yolox_nano_416_coco', 'picodet_s_416_coco'] as const;
export type DetectorModelName = (typeof detectorModels)[number];

/** `SECRETS_KEYS`: base64 keys of 32 bytes, comma-separated; the first seals, all open. */
export const secretKeysSchema = z.string().transform((text, ctx) => {
  const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  const keys = entries.map((entry) => Buffer.from(entry, 'base64'));
  if (entries.length === 0 || keys.some((key, index) => key.byteLength !== secretKeyBytes || key.toString('base64') !== entries[index])) {
    ctx.addIssue({ code: 'custom', message: `expected base64 keys of ${secretKeyBytes} bytes, comma-separated (openssl rand -base64 ${secretKeyBytes})` });
    return z.NEVER;
  }
  return keys;
});

const envSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().min(1).default('.data'),

  API_HOST: z.string().min(1).default('0.0.0.0'),
  API_PORT: port.default(8080),
  METRICS_HOST: z.string().min(1).default('0.0.0.0'),
  WORKER_METRICS_PORT: port.default(9464),
  GPU_WORKER_METRICS_PORT: port.default(9465),
  API_HEADERS_TIMEOUT_S: positiveSeconds.default(10),
  API_REQUEST_TIMEOUT_S: positiveSeconds.default(120),
  API_UPLOAD_MEMORY_BYTES: positiveInt.default(512 * 1024 * 1024),
  MAX_IMAGE_BYTES: positiveInt.default(15 * 1024 * 1024),
  MAX_VIDEO_BYTES: positiveInt.default(2 * 1024 * 1024 * 1024),
  MAX_VIDEO_SECONDS: positiveSeconds.default(3600),
  VIDEO_SAMPLE_FPS: z.coerce.number().positive().max(30).default(2),
  VIDEO_CHUNK_S: positiveSeconds.default(10),
  VIDEO_CRITICAL_TAGS: z
    .string()
    .default('')
    .transform((list) => list.split(',').map((tag) => tag.trim()).filter(Boolean))
    .pipe(z.array(z.enum(sectionTags))),
  ALARM_COOLDOWN_S: z.coerce.number().int().min(0).default(30),
  EXPORT_LOCK_S: z.coerce.number().int().min(0).default(600),
  MAX_PROCESSING_TIME_S: z.coerce.number().int().min(0).max(maxProcessingSecondsLimit).default(0),
  MEDIA_RATE_LIMIT_PER_MIN: positiveInt.default(30),
  BULK_RATE_LIMIT_PER_MIN: positiveInt.default(10),
  BULK_RATE_LIMIT_BURST: positiveInt.default(2),
  RESULT_RETENTION_DAYS: positiveInt.default(30),
  MAX_BATCH_IMAGES: positiveInt.default(100),
  MAX_BATCH_BODY_BYTES: positiveInt.default(64 * 1024 * 1024),
  IMAGE_TAG_MIN_PROBABILITY: z.coerce.number().min(0).max(1).default(0.3),
  LATENCY_WINDOW_HOURS: positiveInt.default(24),
  LATENCY_MAX_JOBS: positiveInt.default(500),

  WEBHOOK_ALLOW_PRIVATE: boolFlag.default(false),
  WEBHOOK_MAX_ATTEMPTS: positiveInt.max(100).default(10),
  WEBHOOK_INITIAL_INTERVAL_S: z.coerce.number().positive().default(5),
  WEBHOOK_MAX_INTERVAL_S: z.coerce.number().positive().default(600),
  WEBHOOK_TIMEOUT_S: z.coerce.number().positive().max(300).default(10),

  DATABASE_URL: z.string().url().optional(),
  EMBEDDED_PG_PORT: port.default(5433),

  TEMPORAL_ADDRESS: z.string().min(1).default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS: boolFlag.default(false),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  TEMPORAL_UI_PORT: port.default(8233),
  TASK_QUEUE_ANALYSIS: z.string().min(1).default('vigil-analysis'),
  TASK_QUEUE_DETECT: z.string().min(1).default('vigil-detect'),
  ANALYSIS_CONCURRENCY: positiveInt.default(8),
  WORKER_NICE: z.coerce.number().int().min(0).max(19).default(10),

  VIGIL_OFFLINE: boolFlag.default(false),
  DOWNLOAD_MIRRORS: z
    .string()
    .default('')
    .transform((list) => list.split(',').map((url) => url.trim()).filter(Boolean))
    .pipe(z.array(z.url({ protocol: /^https?$/ }))),
  DOWNLOAD_TIMEOUT_S: positiveSeconds.default(30),

  MEDIA_DIR: z.string().min(1).optional(),
  MEDIA_STORE: z.enum(['filesystem', 's3']).default('filesystem'),
  S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  S3_BUCKET: z.string().min(3).max(63).optional(),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_FORCE_PATH_STYLE: boolFlag.optional(),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  MODELS_DIR: z.string().min(1).optional(),
  DETECTOR_MODEL: z.enum(detectorModels).default('yolox_nano_416_coco'),
  DETECTOR_DEVICE: z
    .string()
    .regex(/^(cpu|cuda(:\d+)?)$/, 'expected cpu, cuda or cuda:N')
    .default('cpu'),
  DETECTOR_THREADS: z.coerce.number().int().min(0).default(0),
  // Two: while one event waits between its passes or for its next task, the other keeps both sessions busy (BENCHMARKS.md).
  DETECTOR_CONCURRENCY: positiveInt.default(2),
  DETECTOR_SESSIONS: positiveInt.default(2),
  DETECTOR_CASCADE_MODEL: z.enum(['none', ...detectorModels]).default('picodet_s_416_coco'),
  DETECTOR_PALETTE_TO_LUMINANCE: boolFlag.default(true),
  DETECTOR_TILING: boolFlag.default(true),
  DETECTOR_THERMAL: boolFlag.default(true),
  DETECTOR_EVERY_OTHER_CHANGE: boolFlag.default(true),
  FILTER_OVERRIDES: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'expected a JSON object' });
        return z.NEVER;
      }
    })
    .pipe(filterOverridesSchema)
    .optional(),

  LLM_BASE_URL: z.string().url().optional(),
  LLM_MODEL: z.string().min(1).optional(),
  LLM_API_KEY: z.string().min(1).optional(),
  LLM_TIMEOUT_S: positiveSeconds.default(30),
  LLM_FALLBACK_BASE_URL: z.string().url().optional(),
  LLM_FALLBACK_MODEL: z.string().min(1).optional(),
  LLM_FALLBACK_API_KEY: z.string().min(1).optional(),
  LLM_MAX_ATTEMPTS: positiveInt.default(3),
  LLM_RETRY_INITIAL_S: positiveSeconds.default(1),
  LLM_RETRY_MAX_S: positiveSeconds.default(10),
  LLM_CONFIRM_BELOW: z.coerce.number().min(0).max(1).default(0.6),
  LLM_BREAKER_FAILURES: positiveInt.default(3),
  LLM_BREAKER_COOLDOWN_S: positiveSeconds.default(60),
  BUSINESS_HOURS: z.string().default(''),
  CLASSIFY_SYNC_WAIT_S: positiveSeconds.max(120).default(10),
  CLASSIFY_SAMPLE_FPS: positiveSeconds.max(30).default(3),
  CLASSIFY_FRAME_WIDTH: positiveInt.min(64).max(1920).default(640),
  CLASSIFY_MAX_FRAMES: positiveInt.min(2).max(120).default(60),
  CLASSIFY_MAX_CLIP_BYTES: positiveInt.default(100 * 1024 * 1024),
  SECRETS_KEYS: secretKeysSchema.optional(),
  VMS_REVERIFY_S: positiveSeconds.default(10),
  VMS_OFFLINE_AFTER_S: positiveSeconds.default(120),
  VMS_SNAPSHOT_WAIT_S: positiveSeconds.default(60),
  VMS_MAX_EVENT_BYTES: positiveInt.default(16 * 1024 * 1024),
});

export type DetectorDevice = { kind: 'cpu' } | { kind: 'cuda'; deviceId: number };

/** One OpenAI-compatible chat-completions server and the vision model to ask there. */
export interface LlmEndpoint {
  /** Up to and including the API version, e.g. `http://localhost:11434/v1`. */
  baseUrl: string;
  model: string;
  apiKey: string | undefined;
}

/** Every setting, once: declared and validated in `envSchema` above, shaped for the code here (its type is `Config`). */
export type Config = ReturnType<typeof loadConfig>;
export type LlmConfig = Config['llm'];
export type WebhookConfig = Config['webhooks'];
export type DownloadConfig = Config['downloads'];

export class ConfigError extends Error {}

function parseDevice(value: string): DetectorDevice {
  if (value === 'cpu') return { kind: 'cpu' };
  const [, id] = value.split(':');
  return { kind: 'cuda', deviceId: id === undefined ? 0 : Number(id) };
}

type ParsedEnv = z.infer<typeof envSchema>;

/** The secondary may share the primary's server and key: only its model is required. */
function llmConfigOf(e: ParsedEnv) {
  const problems: string[] = [];
  if (e.LLM_BASE_URL && !e.LLM_MODEL) problems.push('  LLM_MODEL: required when LLM_BASE_URL is set');
  if (!e.LLM_BASE_URL && (e.LLM_MODEL || e.LLM_FALLBACK_MODEL || e.LLM_FALLBACK_BASE_URL)) {
    problems.push('  LLM_BASE_URL: required when another LLM_ model setting is set');
  }
  if (e.LLM_FALLBACK_BASE_URL && !e.LLM_FALLBACK_MODEL) problems.push('  LLM_FALLBACK_MODEL: required when LLM_FALLBACK_BASE_URL is set');
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  const primary: LlmEndpoint | null = e.LLM_BASE_URL && e.LLM_MODEL ? { baseUrl: e.LLM_BASE_URL, model: e.LLM_MODEL, apiKey: e.LLM_API_KEY } : null;
  const secondary: LlmEndpoint | null =
    primary && e.LLM_FALLBACK_MODEL
      ? {
          baseUrl: e.LLM_FALLBACK_BASE_URL ?? primary.baseUrl,
          model: e.LLM_FALLBACK_MODEL,
          apiKey: e.LLM_FALLBACK_API_KEY ?? (e.LLM_FALLBACK_BASE_URL ? undefined : primary.apiKey),
        }
      : null;
  return {
    /** null: no LLM, the local rules decide. */
    primary,
    secondary,
    /** One HTTP call to a model. */
    timeoutSeconds: e.LLM_TIMEOUT_S,
    /** Attempts per model and alarm (Temporal retry policy), backing off exponentially between them. */
    maxAttempts: e.LLM_MAX_ATTEMPTS,
    retryInitialSeconds: e.LLM_RETRY_INITIAL_S,
    retryMaxSeconds: e.LLM_RETRY_MAX_S,
    /** A secondary answer less confident than this goes to the primary for confirmation (C21). */
    confirmBelowConfidence: e.LLM_CONFIRM_BELOW,
    /** Consecutive failed calls to one model that open its circuit breaker, and how long it stays open. */
    breakerFailures: e.LLM_BREAKER_FAILURES,
    breakerCooldownSeconds: e.LLM_BREAKER_COOLDOWN_S,
  };
}

const businessHoursEntry = /^([a-z_]+)=(?:(none)|(\d{1,2})-(\d{1,2}))$/;

/** `retail=9-21,office=7-19,residence=none`: whole local hours, a close before the open runs past midnight. */
function businessHoursOf(value: string): Record<SiteCategory, BusinessHours | null> {
  const hours = { ...defaultBusinessHours };
  for (const entry of value.split(',').map((part) => part.trim()).filter(Boolean)) {
    const match = businessHoursEntry.exec(entry);
    const category = match?.[1] as SiteCategory | undefined;
    const [open, close] = [Number(match?.[3]), Number(match?.[4])];
    const valid = category && siteCategories.includes(category) && (match?.[2] || (open < 24 && close > 0 && close <= 24 && open !== close));
    if (!valid) {
      throw new ConfigError(`Invalid configuration:\n  BUSINESS_HOURS: "${entry}" is not <site category>=<open>-<close> (hours 0–24) or <site category>=none`);
    }
    hours[category] = match?.[2] ? null : { open, close };
  }
  return hours;
}

/**
 * Where media live: a directory every role shares (one host, or a shared volume), or an S3 bucket. S3 credentials
 * are S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY when set, else the AWS SDK's own chain (AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance or pod role).
 */
function mediaStoreOf(e: ParsedEnv, mediaDir: string) {
  if (e.MEDIA_STORE === 'filesystem') return { kind: 'filesystem' as const, dir: mediaDir };
  const problems: string[] = [];
  if (!e.S3_BUCKET) problems.push('  S3_BUCKET: required when MEDIA_STORE=s3');
  if (Boolean(e.S3_ACCESS_KEY_ID) !== Boolean(e.S3_SECRET_ACCESS_KEY)) problems.push('  S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: set both or neither');
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  return {
    kind: 's3' as const,
    bucket: e.S3_BUCKET!,
    region: e.S3_REGION,
    /** undefined: AWS S3 itself. */
    endpoint: e.S3_ENDPOINT,
    /** `<endpoint>/<bucket>/<key>` rather than `<bucket>.<endpoint>/<key>`: what most S3-compatible servers expect. */
    forcePathStyle: e.S3_FORCE_PATH_STYLE ?? e.S3_ENDPOINT !== undefined,
    /** undefined: the AWS SDK's default credential chain. */
    credentials: e.S3_ACCESS_KEY_ID && e.S3_SECRET_ACCESS_KEY ? { accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY } : undefined,
  };
}

export type MediaStoreConfig = ReturnType<typeof mediaStoreOf>;

export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  return {
    logLevel: e.LOG_LEVEL,
    api: {
      host: e.API_HOST,
      port: e.API_PORT,
      /** How long a request's headers may take to arrive; Node refuses a limit longer than the whole request's. */
      headersTimeoutSeconds: Math.min(e.API_HEADERS_TIMEOUT_S, e.API_REQUEST_TIMEOUT_S),
      /** How long a whole request, headers and body, may take to arrive. */
      requestTimeoutSeconds: e.API_REQUEST_TIMEOUT_S,
      /** Bytes of request bodies the API holds in memory at once, across all requests. */
      uploadMemoryBytes: e.API_UPLOAD_MEMORY_BYTES,
      maxImageBytes: e.MAX_IMAGE_BYTES,
      alarmCooldownSeconds: e.ALARM_COOLDOWN_S,
      exportLockSeconds: e.EXPORT_LOCK_S,
      /** Max-Processing-Time of a submission that sends no header; 0: no limit. */
      maxProcessingSeconds: e.MAX_PROCESSING_TIME_S,
      /** Per API token, held in PostgreSQL: detection media (thumbnails, images, video) and bulk operations. */
      rateLimits: {
        media: { perMinute: e.MEDIA_RATE_LIMIT_PER_MIN, burst: e.MEDIA_RATE_LIMIT_PER_MIN },
        bulk: { perMinute: e.BULK_RATE_LIMIT_PER_MIN, burst: e.BULK_RATE_LIMIT_BURST },
      },
    },
    database: {
      /** DATABASE_URL, or the embedded PostgreSQL that `npm start` runs when it is unset. */
      url: e.DATABASE_URL ?? embeddedPostgresUrl(e.EMBEDDED_PG_PORT),
      embedded: e.DATABASE_URL === undefined,
      embeddedPort: e.EMBEDDED_PG_PORT,
      embeddedDir: path.join(dataDir, 'postgres'),
    },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      apiKey: e.TEMPORAL_API_KEY,
      tls: e.TEMPORAL_TLS,
      cliPath: e.TEMPORAL_CLI_PATH,
      uiPort: e.TEMPORAL_UI_PORT,
      devServerDbFile: path.join(dataDir, 'temporal.sqlite'),
      analysisTaskQueue: e.TASK_QUEUE_ANALYSIS,
      detectTaskQueue: e.TASK_QUEUE_DETECT,
      analysisConcurrency: e.ANALYSIS_CONCURRENCY,
    },
    /** What `npm start`, the detection worker and `npm run models` may fetch: the models and the Temporal CLI. */
    downloads: {
      /** Nothing is downloaded; a missing model or CLI stops with how to place it by hand. */
      offline: e.VIGIL_OFFLINE,
      /** Base URLs serving the files by name, tried in order instead of the public URLs; empty: the public URLs. */
      mirrors: e.DOWNLOAD_MIRRORS,
      /** A download that receives nothing for this long is abandoned for the next URL. */
      idleTimeoutSeconds: e.DOWNLOAD_TIMEOUT_S,
    },
    mediaDir: path.resolve(e.MEDIA_DIR ?? path.join(dataDir, 'media')),
    /** MEDIA_STORE: `filesystem` (MEDIA_DIR) or `s3` (S3_BUCKET at S3_ENDPOINT); `media/create-store.ts` opens it. */
    mediaStore: mediaStoreOf(e, path.resolve(e.MEDIA_DIR ?? path.join(dataDir, 'media'))),
    /** Days an ended job (result, detections, media, deliveries) is kept before the retention schedule erases it. */
    resultRetentionDays: e.RESULT_RETENTION_DAYS,
    /**
     * Niceness the analysis and detection workers lower themselves to (0: left as started): on shared cores the API,
     * PostgreSQL and the Temporal server, which answer requests, run first (bin/process-priority.ts).
     */
    workerNice: e.WORKER_NICE,
    /** Where each worker serves its GET /metrics (the API serves it on its own port); port 0: not served. */
    metrics: { host: e.METRICS_HOST, workerPort: e.WORKER_METRICS_PORT, gpuWorkerPort: e.GPU_WORKER_METRICS_PORT },
    detector: {
      modelsDir: path.resolve(e.MODELS_DIR ?? path.join(dataDir, 'models')),
      model: e.DETECTOR_MODEL,
      device: parseDevice(e.DETECTOR_DEVICE),
      /** Per session, at least 1: DETECTOR_THREADS, or the CPU cores shared among the sessions. */
      intraOpThreads: e.DETECTOR_THREADS || Math.max(1, Math.floor(os.availableParallelism() / e.DETECTOR_SESSIONS)),
      concurrency: e.DETECTOR_CONCURRENCY,
      /** Sessions per model, each on its own thread. */
      sessions: e.DETECTOR_SESSIONS,
      /** Re-detects an event in which `model` saw no person; null: never (the same model again would only repeat its own answer). */
      cascadeModel: e.DETECTOR_CASCADE_MODEL === 'none' || e.DETECTOR_CASCADE_MODEL === e.DETECTOR_MODEL ? null : e.DETECTOR_CASCADE_MODEL,
      /** Thermal pseudo-colour frames go to the model as luminance. */
      paletteToLuminance: e.DETECTOR_PALETTE_TO_LUMINANCE,
      /** Detects an event in which no model saw a person again, `model` over 2 x 2 tiles of each frame. */
      tiling: e.DETECTOR_TILING,
      /** Thermal frames (grey or pseudo-colour) of an event in which no pass saw a person are looked at black-hot, in 3 x 3 tiles. */
      thermal: e.DETECTOR_THERMAL,
      /**
       * The cascade and the tiled pass look at every other changed frame of an event of more than 4 frames first
       * (gpu-worker/changed-frames.ts); false: at every changed frame, for sites where a person seen in one frame
       * of 8 counts (sensitivity 0–1, persistence 1).
       */
      everyOtherChange: e.DETECTOR_EVERY_OTHER_CHANGE,
    },
    imageBatches: {
      /** Images one POST /api/v1/images may hold. */
      maxImages: e.MAX_BATCH_IMAGES,
      /** Bytes of its JSON body (the images in base64), refused 413 beyond. */
      maxBodyBytes: e.MAX_BATCH_BODY_BYTES,
      /** Tags less probable than this are left out of an item's result. */
      tagMinProbability: e.IMAGE_TAG_MIN_PROBABILITY,
    },
    /** GET /api/v1/latency measures the jobs that finished within `hours`, at most the `maxJobs` latest. */
    latency: { hours: e.LATENCY_WINDOW_HOURS, maxJobs: e.LATENCY_MAX_JOBS },
    /** Clip classification (POST /api/classify). */
    classification: {
      /** How long `?sync=true` waits for the result before answering the accepted document. */
      syncWaitSeconds: e.CLASSIFY_SYNC_WAIT_S,
      /** Clips are sampled at this rate, at most this wide, into at most this many frames (fewer a second for long clips). */
      sampling: { fps: e.CLASSIFY_SAMPLE_FPS, width: e.CLASSIFY_FRAME_WIDTH, maxFrames: e.CLASSIFY_MAX_FRAMES },
      maxClipBytes: e.CLASSIFY_MAX_CLIP_BYTES,
    },
    video: {
      /** The largest video upload, refused (413) as soon as the bytes received pass it. */
      maxBytes: e.MAX_VIDEO_BYTES,
      /** The longest video accepted, by its probed duration. */
      maxSeconds: e.MAX_VIDEO_SECONDS,
      /** Frames per second of video sampled for detection (and for `frame_activity_diffs`). */
      sampleFps: e.VIDEO_SAMPLE_FPS,
      /** Seconds of video per detection activity: a worker lost mid-video costs at most one chunk. */
      chunkSeconds: e.VIDEO_CHUNK_S,
      /** Section tags critical wherever they occur, beyond those always critical (weapons, people at night). */
      criticalTags: e.VIDEO_CRITICAL_TAGS,
    },
    /** Nuisance-filter and frame-quality settings over the per-site-category defaults. */
    filterOverrides: e.FILTER_OVERRIDES ?? {},
    llm: llmConfigOf(e),
    /** Local opening hours per site category, the defaults with BUSINESS_HOURS over them; null: none. */
    businessHours: businessHoursOf(e.BUSINESS_HOURS),
    secrets: {
      /** Seal and open webhook secrets at rest; empty when SECRETS_KEYS is unset. */
      keys: e.SECRETS_KEYS ?? [],
      /** Where `npm start` with its embedded PostgreSQL keeps the key it made, when SECRETS_KEYS is unset. */
      embeddedKeyFile: path.join(dataDir, 'secrets.key'),
    },
    /** VMS events (POST /api/v1/vms/events) and their incidents and cameras. */
    vms: {
      /** An open incident's snapshots are verified again at most this often. */
      reverifySeconds: e.VMS_REVERIFY_S,
      /** A camera silent this long is offline (one camera.offline webhook; camera.online when heard again). */
      offlineAfterSeconds: e.VMS_OFFLINE_AFTER_S,
      /** A snapshot PUT before its event waits this long for it. */
      snapshotWaitSeconds: e.VMS_SNAPSHOT_WAIT_S,
      /** The largest event body (snapshots are base64 inside it). */
      maxEventBytes: e.VMS_MAX_EVENT_BYTES,
    },
    webhooks: {
      /** Lets webhooks reach private, loopback and link-local addresses (tests, closed networks). */
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
      /** One attempt is one HTTP request; the attempts are a Temporal retry policy with exponential backoff. */
      delivery: {
        maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
        initialIntervalSeconds: e.WEBHOOK_INITIAL_INTERVAL_S,
        // Backoff never shrinks below the first interval.
        maxIntervalSeconds: Math.max(e.WEBHOOK_MAX_INTERVAL_S, e.WEBHOOK_INITIAL_INTERVAL_S),
        timeoutSeconds: e.WEBHOOK_TIMEOUT_S,
      },
    },
  };
}

/**
 * The environment handed to child processes (the supervisor's children, the Temporal CLI, `go install`),
 * with `overrides` on top; also where executables are looked up (PATH).
 */
export function inheritedEnv(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...overrides };
}
