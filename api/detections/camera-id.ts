import type { CameraRef } from '../../db/repositories/tenancy.js';
import { identifierPattern } from '../../domain/identifiers.js';

/** A camera in this API is `<group_id>/<site_id>/<zone_id>`: the vendor's identifiers, which never hold a `/`. */

export function formatCameraId(ref: CameraRef): string {
  return `${ref.groupId}/${ref.siteId}/${ref.zoneId}`;
}

export function parseCameraId(value: string): CameraRef | undefined {
  const parts = value.split('/');
  if (parts.length !== 3 || !parts.every((part) => identifierPattern.test(part))) return undefined;
  const [groupId, siteId, zoneId] = parts as [string, string, string];
  return { groupId, siteId, zoneId };
}
