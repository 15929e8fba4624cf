import { createHash, randomBytes } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { JobRepository } from '../db/repositories/jobs.js';
import { WebhookRepository } from '../db/repositories/webhooks.js';
import type { VideoRequest } from '../db/schema.js';
import { jobIdOf } from '../domain/identifiers.js';
import type { SecretKeyring } from '../domain/secret-keyring.js';
import { jobMediaPrefix, type MediaStore } from '../media/store.js';
import { assertDecodable, InvalidVideoError, readVideoStream, type VideoProbe } from '../media/video/probe.js';
import { videoAnalysis } from '../workflows/video-analysis.js';
import type { VideoWorkflowInput } from '../workflows/contracts/video-analysis.js';
import { acceptJob, requestHash, type AcceptanceDeps, type AcceptanceResult, type Refusal } from './job-acceptance.js';
import { webhookTargetProblem } from './webhook-target.js';

export interface SubmitVideoDeps extends AcceptanceDeps {
  /** Lets webhook targets on private and loopback addresses through (closed networks, tests). */
  allowPrivateWebhooks: boolean;
  /** Seals a webhook secret before it is stored. */
  secrets: SecretKeyring;
  /** The longest video accepted, by its probed duration. */
  maxVideoSeconds: number;
  /** What the job's analysis samples: frames per second, seconds per detection chunk. */
  sampleFps: number;
  chunkSeconds: number;
}

/** A video stored as it arrived, under the prefix of the job it may become. */
export interface VideoUpload {
  jobId: string;
  key: string;
  bytes: number;
  /** Of the content, to tell a retried request from a different one under the same Idempotency-Key. */
  sha256: string;
}

export interface VideoSubmission {
  account: { accountId: string; accountName: string };
  upload: VideoUpload;
  webhook: { url: string; secret: string | null } | null;
  /** 0: no limit. */
  maxProcessingSeconds: number;
  idempotencyKey?: string;
}

export type SubmitVideoRefusalCode = 'WEBHOOK_TARGET_REFUSED' | 'INVALID_VIDEO' | 'VIDEO_TOO_LONG' | 'IDEMPOTENCY_KEY_REUSED';
export type SubmitVideoResult = AcceptanceResult<SubmitVideoRefusalCode>;

/** The upload passed `maxBytes`: reading stopped there and nothing of it is kept. */
export class VideoTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`The video is larger than ${maxBytes} bytes.`);
  }
}

/**
 * Streams a video into the media store, under a new video job's prefix, never whole in memory. Passing
 * `maxBytes` stops the upload at once (`VideoTooLargeError`); any failure leaves nothing in the store.
 * The caller hands the upload to `submitVideo`, or `discardUpload`s it.
 */
export async function receiveVideo(media: MediaStore, source: Readable, maxBytes: number): Promise<VideoUpload> {
  const jobId = jobIdOf('video', randomBytes(12).toString('hex'));
  const key = `${jobMediaPrefix('video', jobId)}/source`;
  const hash = createHash('sha256');
  let bytes = 0;
  const metered = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > maxBytes) return done(new VideoTooLargeError(maxBytes));
      hash.update(chunk);
      done(null, chunk);
    },
  });
  source.on('error', (error) => metered.destroy(error));
  // A client that hangs up mid-upload ends the stream without an error on some sources: still a failure.
  source.on('close', () => {
    if (!source.readableEnded) metered.destroy(new Error('The upload ended before it was complete.'));
  });
  source.pipe(metered);
  try {
    await media.putStream(key, metered);
  } catch (error) {
    source.unpipe(metered);
    await media.remove(jobMediaPrefix('video', jobId));
    throw error;
  }
  return { jobId, key, bytes, sha256: hash.digest('hex') };
}

/** Removes an upload that will not become a job. */
export async function discardUpload(media: MediaStore, upload: VideoUpload): Promise<void> {
  await media.remove(jobMediaPrefix('video', upload.jobId));
}

