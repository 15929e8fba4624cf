import { randomBytes } from 'node:crypto';
import { JobRepository } from '../db/repositories/jobs.js';
import { TenancyRepository } from '../db/repositories/tenancy.js';
import { WebhookRepository } from '../db/repositories/webhooks.js';
import type { AlarmRequest } from '../db/schema.js';
import { alarmJobId, frameName } from '../domain/identifiers.js';
import { parseVendorTimestamp } from '../domain/local-time.js';
import type { SecretKeyring } from '../domain/secret-keyring.js';
import type { Sensitivity, SiteCategory } from '../domain/types.js';
import { probeImages, type ImageFormat } from '../media/image.js';
import { jobMediaPrefix } from '../media/store.js';
import { VigilGroupId, VigilSiteCategory, VigilSiteId, VigilVendorEventId, VigilZoneId } from '../temporal/search-attributes.js';
import { alarmVerification } from '../workflows/alarm-verification.js';
import type { AlarmWorkflowInput } from '../workflows/contracts/alarm-verification.js';
import { webhookTargetProblem } from './webhook-target.js';
import { acceptJob, requestHash, type AcceptanceDeps, type AcceptanceResult, type Refusal } from './job-acceptance.js';

export interface SubmitAlarmDeps extends AcceptanceDeps {
  cooldownSeconds: number;
  /** Lets webhook targets on private and loopback addresses through (closed networks, tests). */
  allowPrivateWebhooks: boolean;
  /** Seals a webhook secret before it is stored. */
  secrets: SecretKeyring;
}

/** An alarm as its sender describes it: the camera, the event, its frames and how it wants the answer. */
export interface AlarmSubmission {
  account: { accountId: string; accountName: string };
  camera: { groupId: string; siteId: string; zoneId: string };
  names: { groupName: string | null; siteName: string | null; zoneName: string | null };
  siteCategory: SiteCategory;
  vendorEventId: string;
  siteAddress: string | null;
  timestamp: string | null;
  sensitivity: Sensitivity;
  images: Uint8Array[];
  webhook: { url: string; secret: string | null } | null;
  /** 0: no limit. */
  maxProcessingSeconds: number;
  idempotencyKey?: string;
}

export const allowedImageCounts = [4, 6, 8] as const;

export type SubmitAlarmRefusalCode =
  | 'WEBHOOK_TARGET_REFUSED'
  | 'NONEXISTENT_LOCAL_TIME'
  | 'INVALID_IMAGE_COUNT'
  | 'INVALID_IMAGE'
  | 'CAMERA_COOLDOWN'
  | 'IDEMPOTENCY_KEY_REUSED';
export type SubmitAlarmResult = AcceptanceResult<SubmitAlarmRefusalCode>;

const extensionOf: Record<ImageFormat, string> = { jpeg: 'jpg', png: 'png', bmp: 'bmp', webp: 'webp' };

/**
 * Accepts an alarm: stores its frames and job rows and starts its workflow, all or nothing (see `acceptJob`).
 * The same request under the same `Idempotency-Key`, or the same vendor event of the camera again, answers the
 * job already accepted; a camera still in its cooldown is refused.
 */
