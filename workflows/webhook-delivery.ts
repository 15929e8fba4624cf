import { CancellationScope, isCancellation, proxyActivities } from '@temporalio/workflow';
import type { DeliveryRef, PrepareDeliveryInput, WebhookActivities } from '../activities/webhook.js';
import { databaseRetry } from './short-steps.js';

/** How attempts are retried; from config (WEBHOOK_*), handed to the workflow by whoever starts it. */
export interface WebhookDeliveryPolicy {
  maxAttempts: number;
  initialIntervalSeconds: number;
  maxIntervalSeconds: number;
  /** One HTTP attempt. */
  timeoutSeconds: number;
}

export type DeliveryOutcome = 'delivered' | 'failed' | 'no_target';

const bookkeeping = proxyActivities<WebhookActivities>({
  startToCloseTimeout: '30s',
  retry: { ...databaseRetry, nonRetryableErrorTypes: ['UNKNOWN_JOB', 'JOB_NOT_ENDED'] },
});

/** One activity attempt is one HTTP request: the backoff between requests is this retry policy, nothing hand-written. */
function attempts(policy: WebhookDeliveryPolicy) {
  return proxyActivities<WebhookActivities>({
    // The request's own timeout, plus the time to record the attempt.
    startToCloseTimeout: Math.round((policy.timeoutSeconds + 30) * 1000),
    retry: {
      initialInterval: Math.round(policy.initialIntervalSeconds * 1000),
      backoffCoefficient: 2,
      maximumInterval: Math.round(policy.maxIntervalSeconds * 1000),
      maximumAttempts: policy.maxAttempts,
      nonRetryableErrorTypes: ['UNKNOWN_DELIVERY', 'WEBHOOK_REJECTED', 'WEBHOOK_TARGET_REFUSED', 'WEBHOOK_TARGET_REMOVED'],
    },
  });
}

/** Sends a recorded delivery until it is accepted, refused for good, or out of attempts; the record always ends. */
async function sendDelivery(ref: DeliveryRef, policy: WebhookDeliveryPolicy): Promise<'delivered' | 'failed'> {
  try {
    await attempts(policy).attemptWebhookDelivery(ref);
    return 'delivered';
  } catch (error) {
    await CancellationScope.nonCancellable(() => bookkeeping.abandonWebhookDelivery(ref));
    if (isCancellation(error)) throw error;
    return 'failed';
  }
}

/** Delivers an ended alarm's final payload to its webhook target: one delivery record, then its attempts. */
export async function deliverAlarmWebhook(request: PrepareDeliveryInput, policy: WebhookDeliveryPolicy): Promise<DeliveryOutcome> {
  const prepared = await bookkeeping.prepareAlarmDelivery(request);
  if (!prepared) return 'no_target';
  return sendDelivery({ accountId: request.accountId, deliveryId: request.deliveryId }, policy);
}

/** `POST /api/v1/alarms/{job_id}/deliveries/redeliver`: the final payload again, as a new delivery. */
export async function redeliverAlarmWebhook(
  request: Omit<PrepareDeliveryInput, 'trigger'>,
  policy: WebhookDeliveryPolicy,
): Promise<DeliveryOutcome> {
  return deliverAlarmWebhook({ ...request, trigger: 'redelivery' }, policy);
}
