/**
 * The kinds of job Vigil runs, one per API family. Every kind shares the job lifecycle (status, stages,
 * Max-Processing-Time, the failure stored, the webhook); each brings its own pipeline and documents.
 * Pure, so workflows, activities, the API and the database layer all read the same list.
 */
export const jobKinds = ['alarm', 'video', 'image_batch', 'classification', 'vms_incident'] as const;
export type JobKind = (typeof jobKinds)[number];

export const jobStatuses = ['queued', 'running', 'finished', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof jobStatuses)[number];
export const endedJobStatuses = ['finished', 'failed', 'cancelled'] as const satisfies readonly JobStatus[];

/** The webhook event types of a kind: `<kind>.finished` with the result, `<kind>.failed` with the error. */
export type WebhookEventType = `${JobKind}.${'finished' | 'failed'}`;

export function webhookEventType(kind: JobKind, outcome: 'finished' | 'failed'): WebhookEventType {
  return `${kind}.${outcome}`;
}
