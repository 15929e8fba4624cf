/** Every workflow the analysis worker runs, by the name its starters use. */
export { alarmVerification } from './alarm-verification.js';
export { imageBatchAnalysis } from './image-batch-analysis.js';
export { clipClassification } from './clip-classification.js';
export { redeliverWebhook } from './webhook-delivery.js';
// Redeliveries started before every kind shared the webhook envelope run under this name until they end.
export { redeliverWebhook as redeliverAlarmWebhook } from './webhook-delivery.js';
export { retentionSweep } from './retention.js';
export { vmsIncident } from './vms-incident.js';
export { vmsCameraWatch } from './vms-camera-watch.js';
export { videoAnalysis } from './video-analysis.js';
