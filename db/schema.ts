import type { ColumnType, Generated, GeneratedAlways, Insertable, Selectable } from 'kysely';
import type { JobKind, JobStatus } from '../domain/job-kinds.js';
import type { ClassificationRequest, ClassificationResult } from '../domain/classification/documents.js';
import type { Detection } from '../domain/types.js';
import type { FailureType } from '../domain/failure-types.js';

export type { JobKind, JobStatus };
export type { ClassificationRequest, ClassificationResult };

/** Table types for kysely. Every tenant-owned table carries `account_id`; repositories filter on it. */

type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export type TokenRole = 'user' | 'admin';

export interface AccountsTable {
  id: Generated<string>;
  name: string;
  created_at: CreatedAt;
  /** Face analysis (descriptors, thumbnails, the allowlist) for this account; off until an operator turns it on. */
  face_analysis: Generated<boolean>;
  /** The header (lower case) the account's VMS sends its token in, besides `Authorization: Bearer`. */
  vms_token_header: ColumnType<string | null, string | null | undefined, string | null>;
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
  image_batch: { request: ImageBatchRequest; result: ImageBatchResult };
  classification: { request: ClassificationRequest; result: ClassificationResult };
  vms_incident: { request: VmsIncidentRequest; result: VmsIncidentResult };
  video: { request: VideoRequest; result: VideoResult };
}

/** An image batch's request as its job row keeps it: the images themselves are items (`image_batch_items`). */
export interface ImageBatchRequest {
  /** The batch's unit count for GET /api/v1/latency (`request->>'image_count'`). */
  image_count: number;
}

/** An image batch's outcome on its job row; the per-item results are in `image_batch_items`. */
export interface ImageBatchResult {
  items_finished: number;
  items_failed: number;
}

export type ImageBatchItemStatus = 'queued' | 'finished' | 'failed';

/** One tag of an image, as the API answers it (domain/image-tags.ts makes them). */
export interface StoredImageTag {
  tag: string;
  probability: number;
  is_critical: boolean;
}

/** One image of an image batch and its result. */
export interface ImageBatchItemsTable {
  account_id: string;
  job_id: string;
  item_index: number;
  external_id: string;
  /** Null for an item that failed at submission: it was never stored. */
  media_key: string | null;
  bytes: number;
  status: ImageBatchItemStatus;
  tags: Json<StoredImageTag[]> | null;
  /** Filled by face analysis; `[]` until it runs on image batches. */
  person_ids: ColumnType<unknown[], string | undefined, string>;
  /** Filled by text recognition; `[]` until it runs on image batches. */
  ocr_results: ColumnType<unknown[], string | undefined, string>;
  error: Json<JobError> | null;
  analysed_at: Timestamp | null;
}

/** What opened a VMS incident: its key (camera, alarm configuration, type) as the VMS named them. */
export interface VmsIncidentRequest {
  vms_camera_id: string;
  config_id: string;
  type: string;
  display_name: string;
}