/**
 * Accepts an uploaded video: probed (container, codec, size, rate, duration; first and last frames decoded),
 * then its job row and workflow, all or nothing (see `acceptJob`). Anything but a new job removes the upload:
 * a refusal, a failure, or the job an earlier identical request under the same `Idempotency-Key` made.
 */
export async function submitVideo(deps: SubmitVideoDeps, submission: VideoSubmission): Promise<SubmitVideoResult> {
  let result: SubmitVideoResult | undefined;
  try {
    result = await accept(deps, submission);
    return result;
  } finally {
    if (result?.outcome !== 'accepted') await discardUpload(deps.media, submission.upload);
  }
}

async function accept(deps: SubmitVideoDeps, { account, upload, webhook, maxProcessingSeconds, idempotencyKey }: VideoSubmission): Promise<SubmitVideoResult> {
  const webhookProblem = webhook && (await webhookTargetProblem(webhook.url, { allowPrivate: deps.allowPrivateWebhooks }));
  if (webhookProblem) return refused({ code: 'WEBHOOK_TARGET_REFUSED', message: `webhook.url: ${webhookProblem}.`, field: 'webhook.url' });

  // Read, then its length checked before anything is decoded: a video too long is refused whole or not.
  const probed = await deps.media.withLocalFile(upload.key, async (file): Promise<VideoProbe | Refusal<SubmitVideoRefusalCode>> => {
    try {
      const stream = await readVideoStream(file);
      if (stream.durationS > deps.maxVideoSeconds) {
        return { code: 'VIDEO_TOO_LONG', message: `The video lasts ${stream.durationS} s; at most ${deps.maxVideoSeconds} s are accepted.`, field: 'video' };
      }
      await assertDecodable(file, stream);
      return stream;
    } catch (error) {
      if (error instanceof InvalidVideoError) return { code: 'INVALID_VIDEO', message: `The upload is not a decodable video: ${error.reason}.`, field: 'video' };
      throw error;
    }
  });
  if ('code' in probed) return refused(probed);
  const probe = probed;

  const fingerprint = requestHash({ video: upload.sha256, webhookUrl: webhook?.url ?? null, maxProcessingSeconds });
  return acceptJob<SubmitVideoResult>(deps, async (acceptance) => {
    const existing = await acceptance.checkIdempotencyKey(account.accountId, idempotencyKey, fingerprint);
    if (existing && 'code' in existing) return refused(existing);
    if (existing) return { outcome: 'existing', existing };

    const { jobId } = upload;
    await new JobRepository(acceptance.trx).insert({ id: jobId, kind: 'video', accountId: account.accountId, request: storedRequest(upload, probe) }, []);
    await acceptance.claimIdempotencyKey(account.accountId, idempotencyKey, fingerprint, jobId);
    const webhooks = new WebhookRepository(acceptance.trx, deps.secrets);
    if (webhook) await webhooks.setJobTarget(account.accountId, jobId, webhook);
    const hasWebhook = webhook !== null || (await webhooks.resolveTargetId(account.accountId, jobId)) !== undefined;

    const input: VideoWorkflowInput = {
      jobId,
      accountId: account.accountId,
      maxProcessingSeconds,
      hasWebhook,
      video: { mediaKey: upload.key, width: probe.width, height: probe.height, fps: probe.fps, durationS: probe.durationS },
      sampleFps: deps.sampleFps,
      chunkSeconds: deps.chunkSeconds,
    };
    await acceptance.startJobWorkflow(videoAnalysis, { jobId, kind: 'video', accountName: account.accountName, input });
    return { outcome: 'accepted', jobId };
  });
}

function storedRequest(upload: VideoUpload, probe: VideoProbe): VideoRequest {
  return {
    media_key: upload.key,
    container: probe.container,
    codec: probe.codec,
    width: probe.width,
    height: probe.height,
    fps: probe.fps,
    duration_s: probe.durationS,
    frame_count: probe.frameCount,
    bytes: probe.bytes,
  };
}

function refused(refusal: Refusal<SubmitVideoRefusalCode>): SubmitVideoResult {
  return { outcome: 'refused', refusal };
}
