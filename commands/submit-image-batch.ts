import { randomBytes } from 'node:crypto';
import { ImageBatchRepository, type NewImageBatchItem } from '../db/repositories/image-batches.js';
import { JobRepository } from '../db/repositories/jobs.js';
import { WebhookRepository } from '../db/repositories/webhooks.js';
import { FailureType } from '../domain/failure-types.js';
import { jobIdOf } from '../domain/identifiers.js';
import type { SecretKeyring } from '../domain/secret-keyring.js';
import { InvalidImageError, probeImage, type ImageFormat } from '../media/image.js';
import { jobMediaPrefix } from '../media/store.js';
import type { ImageBatchWorkflowInput } from '../workflows/contracts/image-batch-analysis.js';
import { imageBatchAnalysis } from '../workflows/image-batch-analysis.js';
import { acceptJob, requestHash, type AcceptanceDeps, type AcceptanceResult, type Refusal } from './job-acceptance.js';
import { webhookTargetProblem } from './webhook-target.js';

export interface SubmitImageBatchDeps extends AcceptanceDeps {
  /** Images one batch may hold. */
  maxImages: number;
  /** An image larger than this fails alone (IMAGE_TOO_LARGE). */
  maxImageBytes: number;
  allowPrivateWebhooks: boolean;
  secrets: SecretKeyring;
}

/** An image batch as its sender describes it; `images` are the decoded bytes, in the sender's order. */
export interface ImageBatchSubmission {
  account: { accountId: string; accountName: string };
  images: { externalId: string; bytes: Uint8Array }[];
  webhook: { url: string; secret: string | null } | null;
  /** 0: no limit. */
  maxProcessingSeconds: number;
  idempotencyKey?: string;
}

export type SubmitImageBatchRefusalCode = 'WEBHOOK_TARGET_REFUSED' | 'INVALID_IMAGE_COUNT' | 'IDEMPOTENCY_KEY_REUSED';
export type SubmitImageBatchResult = AcceptanceResult<SubmitImageBatchRefusalCode>;

/** Why an item failed before analysis: its code is stable, as the job failure types are. */
export const ImageItemFailure = { InvalidImage: FailureType.InvalidImage, TooLarge: 'IMAGE_TOO_LARGE' } as const;

const extensionOf: Record<ImageFormat, string> = { jpeg: 'jpg', png: 'png', bmp: 'bmp', webp: 'webp' };

export const itemMediaName = (index: number, format: ImageFormat) => `item_${String(index).padStart(3, '0')}.${extensionOf[format]}`;

/**
 * Accepts an image batch: every image that decodes is stored under the job's prefix and queued; one that does not
 * (or is too large) is stored as a failed item with its reason, and the others go on. The job rows, the media and
 * the workflow are all or nothing (`acceptJob`); the same request under the same `Idempotency-Key` answers the
 * job already accepted.
 */
export async function submitImageBatch(deps: SubmitImageBatchDeps, submission: ImageBatchSubmission): Promise<SubmitImageBatchResult> {
  const { account, images, webhook, idempotencyKey } = submission;
  const webhookProblem = webhook && (await webhookTargetProblem(webhook.url, { allowPrivate: deps.allowPrivateWebhooks }));
  if (webhookProblem) return refused({ code: 'WEBHOOK_TARGET_REFUSED', message: `webhook.url: ${webhookProblem}.`, field: 'webhook.url' });
  if (images.length < 1 || images.length > deps.maxImages) {
    return refused({ code: 'INVALID_IMAGE_COUNT', message: `Send 1 to ${deps.maxImages} images; got ${images.length}.`, field: 'images' });
  }
  const probes = await Promise.all(images.map(({ bytes }) => probeItem(bytes, deps.maxImageBytes)));
  const fingerprint = requestHash(
    { externalIds: images.map((image) => image.externalId), webhookUrl: webhook?.url ?? null, maxProcessingSeconds: submission.maxProcessingSeconds },
    images.map((image) => image.bytes),
  );

  return acceptJob<SubmitImageBatchResult>(deps, async (acceptance) => {
    const existingByKey = await acceptance.checkIdempotencyKey(account.accountId, idempotencyKey, fingerprint);
    if (existingByKey && 'code' in existingByKey) return refused(existingByKey);
    if (existingByKey) return { outcome: 'existing', existing: existingByKey };

    const { trx } = acceptance;
    const jobId = jobIdOf('image_batch', randomBytes(12).toString('hex'));
    const prefix = jobMediaPrefix('image_batch', jobId);
    const items: NewImageBatchItem[] = await Promise.all(
      images.map(async ({ externalId, bytes }, index) => {
        const probe = probes[index]!;
        const base = { index, externalId, bytes: bytes.byteLength };
        if ('error' in probe) return { ...base, mediaKey: null, error: probe.error };
        return { ...base, mediaKey: await acceptance.putJobMedia(prefix, itemMediaName(index, probe.format), bytes), error: null };
      }),
    );
    await new JobRepository(trx).insert({ id: jobId, kind: 'image_batch', accountId: account.accountId, request: { image_count: images.length } }, []);
    await new ImageBatchRepository(trx).insertItems(account.accountId, jobId, items);
    await acceptance.claimIdempotencyKey(account.accountId, idempotencyKey, fingerprint, jobId);

    const webhooks = new WebhookRepository(trx, deps.secrets);
    if (webhook) await webhooks.setJobTarget(account.accountId, jobId, webhook);
    const hasWebhook = webhook !== null || (await webhooks.resolveTargetId(account.accountId, jobId)) !== undefined;

    const input: ImageBatchWorkflowInput = {
      jobId,
      accountId: account.accountId,
      itemCount: images.length,
      maxProcessingSeconds: submission.maxProcessingSeconds,
      hasWebhook,
    };
    await acceptance.startJobWorkflow(imageBatchAnalysis, { jobId, kind: 'image_batch', accountName: account.accountName, input });
    return { outcome: 'accepted', jobId };
  });
}

/** The item's format when it decodes (the content decides, not a name), else why it fails. */
async function probeItem(bytes: Uint8Array, maxBytes: number): Promise<{ format: ImageFormat } | { error: { code: string; message: string } }> {
  if (bytes.byteLength > maxBytes) {
    return { error: { code: ImageItemFailure.TooLarge, message: `The image is ${bytes.byteLength} bytes; at most ${maxBytes} are analysed.` } };
  }
  try {
    return { format: (await probeImage(bytes)).format };
  } catch (error) {
    if (!(error instanceof InvalidImageError)) throw error;
    return { error: { code: ImageItemFailure.InvalidImage, message: error.message } };
  }
}

function refused(refusal: Refusal<SubmitImageBatchRefusalCode>): SubmitImageBatchResult {
  return { outcome: 'refused', refusal };
}
