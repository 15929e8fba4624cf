import { ApplicationFailure, Context } from '@temporalio/activity';
import type { WebhookConfig } from '../config/index.js';
import type { Db } from '../db/database.js';
import { JobRepository } from '../db/repositories/jobs.js';
import { WebhookRepository } from '../db/repositories/webhooks.js';
import type { WebhookTrigger } from '../db/schema.js';
import { alarmWebhookPayload, responseOutcome, retryAfterSeconds, urlHost, webhookHeaders, webhookMessageId, type AlarmWebhookPayload } from '../domain/webhooks.js';
import type { Logger } from '../logging/logger.js';
import type { AnalysisWorkerMetrics, WebhookAttemptOutcome } from '../observability/metrics.js';
import { createWebhookSender, type WebhookSender } from '../webhooks/sender.js';
import { WebhookTargetRefusedError } from '../webhooks/target-guard.js';
import { loadAlarmExport, presentExport } from './alarm-export.js';
import { jobLogger } from './job-logger.js';

export interface WebhookActivityDeps {
  db: Db;
  logger: Logger;
  webhooks: WebhookConfig;
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

export function createWebhookActivities({ db, logger, webhooks, sender: givenSender, metrics }: WebhookActivityDeps) {
  const jobs = new JobRepository(db);
  const deliveries = new WebhookRepository(db);
  const sender = givenSender ?? createWebhookSender({ allowPrivate: webhooks.allowPrivate, timeoutSeconds: webhooks.delivery.timeoutSeconds });

  async function alarmPayload(accountId: string, jobId: string): Promise<AlarmWebhookPayload> {
    const exported = await loadAlarmExport(jobs, accountId, jobId);
    if (!exported) throw ApplicationFailure.nonRetryable(`Job ${jobId} not found.`, 'UNKNOWN_JOB');
    const { job } = exported;
    if (job.status === 'finished') return alarmWebhookPayload(jobId, { data: presentExport(exported) });
    if (job.status === 'failed' || job.status === 'cancelled') {
      return alarmWebhookPayload(jobId, { error: job.error ?? { code: 'CANCELLED', message: 'The job was cancelled.' } });
    }
    throw ApplicationFailure.nonRetryable(`Job ${jobId} is ${job.status}; only an ended job has a webhook payload.`, 'JOB_NOT_ENDED');
  }

  return {
    /**
     * Records a delivery of the ended alarm's final payload to its webhook target (the job's own, else the
     * account's default). Returns false when there is no target. The secret stays in the database.
     */
    async prepareAlarmDelivery({ accountId, jobId, deliveryId, trigger }: PrepareDeliveryInput): Promise<boolean> {
      const targetId = await deliveries.resolveTargetId(accountId, jobId);
      if (!targetId) return false;
      const payload = await alarmPayload(accountId, jobId);
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
    },

    /**
     * One HTTP attempt, recorded whatever happens. 408, 429, 5xx and network errors throw retryable failures
     * (the workflow's retry policy schedules the next attempt, no sooner than a `Retry-After` asks); other answers
     * and refused targets are final.
     */
    async attemptWebhookDelivery({ accountId, deliveryId }: DeliveryRef): Promise<{ statusCode: number | null }> {
      const context = Context.current();
      const delivery = await deliveries.deliveryToSend(accountId, deliveryId);
      if (!delivery) throw ApplicationFailure.nonRetryable(`Delivery ${deliveryId} not found.`, 'UNKNOWN_DELIVERY');
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
        throw ApplicationFailure.nonRetryable('The webhook target was removed.', 'WEBHOOK_TARGET_REMOVED');
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
        if (refused) throw ApplicationFailure.nonRetryable(`Target refused: ${message}`, 'WEBHOOK_TARGET_REFUSED');
        if (context.cancellationSignal.aborted) throw error;
        throw ApplicationFailure.retryable(message, 'WEBHOOK_UNREACHABLE');
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
          type: 'WEBHOOK_RETRYABLE_STATUS',
          nextRetryDelay: askedSeconds === undefined ? undefined : Math.min(askedSeconds, webhooks.delivery.maxIntervalSeconds) * 1000,
        });
      }
      throw ApplicationFailure.nonRetryable(`The receiver answered ${statusCode}.`, 'WEBHOOK_REJECTED');
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
