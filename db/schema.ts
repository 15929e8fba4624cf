import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { JobKind, JobStatus } from '../domain/job-kinds.js';
import type { Detection } from '../domain/types.js';

export type { JobKind, JobStatus };

/** Table types for kysely. Every tenant-owned table carries `account_id`; repositories filter on it. */

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export type TokenRole = 'user' | 'admin';

export interface AccountsTable {
  id: Generated<string>;
  name: string;
  created_at: CreatedAt;
}

export interface ApiTokensTable {
  id: Generated<string>;
  account_id: string;
  token_hash: string;
  /** First characters of the token, so operators can tell tokens apart without the secret. */
  token_prefix: string;
  role: TokenRole;
  created_at: CreatedAt;
  revoked_at: Timestamp | null;
}

export interface UserGroupsTable {
  id: Generated<string>;
  account_id: string;
  external_id: string;
  name: string;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface SitesTable {
  id: Generated<string>;
  account_id: string;
  group_id: string;
  external_id: string;
  name: string;
  category: string;
  address: string | null;
  /** IANA zone resolved from `address`, cached so the lookup runs once per address. */
  timezone: string | null;
  timezone_address: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface CamerasTable {
  id: Generated<string>;
  account_id: string;
  site_id: string;
  external_id: string;
  name: string;
  /** When the camera last had an alarm accepted: the per-camera cooldown. */
  last_alarm_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface AlarmRequest {
  group_id: string;
  site_id: string;
  zone_id: string;
  group_name: string | null;
  site_name: string | null;
  zone_name: string | null;
  site_category: string;
  site_address: string | null;
  timestamp: string | null;
  detection_sensitive_level: 0 | 1 | 2;
}

export interface AlarmServerResult {
  crime_rate: 0 | 1 | 2;
  has_motion: boolean;
  has_person: boolean;
  has_vehicle: boolean;
  ai_analysis_called: boolean;
  ai_analysis_time: number;
  ai_engine: string;
  ai_decision_method: string;
  ai_decision_time: string;
  ai_description: string;
  ai_decision: string;
  ai_decision_indicators: string[];
}

/** A video submission as its job keeps it: where the upload is and what probing found. */
export interface VideoRequest {
  media_key: string;
  container: string;
  codec: string;
  width: number;
  height: number;
  fps: number;
  duration_s: number;
  frame_count: number;
  bytes: number;
}

export interface TimeSegment {
  start_seconds: number;
  end_seconds: number;
}

/** One section of a video, tagged by what happens in it (spec 2). */
export interface VideoSection {
  section_tag: string;
  time_segments: TimeSegment[];
  thumbnail_timestamp: number;
  confidence: number;
  is_critical: boolean;
  relative_activity: number;
}

/** A finished video's `result` (spec 2). */
export interface VideoResult {
  raw_scenes: TimeSegment[];
  frame_activity_diffs: number[];
  person_constellation_scenes: { time_segment: TimeSegment; person_ids: unknown[] }[];
  ocr_results: { language_code?: string; full_text: string; time_segment?: TimeSegment }[];
  sections: VideoSection[];
}

export interface JobError {
  code: string;
  message: string;
}

/**
 * The request and result JSON each kind stores in `jobs`. A new kind adds its entry here; `TypedJob<K>`
 * gives a repository's caller the row with that kind's documents.
 */
export interface JobDocuments {
  alarm: { request: AlarmRequest; result: AlarmServerResult };
  video: { request: VideoRequest; result: VideoResult };
}
export type DocumentedJobKind = keyof JobDocuments & JobKind;

export interface JobsTable {
  id: string;
  account_id: string;
  kind: JobKind;
  /** The camera that raised the job, for kinds that have one (alarms). */
  camera_id: string | null;
  status: JobStatus;
  stage: string;
  /** The sender's id of the event, for kinds that have one; unique per camera. */
  vendor_event_id: string | null;
  request: Json<JobDocuments[DocumentedJobKind]['request']>;
  vendor_time: string | null;
  site_timezone: string | null;
  result: Json<JobDocuments[DocumentedJobKind]['result']> | null;
  error: Json<JobError> | null;
  created_at: CreatedAt;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
}

export interface FramesTable {
  id: Generated<string>;
  account_id: string;
  job_id: string;
  frame_index: number;
  name: string;
  media_key: string;
  format: string;
  width: number;
  height: number;
  bytes: number;
  activity_diff: number | null;
  created_at: CreatedAt;
}

export interface DetectionsTable {
  id: Generated<string>;
  account_id: string;
  /** Null for a detection created through the bulk API: no alarm job or stored frame behind it. */
  job_id: string | null;
  frame_id: string | null;
  /**
   * Null for a detection of a video (no camera behind it). Read as a string: the detections API reads rows
   * joined to their camera, and the video routes read none of it.
   */
  camera_id: ColumnType<string, string | null, string | null>;
  frame_index: number;
  category: string;
  label: string;
  score: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** False when a nuisance filter removed it; `filtered_by` names the filter. */
  kept: boolean;
  filtered_by: string | null;
  created_at: CreatedAt;
  /** Millisecond precision, so an API cursor holding it round-trips through a JavaScript Date. */
  detected_at: ColumnType<Date, Date | string | undefined, Date | string>;
  media_type: ColumnType<MediaType, MediaType | undefined, MediaType>;
  /** Given by bulk creation; alarm detections point at their stored frame instead. */
  file_path: string | null;
  file_type: string | null;
  /** Kept by a trigger: the event's decision indicators for alarm detections, as given for bulk ones. */
  labels: ColumnType<string[], string[] | undefined, string[]>;
  /** Full-text document kept by a trigger (object type, camera and site names, event text). */
  search: ColumnType<string, never, never>;
  /** For a detection of a video: the time of the frame that shows it best, and the clip's duration, codec and size. */
  video_timestamp_s: ColumnType<number | null, number | null | undefined, number | null>;
  video_duration_s: ColumnType<number | null, number | null | undefined, number | null>;
  video_codec: ColumnType<string | null, string | null | undefined, string | null>;
  video_bytes: ColumnType<string | null, number | null | undefined, number | null>;
}

export type MediaType = 'image' | 'video';

/** One GCRA token bucket per key (limit + API token). */
export interface RateLimitsTable {
  key: string;
  theoretical_arrival: Timestamp;
}

export interface ExportLocksTable {
  token_id: string;
  job_id: string;
  locked_until: Timestamp;
}

export type WebhookTrigger = 'completion' | 'redelivery';
export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/** Where a job's webhook goes: the account's default (`job_id` null) or the job's own target. */
export interface WebhookTargetsTable {
  id: Generated<string>;
  account_id: string;
  job_id: string | null;
  url: string;
  /**
   * Kept to sign deliveries, sealed under the key `secret_key_id` names (domain/secret-keyring.ts); never
   * returned by the API nor logged. Without a key id it is plain text stored before sealing, until sealed.
   */
  secret: string | null;
  secret_key_id: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

/** One payload sent to one target: the outcome when the job ends, or a redelivery the owner asked for. */
export interface WebhookDeliveriesTable {
  id: string;
  account_id: string;
  job_id: string;
  /** The target read at each attempt; null once that target was removed. */
  target_id: string | null;
  /** `X-Webhook-Id`: the same for every delivery of one job's outcome. */
  webhook_id: string;
  event_type: string;
  trigger: WebhookTrigger;
  /** The exact body sent (and signed) at every attempt. */
  payload: string;
  status: Generated<WebhookDeliveryStatus>;
  created_at: CreatedAt;
  finished_at: Timestamp | null;
}

/** One HTTP request of a delivery. */
export interface WebhookAttemptsTable {
  id: Generated<string>;
  account_id: string;
  delivery_id: string;
  attempt: number;
  url: string | null;
  attempted_at: Timestamp;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
}

/**
 * A claimed `Idempotency-Key`: the same key with the same request within its lifetime answers the job the
 * request created or, for a request that creates no job, the answer it was given. Exactly one of the two is set.
 */
export interface IdempotencyKeysTable {
  account_id: string;
  key: string;
  /** sha256 of the request as the command saw it (fields and content), to tell a retry from a reuse. */
  request_hash: string;
  job_id: string | null;
  answer: Json<unknown> | null;
  /** Renewed when an expired claim of the key is replaced. */
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** A finished detection chunk of a video job: a retried or resumed job skips it. */
export interface VideoChunksTable {
  job_id: string;
  chunk_index: number;
  account_id: string;
  start_s: number;
  end_s: number;
  frame_count: number;
  detection_count: number;
  created_at: CreatedAt;
}

/** A frame of a video sampled for detection, with what was detected in it. */
export interface VideoFramesTable {
  job_id: string;
  timestamp_s: number;
  account_id: string;
  chunk_index: number;
  width: number;
  height: number;
  mean_luma: number;
  /** Boxes in the video's pixels. */
  detections: Json<Detection[]>;
}

/** A video's shot cuts and its activity per sampled frame. */
export interface VideoMotionTable {
  job_id: string;
  account_id: string;
  scenes: Json<TimeSegment[]>;
  activity: Json<{ timestampS: number; value: number }[]>;
  created_at: CreatedAt;
}

export interface Database {
  accounts: AccountsTable;
  api_tokens: ApiTokensTable;
  user_groups: UserGroupsTable;
  sites: SitesTable;
  cameras: CamerasTable;
  jobs: JobsTable;
  frames: FramesTable;
  detections: DetectionsTable;
  export_locks: ExportLocksTable;
  rate_limits: RateLimitsTable;
  webhook_targets: WebhookTargetsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  idempotency_keys: IdempotencyKeysTable;
  video_chunks: VideoChunksTable;
  video_frames: VideoFramesTable;
  video_motion: VideoMotionTable;
}

export type Job = Selectable<JobsTable>;
/** A job row known to be of kind `K`, with that kind's request and result types. */
export type TypedJob<K extends DocumentedJobKind> = Omit<Job, 'kind' | 'request' | 'result'> & {
  kind: K;
  request: JobDocuments[K]['request'];
  result: JobDocuments[K]['result'] | null;
};
export type Frame = Selectable<FramesTable>;
export type NewFrame = Insertable<FramesTable>;
