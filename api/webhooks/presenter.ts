import type { DeliverySummary } from '../../db/repositories/webhooks.js';

/** A job's webhook deliveries and every attempt, as its owner sees them: never the secret, never the payload. */
export function presentDeliveries(jobId: string, deliveries: DeliverySummary[]) {
  return {
    job_id: jobId,
    deliveries: deliveries.map((delivery) => ({
      delivery_id: delivery.id,
      webhook_id: delivery.webhookId,
      type: delivery.eventType,
      trigger: delivery.trigger,
      status: delivery.status,
      created_at: delivery.createdAt.toISOString(),
      finished_at: delivery.finishedAt?.toISOString() ?? null,
      attempts: delivery.attempts.map((attempt) => ({
        attempt: attempt.attempt,
        attempted_at: attempt.attemptedAt.toISOString(),
        url: attempt.url,
        status_code: attempt.statusCode,
        duration_ms: attempt.durationMs,
        error: attempt.error,
      })),
    })),
  };
}

export function presentRedelivery(jobId: string, deliveryId: string) {
  return { job_id: jobId, delivery_id: deliveryId, status: 'queued' };
}