export async function submitAlarm(deps: SubmitAlarmDeps, submission: AlarmSubmission): Promise<SubmitAlarmResult> {
  const { account, camera, images } = submission;
  const webhookProblem = submission.webhook && (await webhookTargetProblem(submission.webhook.url, { allowPrivate: deps.allowPrivateWebhooks }));
  if (webhookProblem) return refused({ code: 'WEBHOOK_TARGET_REFUSED', message: `webhook_url: ${webhookProblem}.`, field: 'webhook_url' });
  const skippedIn = await skippingZone(submission);
  if (skippedIn) {
    return refused({
      code: 'NONEXISTENT_LOCAL_TIME',
      message: `timestamp: ${submission.timestamp} does not exist in ${skippedIn}: its clocks skip it when they go forward.`,
      field: 'timestamp',
    });
  }
  if (!(allowedImageCounts as readonly number[]).includes(images.length)) {
    return refused({ code: 'INVALID_IMAGE_COUNT', message: `Send exactly 4, 6 or 8 images; got ${images.length}.`, field: 'images' });
  }
  const probed = await probeImages(images);
  if ('invalid' in probed) {
    const { index, reason } = probed.invalid;
    return refused({ code: 'INVALID_IMAGE', message: `Image ${index + 1}: ${reason}`, field: `images[${index}]` });
  }
  const { probes } = probed;
  const { account: _account, images: _images, webhook, idempotencyKey, ...described } = submission;
  const fingerprint = requestHash({ ...described, webhookUrl: webhook?.url ?? null }, images);

  return acceptJob<SubmitAlarmResult>(deps, async (acceptance, refuse) => {
    const { trx } = acceptance;
    const existingByKey = await acceptance.checkIdempotencyKey(account.accountId, idempotencyKey, fingerprint);
    if (existingByKey && 'code' in existingByKey) return refused(existingByKey);
    if (existingByKey) return { outcome: 'existing', existing: existingByKey };

    const tenancy = new TenancyRepository(trx);
    const jobs = new JobRepository(trx);
    const cameraId = await tenancy.ensureCamera(account.accountId, camera, submission.siteCategory);
    // Before the duplicate check: a concurrent submission of the same event waits here, then finds its job.
    await tenancy.lockCamera(account.accountId, cameraId);
    const existing = await jobs.findByVendorEvent(account.accountId, cameraId, submission.vendorEventId);
    if (existing) return { outcome: 'existing', existing: { jobId: existing.id, status: existing.status } };

    const cooldown = await tenancy.claimCooldown(account.accountId, cameraId, deps.cooldownSeconds);
    if (!cooldown.claimed) {
      return refuse(
        refused({
          code: 'CAMERA_COOLDOWN',
          message: `This camera accepted an alarm less than ${deps.cooldownSeconds} s ago.`,
          retryAfterSeconds: cooldown.retryAfterSeconds,
        }),
      );
    }

    const jobId = alarmJobId({ account: account.accountName, ...camera }, randomBytes(6).toString('hex'));
    const prefix = jobMediaPrefix('alarm', jobId);
    const frames = await Promise.all(
      probes.map(async (probe, index) => {
        const name = frameName(index, extensionOf[probe.format]);
        return { index, name, key: await acceptance.putJobMedia(prefix, name, images[index]!), probe };
      }),
    );
    await jobs.insert(
      { id: jobId, kind: 'alarm', accountId: account.accountId, cameraId, vendorEventId: submission.vendorEventId, request: storedRequest(submission) },
      frames.map((frame) => ({
        frame_index: frame.index,
        name: frame.name,
        media_key: frame.key,
        format: frame.probe.format,
        width: frame.probe.width,
        height: frame.probe.height,
        bytes: images[frame.index]!.byteLength,
      })),
    );
    await acceptance.claimIdempotencyKey(account.accountId, idempotencyKey, fingerprint, jobId);

    const webhooks = new WebhookRepository(trx, deps.secrets);
    if (webhook) await webhooks.setJobTarget(account.accountId, jobId, webhook);
    // With its own target just set, the job has a webhook; without one, the account's default decides.
    const hasWebhook = webhook !== null || (await webhooks.resolveTargetId(account.accountId, jobId)) !== undefined;

    const input: AlarmWorkflowInput = {
      jobId,
      accountId: account.accountId,
      cameraId,
      sensitivity: submission.sensitivity,
      siteCategory: submission.siteCategory,
      timestamp: submission.timestamp,
      siteAddress: submission.siteAddress,
      names: submission.names,
      frames: frames.map((frame) => ({ index: frame.index, key: frame.key })),
      maxProcessingSeconds: submission.maxProcessingSeconds,
      hasWebhook,
    };
    await acceptance.startJobWorkflow(alarmVerification, {
      jobId,
      kind: 'alarm',
      accountName: account.accountName,
      input,
      searchAttributes: [
        { key: VigilGroupId, value: camera.groupId },
        { key: VigilSiteId, value: camera.siteId },
        { key: VigilZoneId, value: camera.zoneId },
        { key: VigilSiteCategory, value: submission.siteCategory },
        { key: VigilVendorEventId, value: submission.vendorEventId },
      ],
    });
    return { outcome: 'accepted', jobId };
  });
}

/**
 * The zone of the site's address when its clocks never show the submission's timestamp (a daylight-saving
 * gap); undefined when they do, or when no address is given or it resolves to no zone.
 */
async function skippingZone({ timestamp, siteAddress }: AlarmSubmission): Promise<string | undefined> {
  const local = timestamp ? parseVendorTimestamp(timestamp) : null;
  if (!local || !siteAddress) return undefined;
  // Loaded on first need: its address data take about 100 MB, which an API whose senders give no timestamp never holds.
  const { happensInZone, resolveTimezone } = await import('../domain/site-time.js');
  const zone = resolveTimezone(siteAddress);
  return zone && !happensInZone(zone, local) ? zone : undefined;
}

function refused(refusal: Refusal<SubmitAlarmRefusalCode>): SubmitAlarmResult {
  return { outcome: 'refused', refusal };
}

/** The request as the job row keeps it, in the alarm API's field names. */
function storedRequest(submission: AlarmSubmission): AlarmRequest {
  return {
    group_id: submission.camera.groupId,
    site_id: submission.camera.siteId,
    zone_id: submission.camera.zoneId,
    group_name: submission.names.groupName,
    site_name: submission.names.siteName,
    zone_name: submission.names.zoneName,
    site_category: submission.siteCategory,
    site_address: submission.siteAddress,
    timestamp: submission.timestamp,
    detection_sensitive_level: submission.sensitivity,
  };
}
