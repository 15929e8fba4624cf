import type { FrameDetections, Sensitivity } from '../domain/types.js';

/** What the API hands the workflow: identifiers and media keys only, never image bytes nor webhook secrets. */
export interface AlarmWorkflowInput {
  jobId: string;
  accountId: string;
  cameraId: string;
  sensitivity: Sensitivity;
  siteCategory: string;
  timestamp: string | null;
  siteAddress: string | null;
  names: { groupName: string | null; siteName: string | null; zoneName: string | null };
  frames: FrameRef[];
  /** Max-Processing-Time in seconds; 0: no limit. */
  maxProcessingSeconds: number;
  /** Whether the job had a webhook target (its own or the account's default) when it was submitted. */
  hasWebhook: boolean;
}

export interface FrameRef {
  index: number;
  key: string;
}

export interface DetectFramesInput {
  jobId: string;
  /** For the detection worker's log lines; callers outside an alarm job may leave it out. */
  accountId?: string;
  frames: FrameRef[];
}

export type DetectFramesResult = FrameDetections[];

export interface StageTiming {
  stage: string;
  startedAt: string;
  durationMs: number | null;
}

export interface AlarmProgress {
  jobId: string;
  stage: string;
  stages: StageTiming[];
}

export interface AlarmOutcome {
  jobId: string;
  crimeRate: 0 | 1 | 2;
  decision: string;
}
