export { alarmVerification, progressQuery } from './alarm-verification.js';
export { redeliverAlarmWebhook } from './webhook-delivery.js';
export { retentionSweep } from './retention.js';
