import { randomBytes } from 'node:crypto';
import type { Db } from '../../db/database.js';
import { AccountRepository } from '../../db/repositories/accounts.js';
import { JobRepository, type StoredDetection } from '../../db/repositories/jobs.js';
import { TenancyRepository, type CameraRef } from '../../db/repositories/tenancy.js';
import type { AlarmServerResult } from '../../db/schema.js';
import { hashApiToken } from '../../domain/api-token.js';
import { categoryOfObjectType } from '../../domain/object-types.js';

/**
 * Rows for repository tests, made through the repositories as the API and the activities make them, so a
 * change to what a job needs is one edit here. Names are unique: tests share one database per file.
 */

export interface SeededCamera {
  accountId: string;
  id: string;
  ref: CameraRef;
}

export const frameSize = { width: 768, height: 576 };

const unique = () => randomBytes(6).toString('hex');

export async function seedAccount(db: Db): Promise<string> {
  return new AccountRepository(db).findOrCreate(`account_${unique()}`);
}

/** An API token's id (export locks are per token). */
export async function seedToken(db: Db, accountId: string): Promise<string> {
  const accounts = new AccountRepository(db);
  const hash = hashApiToken(`token_${unique()}`);
  await accounts.addToken(accountId, { hash, prefix: 'vgl_test', role: 'user' });
  return (await accounts.findActiveToken(hash))!.tokenId;
}

/** A camera under group g001 and site site01 unless `ref` says otherwise, with its own zone id. */
export async function seedCamera(db: Db, accountId: string, ref: Partial<CameraRef> = {}): Promise<SeededCamera> {
  const fullRef = { groupId: 'g001', siteId: 'site01', zoneId: `zone_${unique()}`, ...ref };
  return { accountId, id: await new TenancyRepository(db).ensureCamera(accountId, fullRef, 'commercial'), ref: fullRef };
}

/** A queued alarm job of `camera` with `frames` JPEG frames; returns its id. */
export async function seedJob(db: Db, camera: SeededCamera, options: { frames?: number; vendorEventId?: string } = {}): Promise<string> {
  const id = `raw_test_${unique()}`;
  await new JobRepository(db).insert(
    {
      id,
      kind: 'alarm',
      accountId: camera.accountId,
      cameraId: camera.id,
      vendorEventId: options.vendorEventId ?? `event_${unique()}`,
      request: {
        group_id: camera.ref.groupId,
        site_id: camera.ref.siteId,
        zone_id: camera.ref.zoneId,
        group_name: null,
        site_name: null,
        zone_name: null,
        site_category: 'commercial',
        site_address: null,
        timestamp: null,
        detection_sensitive_level: 1,
      },
    },
    Array.from({ length: options.frames ?? 2 }, (_, index) => ({
      frame_index: index,
      name: `frame_0${index}.jpg`,
      media_key: `alarms/${id}/frame_0${index}.jpg`,
      format: 'jpeg',
      ...frameSize,
      bytes: 50_000,
    })),
  );
  return id;
}

export function alarmResult(overrides: Partial<AlarmServerResult> = {}): AlarmServerResult {
  return {
    crime_rate: 1,
    has_motion: true,
    has_person: false,
    has_vehicle: false,
    ai_analysis_called: false,
    ai_analysis_time: 0,
    ai_engine: 'rules',
    ai_decision_method: 'rules',
    ai_decision_time: '2026-11-22T10:00:00Z',
    ai_description: '',
    ai_decision: 'no_threat',
    ai_decision_indicators: [],
    ...overrides,
  };
}

/** A kept detection on frame 0 unless overridden; its category follows its label. */
export function storedDetection(overrides: Partial<StoredDetection> = {}): StoredDetection {
  const label = overrides.label ?? 'person';
  return {
    frameIndex: 0,
    category: categoryOfObjectType(label)!,
    label,
    score: 0.8,
    box: [100, 100, 200, 300],
    kept: true,
    filteredBy: null,
    parked: false,
    ...overrides,
  };
}

export async function finishJob(
  db: Db,
  accountId: string,
  jobId: string,
  detections: StoredDetection[],
  result: AlarmServerResult = alarmResult(),
): Promise<void> {
  await new JobRepository(db).finish(accountId, jobId, { result, activityDiffs: [], detections });
}
