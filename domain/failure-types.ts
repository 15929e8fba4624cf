/**
 * The stable types of the failures Vigil's activities and workflows raise. A failure that retrying cannot
 * mend is thrown non-retryable where it happens (`ApplicationFailure.nonRetryable(message, type)`), so no
 * retry policy lists these again; a job that ends on one stores its type as the error code.
 */
export const FailureType = {
  /** A stored frame does not decode. */
  InvalidImage: 'INVALID_IMAGE',
  /** A stored video or clip no longer probes or decodes. */
  InvalidVideo: 'INVALID_VIDEO',
  /** The job's row is gone or not in a state the step can act on (its submission was rolled back, or it was erased). */
  UnknownJob: 'UNKNOWN_JOB',
  /** A webhook payload was asked for a job that has not ended. */
  JobNotEnded: 'JOB_NOT_ENDED',
  UnknownDelivery: 'UNKNOWN_DELIVERY',
  /** The receiver answered a status that another attempt will not change (a 4xx other than 408 and 429). */
  WebhookRejected: 'WEBHOOK_REJECTED',
  /** The target resolves to an address deliveries may not reach. */
  WebhookTargetRefused: 'WEBHOOK_TARGET_REFUSED',
  WebhookTargetRemoved: 'WEBHOOK_TARGET_REMOVED',
  MaxProcessingTimeExceeded: 'MAX_PROCESSING_TIME_EXCEEDED',
  Cancelled: 'CANCELLED',
  /** A VMS incident's snapshots could not be verified; recorded on the incident, which stays open for the next event. */
  VerificationFailed: 'VERIFICATION_FAILED',
  /** Anything else that ended a job; the worker's log has the cause. */
  AnalysisFailed: 'ANALYSIS_FAILED',
} as const;

/** Retryable: another attempt may get through. */
export const RetryableFailureType = {
  WebhookUnreachable: 'WEBHOOK_UNREACHABLE',
  WebhookRetryableStatus: 'WEBHOOK_RETRYABLE_STATUS',
} as const;
