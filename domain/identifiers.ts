import type { JobKind } from './job-kinds.js';

/** Vendor identifiers (group, site, zone, account names): safe in URLs, file names and job ids. */
export const identifierPattern = /^[A-Za-z0-9_.-]{1,64}$/;

export interface AlarmJobScope {
  account: string;
  groupId: string;
  siteId: string;
  zoneId: string;
}

/** `raw_{account}_{group}_{site}_{zone}_{12 hex}`; the random part is the caller's, so this stays pure. */
export function alarmJobId(scope: AlarmJobScope, randomHex: string): string {
  if (!/^[0-9a-f]{12}$/.test(randomHex)) throw new Error('alarm job ids need 12 lowercase hex digits');
  return `raw_${scope.account}_${scope.groupId}_${scope.siteId}_${scope.zoneId}_${randomHex}`;
}

/** Frame names as the export documents them: frame_00.jpg, frame_01.png, … */
export function frameName(index: number, extension: string): string {
  return `frame_${String(index).padStart(2, '0')}.${extension}`;
}

export function boxFileName(frame: string): string {
  return frame.replace(/\.[^.]+$/, '_box.json');
}

const idPrefixOfKind: Record<Exclude<JobKind, 'alarm'>, string> = {
  video: 'video_',
  image_batch: 'image_batch_',
  // Clip-classification clients expect the bare 24 hex digits of their API's ids.
  classification: '',
  vms_incident: 'vms_incident_',
};

/** The id of a job of a kind other than alarm (alarm ids carry their camera: `alarmJobId`), from 24 random hex digits. */
export function jobIdOf(kind: Exclude<JobKind, 'alarm'>, randomHex: string): string {
  if (!/^[0-9a-f]{24}$/.test(randomHex)) throw new Error('job ids need 24 lowercase hex digits');
  return `${idPrefixOfKind[kind]}${randomHex}`;
}
