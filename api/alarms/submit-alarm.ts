import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { WebhookConfig } from '../../config/index.js';
import type { Db } from '../../db/database.js';
import type { AuthenticatedToken } from '../../db/repositories/accounts.js';
import { JobRepository } from '../../db/repositories/jobs.js';
import { TenancyRepository } from '../../db/repositories/tenancy.js';
import { WebhookRepository } from '../../db/repositories/webhooks.js';
import { alarmJobId, frameName } from '../../domain/identifiers.js';
import { InvalidImageError, probeImage, type ImageFormat } from '../../media/image.js';
import { alarmMediaPrefix, type MediaStore } from '../../media/store.js';
import type { Logger } from '../../logging/logger.js';
import {
  VigilAccount,
  VigilGroupId,
  VigilSiteCategory,
  VigilSiteId,
  VigilStage,
  VigilVendorEventId,
  VigilZoneId,
} from '../../temporal/search-attributes.js';
import type { AlarmWorkflowInput } from '../../workflows/alarm-types.js';
import type { LlmRouting } from '../../workflows/decision-routing.js';
import { ApiError } from '../errors.js';
import { allowedImageCounts, type SubmitAlarmFields } from './schema.js';

export interface SubmitAlarmDeps {
  db: Db;
  media: MediaStore;
  temporal: Client;
  logger: Logger;
  cooldownSeconds: number;
  analysisTaskQueue: string;
  detectTaskQueue: string;
  webhooks: WebhookConfig;
  /** The vision LLMs new workflows may ask; undefined: the local rules decide. */
  llm: LlmRouting | undefined;
}

export type SubmitAlarmResult = { duplicate: false; jobId: string } | { duplicate: true; jobId: string; status: string };

const extensionOf: Record<ImageFormat, string> = { jpeg: 'jpg', png: 'png', bmp: 'bmp', webp: 'webp' };

/**
 * Accepts an alarm: stores its frames and job rows and starts its workflow, all or nothing.
 * The transaction commits only after the workflow has started, so a 202 always has a workflow behind it,
 * and a rejection (cooldown, failure to start) rolls back every row and removes every file.
 */
