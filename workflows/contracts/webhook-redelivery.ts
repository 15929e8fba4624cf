/** `redeliverWebhook(request, policy?)`: an ended job's final payload again, as a new delivery (see workflows/webhook-delivery.ts). */
export interface RedeliveryRequest {
  accountId: string;
  jobId: string;
  /** Chosen by the caller, so the delivery can be linked before the workflow has run. */
  deliveryId: string;
}

export type DeliveryOutcome = 'delivered' | 'failed' | 'no_target';
