import { CancellationScope, isCancellation, patched, proxyActivities } from '@temporalio/workflow';
import type { DeliveryRef, PrepareDeliveryInput, WebhookActivities } from '../activities/webhook.js';
import type { WebhookDeliveryPolicy } from './contracts/job.js';
import type { DeliveryOutcome, RedeliveryRequest } from './contracts/webhook-redelivery.js';
import { lifecycleSteps, databaseRetry } from './short-steps.js';

const bookkeeping = proxyActivities<WebhookActivities>({ startToCloseTimeout: '30s', retry: databaseRetry });

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
    },
  });
}

/** Sends a recorded delivery until it is accepted, refused for good, or out of attempts; the record always ends. */
export async function sendDelivery(ref: DeliveryRef, policy: WebhookDeliveryPolicy): Promise<'delivered' | 'failed'> {
  try {
    await attempts(policy).attemptWebhookDelivery(ref);
    return 'delivered';
  } catch (error) {
    await CancellationScope.nonCancellable(() => bookkeeping.abandonWebhookDelivery(ref));
    if (isCancellation(error)) throw error;
    return 'failed';
  }
}

/**
 * Records a delivery of an ended job's final payload (`<kind>.finished` or `<kind>.failed`), then sends it.
 * Workflows started before every kind shared the envelope recorded `prepareAlarmDelivery`; they replay it.
 */
export async function deliverJobWebhook(request: PrepareDeliveryInput, policy: WebhookDeliveryPolicy): Promise<DeliveryOutcome> {
  const prepared = patched('job-webhook-envelope')
    ? await bookkeeping.prepareJobDelivery(request)
    : await bookkeeping.prepareAlarmDelivery(request);
  if (!prepared) return 'no_target';
  return sendDelivery({ accountId: request.accountId, deliveryId: request.deliveryId }, policy);
}

/**
 * `POST /api/v1/jobs/{job_id}/deliveries/redeliver`: the final payload again, as a new delivery. The retry
 * policy is the analysis worker's unless the starter fixed one (redeliveries started before it was read there).
 */
export async function redeliverWebhook(request: RedeliveryRequest, policy?: WebhookDeliveryPolicy): Promise<DeliveryOutcome> {
  const deliveryPolicy = policy ?? (await lifecycleSteps.workerSettings()).webhookDelivery;
  return deliverJobWebhook({ ...request, trigger: 'redelivery' }, deliveryPolicy);
}