export async function submitAlarm(
  deps: SubmitAlarmDeps,
  auth: AuthenticatedToken,
  fields: SubmitAlarmFields,
  images: Uint8Array[],
  limits: { maxProcessingSeconds: number },
): Promise<SubmitAlarmResult> {
  if (!(allowedImageCounts as readonly number[]).includes(images.length)) {
    throw new ApiError(400, 'INVALID_IMAGE_COUNT', `Send exactly 4, 6 or 8 images; got ${images.length}.`, { field: 'images' });
  }
  const probes = await Promise.all(
    images.map(async (bytes, index) => {
      try {
        return await probeImage(bytes);
      } catch (error) {
        if (error instanceof InvalidImageError) {
          throw new ApiError(400, 'INVALID_IMAGE', `Image ${index + 1}: ${error.message}`, { field: `images[${index}]` });
        }
        throw error;
      }
    }),
  );

  const ref = { groupId: fields.group_id, siteId: fields.site_id, zoneId: fields.zone_id };
  let startedWorkflowId: string | undefined;
  let writtenPrefix: string | undefined;
  try {
    return await deps.db.transaction().execute(async (trx) => {
      const tenancy = new TenancyRepository(trx);
      const jobs = new JobRepository(trx);
      const cameraId = await tenancy.ensureCamera(auth.accountId, ref, fields.site_category);

      const existing = await jobs.findByVendorEvent(auth.accountId, cameraId, fields.vendor_event_id);
      if (existing) return { duplicate: true, jobId: existing.id, status: existing.status };

      const cooldown = await tenancy.claimCooldown(auth.accountId, cameraId, deps.cooldownSeconds);
      if (!cooldown.claimed) {
        throw new ApiError(429, 'RATE_LIMITED', `This camera accepted an alarm less than ${deps.cooldownSeconds} s ago.`, {
          retryAfterSeconds: cooldown.retryAfterSeconds,
        });
      }

      const jobId = alarmJobId({ account: auth.accountName, ...ref }, randomBytes(6).toString('hex'));
      writtenPrefix = alarmMediaPrefix(jobId);
      const frames = probes.map((probe, index) => {
        const name = frameName(index, extensionOf[probe.format]);
        return { index, name, key: `${writtenPrefix}/${name}`, probe };
      });
      await Promise.all(frames.map((frame) => deps.media.put(frame.key, images[frame.index]!)));

      await jobs.insert(
        {
          id: jobId,
          accountId: auth.accountId,
          cameraId,
          vendorEventId: fields.vendor_event_id,
          request: {
            group_id: fields.group_id,
            site_id: fields.site_id,
            zone_id: fields.zone_id,
            group_name: fields.group_name ?? null,
            site_name: fields.site_name ?? null,
            zone_name: fields.zone_name ?? null,
            site_category: fields.site_category,
            site_address: fields.site_address ?? null,
            timestamp: fields.timestamp ?? null,
            detection_sensitive_level: fields.detection_sensitive_level,
          },
        },
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

      const webhooks = new WebhookRepository(trx);
      if (fields.webhook_url) {
        await webhooks.setJobTarget(auth.accountId, jobId, { url: fields.webhook_url, secret: fields.webhook_secret ?? null });
      }
      // With its own target just set, the job has a webhook; without one, the account's default decides.
      const hasWebhook = fields.webhook_url !== undefined || (await webhooks.resolveTargetId(auth.accountId, jobId)) !== undefined;

      const input: AlarmWorkflowInput = {
        jobId,
        accountId: auth.accountId,
        cameraId,
        sensitivity: fields.detection_sensitive_level,
        siteCategory: fields.site_category,
        timestamp: fields.timestamp ?? null,
        siteAddress: fields.site_address ?? null,
        names: { groupName: fields.group_name ?? null, siteName: fields.site_name ?? null, zoneName: fields.zone_name ?? null },
        frames: frames.map((frame) => ({ index: frame.index, key: frame.key })),
        maxProcessingSeconds: limits.maxProcessingSeconds,
        hasWebhook,
      };
      await deps.temporal.workflow.start('alarmVerification', {
        workflowId: jobId,
        taskQueue: deps.analysisTaskQueue,
        workflowIdConflictPolicy: 'FAIL',
        args: [input, { detectTaskQueue: deps.detectTaskQueue, webhookDelivery: deps.webhooks.delivery, llm: deps.llm }],
        typedSearchAttributes: [
          { key: VigilAccount, value: auth.accountName },
          { key: VigilGroupId, value: fields.group_id },
          { key: VigilSiteId, value: fields.site_id },
          { key: VigilZoneId, value: fields.zone_id },
          { key: VigilSiteCategory, value: fields.site_category },
          { key: VigilVendorEventId, value: fields.vendor_event_id },
          { key: VigilStage, value: 'queued' },
        ],
      });
      startedWorkflowId = jobId;
      return { duplicate: false, jobId };
    });
  } catch (error) {
    await undoSubmission(deps, startedWorkflowId, writtenPrefix);
    throw error;
  }
}

/** Takes back what a failed submission left: its files and, if the commit failed after the start, its workflow. */
async function undoSubmission(deps: SubmitAlarmDeps, workflowId: string | undefined, mediaPrefix: string | undefined): Promise<void> {
  if (workflowId) {
    await deps.temporal.workflow
      .getHandle(workflowId)
      .terminate('submission was not committed')
      .catch((error: unknown) => deps.logger.error({ err: error, workflowId }, 'could not terminate the workflow of a failed submission'));
  }
  if (mediaPrefix) await deps.media.remove(mediaPrefix);
}
