import { ApplicationFailure, Context } from '@temporalio/activity';
import type { WebhookConfig } from '../config/index.js';
import type { Db } from '../db/database.js';
import type { SecretKeyring } from '../domain/secret-keyring.js';
import { JobRepository } from '../db/repositories/jobs.js';
import { WebhookRepository } from '../db/repositories/webhooks.js';
import type { WebhookTrigger } from '../db/schema.js';
import { FailureType, RetryableFailureType } from '../domain/failure-types.js';
import { jobWebhookPayload, responseOutcome, retryAfterSeconds, urlHost, webhookHeaders, webhookMessageId, type JobWebhookPayload } from '../domain/webhooks.js';
import type { Logger } from '../logging/logger.js';
import type { AnalysisWorkerMetrics, WebhookAttemptOutcome } from '../observability/metrics.js';
import { createWebhookSender, type WebhookSender } from '../webhooks/sender.js';
import { WebhookTargetRefusedError } from '../webhooks/target-guard.js';
import { jobLogger } from './job-logger.js';
import { resultDocumentLoader } from './job-results.js';

export interface WebhookActivityDeps {
  db: Db;
  logger: Logger;
  webhooks: WebhookConfig;
  /** Opens the targets' stored secrets. */
  secrets: SecretKeyring;
  /** The HTTP side; by default one that honours `webhooks.allowPrivate` and the attempt timeout. */
  sender?: WebhookSender;
  /** Counts every attempt by outcome; none counted when not given. */
  metrics?: Pick<AnalysisWorkerMetrics, 'webhookAttempts'>;
}

export interface PrepareDeliveryInput {
  accountId: string;
  jobId: string;
  /** Chosen by the caller, so a retried activity records the same delivery. */
  deliveryId: string;
  trigger: WebhookTrigger;
}

export interface DeliveryRef {
  accountId: string;
  deliveryId: string;
}