/** The last verification of a VMS incident's snapshots; the indicator and description keys feed detection search. */
export interface VmsIncidentResult {
  verdict: string;
  decision: string | null;
  crime_rate: number | null;
  ai_description: string | null;
  ai_decision_indicators: string[];
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
  /** The row's key; the images drawn for a detection are stored under it. */
  id: Generated<string>;
  /** The id the detections API shows: an integer numbered by PostgreSQL. */
  public_id: GeneratedAlways<number>;
  account_id: string;
  /** Null for a detection created through the bulk API: no alarm job or stored frame behind it. */
  job_id: string | null;
  frame_id: string | null;
  /** Null for a detection of an uploaded video: no camera behind it. */
  camera_id: string | null;
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
  /** Set aside by a relevance filter (a parked vehicle): not counted by the decision, still served as seen. */
  parked: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: CreatedAt;
  /** Millisecond precision, so an API cursor holding it round-trips through a JavaScript Date. */
  detected_at: ColumnType<Date, Date | string | undefined, Date | string>;
  media_type: ColumnType<MediaType, MediaType | undefined, MediaType>;
  /** Given by bulk creation; alarm detections point at their stored frame instead. */
  file_path: string | null;
  file_type: string | null;
  /** Kept by a trigger: the event's decision indicators for alarm detections, as given for bulk ones. */
  labels: ColumnType<string[], string[] | undefined, string[]>;
  /**
   * Full-text document (object type, camera and site names, event text), kept by a trigger; an insert may give it,
   * built as `detection_search_document` builds it (JobRepository.finish: the event's part once for all its rows).
   */
  search: ColumnType<string, string | undefined, never>;
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

/** Risk thresholds of clip classifications: the account's (`camera_id` '') and its cameras'. */
export interface ClassificationThresholdsTable {
  account_id: string;
  camera_id: ColumnType<string, string | undefined, string>;
  low: number;
  high: number;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface VmsCamerasTable {
  camera_id: string;
  account_id: string;
  vms_camera_id: string;
  technical_name: string;
  display_name: string;
  last_seen_at: Timestamp;
  status: ColumnType<'online' | 'offline', 'online' | 'offline' | undefined, 'online' | 'offline'>;
  status_changed_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** Every VMS event received, once per id; `payload` is the body as sent, snapshots left out. */
export interface VmsEventsTable {
  id: Generated<string>;
  account_id: string;
  event_id: string;
  type: string;
  display_name: string;
  config_id: string;
  end_of_event: boolean;
  event_time: Timestamp | null;
  payload: Json<Record<string, unknown>>;
  received_at: CreatedAt;
}

/** A `vms_incident` job's incident: its key, open or closed, and its latest verdict. */
export interface VmsIncidentsTable {
  id: string;
  account_id: string;
  camera_id: string;
  vms_camera_id: string;
  config_id: string;
  type: string;
  display_name: string;
  status: ColumnType<'open' | 'closed', 'open' | 'closed' | undefined, 'open' | 'closed'>;
  verdict: ColumnType<string, string | undefined, string>;
  opened_at: CreatedAt;
  last_event_at: ColumnType<Date, Date | string | undefined, Date | string>;
  verified_at: Timestamp | null;
  verified_frames: ColumnType<number, number | undefined, number>;
  closed_at: Timestamp | null;
  /** Snapshots attached so far: the next one's frame index. */
  snapshots: ColumnType<number, number | undefined, number>;
  /** `snapshots` when the workflow was last told of new ones; above `snapshots_read`, it has not read them yet. */
  snapshots_signalled: ColumnType<number, number | undefined, number>;
  /** `snapshots` when the last verification read its window. */
  snapshots_read: ColumnType<number, number | undefined, number>;
  /** Why the last verification failed; null once one succeeds. */
  verification_error: ColumnType<VmsVerificationError | null, string | null | undefined, string | null>;
}

/** A failed verification of a VMS incident, as its document shows it. */
export interface VmsVerificationError {
  code: typeof FailureType.VerificationFailed;
  message: string;
  failed_at: string;
}

export type VmsSignalName = 'vmsIncidentUpdated' | 'vmsIncidentClose' | 'vmsCameraHeard';

/** A signal a committed VMS event owes a workflow; deleted once sent (`commands/vms-signals.ts`). */
export interface VmsOwedSignalsTable {
  id: GeneratedAlways<number>;
  account_id: string;
  /** The incident's id, or the camera's for its watch. */
  subject_id: string;
  signal: VmsSignalName;
  owed_at: CreatedAt;
}

/** An event's part in an incident: the VMS's boxes and, once it has one, its snapshot's frame. */
export interface VmsIncidentEventsTable {
  incident_id: string;
  event_id: string;
  account_id: string;
  technical_name: string;
  frame_timestamp: Timestamp | null;
  width: number | null;
  height: number | null;
  vms_detections: Json<unknown[]>;
  frame_index: number | null;
}

/** A snapshot PUT before its event arrived, held until the event comes or it expires. */
export interface VmsPendingSnapshotsTable {
  account_id: string;
  event_id: string;
  technical_name: string;
  media_key: string;
  received_at: ColumnType<Date, Date | string | undefined, Date | string>;
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
  image_batch_items: ImageBatchItemsTable;
  classification_thresholds: ClassificationThresholdsTable;
  faces: FacesTable;
  media_faces: MediaFacesTable;
  media_text_lines: MediaTextLinesTable;
  face_allowlist: FaceAllowlistTable;
  face_allowlist_photos: FaceAllowlistPhotosTable;
  vms_cameras: VmsCamerasTable;
  vms_events: VmsEventsTable;
  vms_incidents: VmsIncidentsTable;
  vms_incident_events: VmsIncidentEventsTable;
  vms_pending_snapshots: VmsPendingSnapshotsTable;
  vms_owed_signals: VmsOwedSignalsTable;
  video_chunks: VideoChunksTable;
  video_frames: VideoFramesTable;
  video_motion: VideoMotionTable;
}

/** A face seen in a video's sampled frame or a batch's image, while the result is built; erased with the job. */
export interface MediaFacesTable {
  id: Generated<string>;
  account_id: string;
  job_id: string;
  /** The video's chunk, or the batch's item. */
  part_index: number;
  /** Seconds into the video; 0 for an image. */
  timestamp_s: number;
  frame_width: number;
  frame_height: number;
  /** [x1, y1, x2, y2] in the frame's pixels. */
  box: number[];
  score: number;
  age: number;
  gender: 'male' | 'female' | 'unidentified';
  /** 1024 values (HSE FaceRes; 128 of the dlib ResNet in rows from before it), null while the account's face analysis is off; never logged, never in workflow histories. */
  descriptor: number[] | null;
  /** JPEG of the face, null while face analysis is off. */
  thumbnail: Buffer | null;
}

/** A line of text read in a video's sampled frame or a batch's image; erased with the job. */
export interface MediaTextLinesTable {
  id: Generated<string>;
  account_id: string;
  job_id: string;
  part_index: number;
  timestamp_s: number;
  text: string;
  confidence: number;
  box: number[];
}

/** A face found in a job's media; erased with the job. */
export interface FacesTable {
  id: Generated<string>;
  account_id: string;
  job_id: string;
  media_key: string;
  /** [x1, y1, x2, y2] in the frame's pixels. */
  box: number[];
  score: number;
  age: number;
  gender: 'male' | 'female' | 'unidentified';
  /** 1024 values (HSE FaceRes; 128 of the dlib ResNet in rows from before it); never logged, never in workflow histories. */
  descriptor: number[];
  /** JPEG of the face with a margin. */
  thumbnail: Buffer;
  created_at: CreatedAt;
}

/** A person on an account's face allowlist. */
export interface FaceAllowlistTable {
  id: Generated<string>;
  account_id: string;
  name: string;
  created_at: CreatedAt;
}

/** The descriptor of one photo of an allowlisted person (the photo itself is not kept). */
export interface FaceAllowlistPhotosTable {
  id: Generated<string>;
  account_id: string;
  entry_id: string;
  descriptor: number[];
  /** The model that made the descriptor; only FACE_DESCRIPTOR_MODEL's are compared with faces. */
  descriptor_model: 'dlib-resnet-128' | 'hse-faceres-1024';
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
