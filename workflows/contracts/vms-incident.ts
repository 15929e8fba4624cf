import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { VmsVerdict } from '../../domain/vms-events.js';
import type { JobLifecycleInput, WorkerJobSettings } from './job.js';

/** `vmsIncident(input, carried?)`: one VMS incident, open until an end-of-event message closes it (workflows/vms-incident.ts). */
export interface VmsIncidentInput extends JobLifecycleInput {
  /** Verifications of an open incident are at least this far apart (VMS_REVERIFY_S). */
  reverifySeconds: number;
}

/** What a run hands the next one when it continues as new. */
export interface VmsIncidentCarry {
  settings: WorkerJobSettings;
  /** Events or snapshots arrived that no verification has seen yet. */
  pending: boolean;
  closing: boolean;
  /** Workflow time (ms) of the last verification; null: none yet. */
  lastVerifiedAt: number | null;
  verifications: number;
  /** Whether the confirmed incident was forwarded (once per incident). */
  forwarded: boolean;
}

export interface VmsIncidentOutcome {
  incidentId: string;
  verdict: VmsVerdict | 'missing';
  verifications: number;
}

export interface VmsIncidentState {
  incidentId: string;
  closing: boolean;
  pending: boolean;
  verifications: number;
  lastVerdict: VmsVerdict | null;
}

/** An event joined the incident, or a snapshot was attached to one of its events. */
export const vmsIncidentUpdatedSignal = defineSignal('vmsIncidentUpdated');
/** An end-of-event message with the incident's display name and type arrived. */
export const vmsIncidentCloseSignal = defineSignal('vmsIncidentClose');
export const vmsIncidentStateQuery = defineQuery<VmsIncidentState>('vmsIncidentState');

/** `vmsCameraWatch(input, carried?)`: one VMS camera's online/offline state (workflows/vms-camera-watch.ts). */
export interface VmsCameraWatchInput {
  accountId: string;
  /** The account's camera id (cameras.id). */
  cameraId: string;
  /** Silence after which the camera is offline (VMS_OFFLINE_AFTER_S). */
  offlineAfterSeconds: number;
}

export interface VmsCameraWatchCarry {
  online: boolean;
  settings: WorkerJobSettings;
}

/** A message from the camera arrived. */
export const vmsCameraHeardSignal = defineSignal('vmsCameraHeard');
export const vmsCameraStateQuery = defineQuery<{ online: boolean; transitions: number }>('vmsCameraState');

/** The camera watch's workflow id. */
export function vmsCameraWatchId(cameraId: string): string {
  return `vms-camera-${cameraId}`;
}