export function createWebhookActivities({ db, logger, webhooks, secrets, sender: givenSender, metrics }: WebhookActivityDeps) {
  const jobs = new JobRepository(db);
  const deliveries = new WebhookRepository(db, secrets);
  const sender = givenSender ?? createWebhookSender({ allowPrivate: webhooks.allowPrivate, timeoutSeconds: webhooks.delivery.timeoutSeconds });

  async function finalPayload(accountId: string, jobId: string): Promise<JobWebhookPayload> {
    const job = await jobs.get(accountId, jobId);
    if (!job) throw ApplicationFailure.nonRetryable(`Job ${jobId} not found.`, FailureType.UnknownJob);
    if (job.status === 'failed' || job.status === 'cancelled') {
      return jobWebhookPayload(job.kind, jobId, { error: job.error ?? { code: FailureType.Cancelled, message: 'The job was cancelled.' } });
    }
    if (job.status !== 'finished') {
      throw ApplicationFailure.nonRetryable(`Job ${jobId} is ${job.status}; only an ended job has a webhook payload.`, FailureType.JobNotEnded);
    }
    const load = resultDocumentLoader(job.kind);
    if (!load) throw ApplicationFailure.nonRetryable(`Jobs of kind ${job.kind} have no result document.`, FailureType.UnknownJob);
    return jobWebhookPayload(job.kind, jobId, { data: await load(jobs, accountId, jobId, db) });
  }

  /**
   * Records a delivery of the ended job's final payload to its webhook target (the job's own, else the
   * account's default). Returns false when there is no target. The secret stays in the database.
   */
  async function prepareJobDelivery({ accountId, jobId, deliveryId, trigger }: PrepareDeliveryInput): Promise<boolean> {
    const targetId = await deliveries.resolveTargetId(accountId, jobId);
    if (!targetId) return false;
    const payload = await finalPayload(accountId, jobId);
    await deliveries.createDelivery({
      id: deliveryId,
      accountId,
      jobId,
      targetId,
      webhookId: webhookMessageId(jobId, payload.type),
      eventType: payload.type,
      trigger,
      payload: JSON.stringify(payload),
    });
    return true;
  }

  return {
    prepareJobDelivery,
    /** The same step under the name workflows started before every kind shared the envelope still schedule. */
    prepareAlarmDelivery: prepareJobDelivery,

    /**
     * One HTTP attempt, recorded whatever happens. 408, 429, 5xx and network errors throw retryable failures
     * (the workflow's retry policy schedules the next attempt, no sooner than a `Retry-After` asks); other answers
     * and refused targets are final.
     */
    async attemptWebhookDelivery({ accountId, deliveryId }: DeliveryRef): Promise<{ statusCode: number | null }> {
      const context = Context.current();
      const delivery = await deliveries.deliveryToSend(accountId, deliveryId);
      if (!delivery) throw ApplicationFailure.nonRetryable(`Delivery ${deliveryId} not found.`, FailureType.UnknownDelivery);
      // An attempt whose answer was recorded but whose activity result was lost is not sent twice.
      if (delivery.status !== 'pending') return { statusCode: null };

      const attempt = context.info.attempt;
      const attemptedAt = new Date();
      const started = performance.now();
      const record = (statusCode: number | null, error: string | null) =>
        deliveries.recordAttempt(accountId, deliveryId, {
          attempt,
          url: delivery.target?.url ?? null,
          attemptedAt,
          durationMs: Math.round(performance.now() - started),
          statusCode,
          error,
        });
      const log = jobLogger(logger, { jobId: delivery.jobId, accountId }).child({ deliveryId, attempt });
      const count = (outcome: WebhookAttemptOutcome) => metrics?.webhookAttempts.inc({ outcome });

      if (!delivery.target) {
        await record(null, 'The webhook target was removed.');
        count('target_removed');
        throw ApplicationFailure.nonRetryable('The webhook target was removed.', FailureType.WebhookTargetRemoved);
      }
      const { url, secret } = delivery.target;
      let statusCode: number;
      let retryAfter: string | undefined;
      try {
        const headers = webhookHeaders({ webhookId: delivery.webhookId, sentAt: attemptedAt, body: delivery.payload, secret });
        ({ statusCode, retryAfter } = await sender.post({ url, body: delivery.payload, headers, signal: context.cancellationSignal }));
      } catch (error) {
        const refused = error instanceof WebhookTargetRefusedError || (error as Error)?.cause instanceof WebhookTargetRefusedError;
        const message = describeError(error);
        await record(null, message);
        count(refused ? 'refused' : 'unreachable');
        log.warn({ host: urlHost(url), error: message }, 'webhook attempt failed');
        if (refused) throw ApplicationFailure.nonRetryable(`Target refused: ${message}`, FailureType.WebhookTargetRefused);
        if (context.cancellationSignal.aborted) throw error;
        throw ApplicationFailure.retryable(message, RetryableFailureType.WebhookUnreachable);
      }

      await record(statusCode, null);
      const outcome = responseOutcome(statusCode);
      count(outcome);
      log.info({ host: urlHost(url), statusCode, outcome }, 'webhook attempt');
      if (outcome === 'delivered') {
        await deliveries.finishDelivery(accountId, deliveryId, 'delivered');
        return { statusCode };
      }
      if (outcome === 'retry') {
        // The receiver's own wait replaces the backoff's, but never beyond the longest interval configured.
        const askedSeconds = retryAfterSeconds(retryAfter, new Date());
        throw ApplicationFailure.create({
          message: `The receiver answered ${statusCode}.`,
          type: RetryableFailureType.WebhookRetryableStatus,
          nextRetryDelay: askedSeconds === undefined ? undefined : Math.min(askedSeconds, webhooks.delivery.maxIntervalSeconds) * 1000,
        });
      }
      throw ApplicationFailure.nonRetryable(`The receiver answered ${statusCode}.`, FailureType.WebhookRejected);
    },

    /** Marks a delivery failed once its attempts are spent or one was final. */
    async abandonWebhookDelivery({ accountId, deliveryId }: DeliveryRef): Promise<void> {
      await deliveries.finishDelivery(accountId, deliveryId, 'failed');
    },
  };
}

/** A short reason for the record: the error's code (ECONNREFUSED, UND_ERR_…) and message, never headers or body. */
function describeError(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause;
  const code = (error as { code?: unknown })?.code ?? (cause as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
