import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { JobRepository } from '../db/repositories/jobs.js';
import { WebhookRepository } from '../db/repositories/webhooks.js';
import type { ClassificationMedia, ClassificationRequest } from '../domain/classification/documents.js';
import { frameName, jobIdOf } from '../domain/identifiers.js';
import type { SecretKeyring } from '../domain/secret-keyring.js';
import { probeImages, type ImageFormat, type ImageInfo } from '../media/image.js';
import { jobMediaPrefix } from '../media/store.js';
import { InvalidVideoError, probeVideo } from '../media/video/probe.js';
import { clipClassification } from '../workflows/clip-classification.js';
import type { ClassificationSource, ClassificationWorkflowInput } from '../workflows/contracts/clip-classification.js';
import { acceptJob, requestHash, type AcceptanceDeps, type AcceptanceResult, type Refusal } from './job-acceptance.js';
import { webhookTargetProblem } from './webhook-target.js';

export interface SubmitClassificationDeps extends AcceptanceDeps {
  allowPrivateWebhooks: boolean;
  secrets: SecretKeyring;
}

export interface UploadedFile {
  /** The file name the sender gave, if any. */
  name: string;
  bytes: Uint8Array;
}

/** A clip (or a few images of it) to classify, as its sender describes it. */
export interface ClassificationSubmission {
  account: { accountId: string; accountName: string };
  tenant: string;
  cameraId: string | null;
  analyseId: number | null;
  parentId: string | null;
  metadata: Record<string, unknown>;
  media: { kind: 'video'; file: UploadedFile } | { kind: 'images'; files: UploadedFile[] };
  webhook: { url: string; secret: string | null } | null;
  /** 0: no limit. */
  maxProcessingSeconds: number;
  idempotencyKey?: string;
}

export const classificationImageCounts = { min: 2, max: 60 } as const;

export type SubmitClassificationRefusalCode = 'WEBHOOK_TARGET_REFUSED' | 'INVALID_IMAGE_COUNT' | 'INVALID_IMAGE' | 'INVALID_VIDEO' | 'IDEMPOTENCY_KEY_REUSED';
export type SubmitClassificationResult = AcceptanceResult<SubmitClassificationRefusalCode>;

const extensionOf: Record<ImageFormat, string> = { jpeg: 'jpg', png: 'png', bmp: 'bmp', webp: 'webp' };

const refused = (refusal: Refusal<SubmitClassificationRefusalCode>): SubmitClassificationResult => ({ outcome: 'refused', refusal });

/**
 * Accepts a classification: stores the clip (probed by ffprobe: what it cannot read is refused) or the images
 * (each decoded), the job row and its webhook target, and starts its workflow, all or nothing (`acceptJob`).
 */
export async function submitClassification(deps: SubmitClassificationDeps, submission: ClassificationSubmission): Promise<SubmitClassificationResult> {
  const { account, webhook, idempotencyKey } = submission;
  const webhookProblem = webhook && (await webhookTargetProblem(webhook.url, { allowPrivate: deps.allowPrivateWebhooks }));
  if (webhookProblem) return refused({ code: 'WEBHOOK_TARGET_REFUSED', message: `webhook_url: ${webhookProblem}.`, field: 'webhook_url' });

  let images: ImageInfo[] = [];
  if (submission.media.kind === 'images') {
    const { files } = submission.media;
    if (files.length < classificationImageCounts.min || files.length > classificationImageCounts.max) {
      return refused({
        code: 'INVALID_IMAGE_COUNT',
        message: `Send ${classificationImageCounts.min} to ${classificationImageCounts.max} images; got ${files.length}.`,
        field: 'images',
      });
    }
    const probed = await probeImages(files.map((file) => file.bytes));
    if ('invalid' in probed) {
      return refused({ code: 'INVALID_IMAGE', message: `Image ${probed.invalid.index + 1}: ${probed.invalid.reason}`, field: `images[${probed.invalid.index}]` });
    }
    images = probed.probes;
  }
  const contents = submission.media.kind === 'video' ? [submission.media.file.bytes] : submission.media.files.map((file) => file.bytes);
  const { account: _account, media: _media, webhook: _webhook, idempotencyKey: _key, ...described } = submission;
  const fingerprint = requestHash({ ...described, media: submission.media.kind, webhookUrl: webhook?.url ?? null }, contents);

  return acceptJob<SubmitClassificationResult>(deps, async (acceptance, refuse) => {
    const existing = await acceptance.checkIdempotencyKey(account.accountId, idempotencyKey, fingerprint);
    if (existing && 'code' in existing) return refused(existing);
    if (existing) return { outcome: 'existing', existing };

    const jobId = jobIdOf('classification', randomBytes(12).toString('hex'));
    const prefix = jobMediaPrefix('classification', jobId);
    let source: ClassificationSource;
    let media: ClassificationMedia;
    if (submission.media.kind === 'video') {
      const { file } = submission.media;
      const key = await acceptance.putJobMedia(prefix, `clip${clipExtension(file.name)}`, file.bytes);
      const probe = await deps.media.withLocalFile(key, (local) => probeVideo(local)).catch((error: unknown) => {
        if (error instanceof InvalidVideoError) return error;
        throw error;
      });
      if (probe instanceof InvalidVideoError) return refuse(refused({ code: 'INVALID_VIDEO', message: `video: ${probe.message}`, field: 'video' }));
      source = { kind: 'video', key, width: probe.width, height: probe.height, durationS: probe.durationS };
      media = {
        kind: 'video',
        name: file.name,
        bytes: file.bytes.byteLength,
        original: { width: probe.width, height: probe.height, fps: probe.fps, nframes: probe.frameCount, duration: probe.durationS },
      };
    } else {
      const { files } = submission.media;
      const frames = await Promise.all(
        files.map(async (file, index) => ({ index, key: await acceptance.putJobMedia(prefix, frameName(index, extensionOf[images[index]!.format]), file.bytes) })),
      );
      source = { kind: 'images', frames };
      media = {
        kind: 'images',
        names: files.map((file) => file.name),
        bytes: files.reduce((sum, file) => sum + file.bytes.byteLength, 0),
        original: { width: images[0]!.width, height: images[0]!.height, nframes: files.length },
      };
    }

    const request: ClassificationRequest = {
      tenant: submission.tenant,
      camera_id: submission.cameraId,
      analyse_id: submission.analyseId,
      parent_id: submission.parentId,
      metadata: submission.metadata,
      media,
    };
    await new JobRepository(acceptance.trx).insert({ id: jobId, kind: 'classification', accountId: account.accountId, request }, []);
    await acceptance.claimIdempotencyKey(account.accountId, idempotencyKey, fingerprint, jobId);
    const webhooks = new WebhookRepository(acceptance.trx, deps.secrets);
    if (webhook) await webhooks.setJobTarget(account.accountId, jobId, webhook);
    const hasWebhook = webhook !== null || (await webhooks.resolveTargetId(account.accountId, jobId)) !== undefined;

    const input: ClassificationWorkflowInput = {
      jobId,
      accountId: account.accountId,
      cameraId: submission.cameraId,
      source,
      maxProcessingSeconds: submission.maxProcessingSeconds,
      hasWebhook,
    };
    await acceptance.startJobWorkflow(clipClassification, { jobId, kind: 'classification', accountName: account.accountName, input });
    return { outcome: 'accepted', jobId };
  });
}

/** The sender's extension when it is a plain one (ffprobe reads the content, not the name); none otherwise. */
function clipExtension(name: string): string {
  const extension = path.extname(name).toLowerCase();
  return /^\.[a-z0-9]{1,5}$/.test(extension) ? extension : '';
}
