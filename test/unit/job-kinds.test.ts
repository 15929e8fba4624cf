import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { alarmJobId, jobIdOf } from '../../domain/identifiers.js';
import { jobKinds, webhookEventType } from '../../domain/job-kinds.js';
import { jobWebhookPayload, webhookMessageId } from '../../domain/webhooks.js';
import { jobMediaPrefix } from '../../media/store.js';

describe('job kinds', () => {
  const hex = '0123456789abcdef01234567';

  test('each kind has its id form: alarms carry their camera, classifications are bare hex', () => {
    assert.equal(alarmJobId({ account: 'acme', groupId: 'g', siteId: 's', zoneId: 'z' }, '0123456789ab'), 'raw_acme_g_s_z_0123456789ab');
    assert.equal(jobIdOf('video', hex), `video_${hex}`);
    assert.equal(jobIdOf('image_batch', hex), `image_batch_${hex}`);
    assert.equal(jobIdOf('classification', hex), hex);
    assert.equal(jobIdOf('vms_incident', hex), `vms_incident_${hex}`);
    assert.throws(() => jobIdOf('video', 'XYZ'), /24 lowercase hex/);
  });

  test('every kind keeps its media under a prefix of its own', () => {
    const prefixes = jobKinds.map((kind) => jobMediaPrefix(kind, 'job1'));
    assert.equal(new Set(prefixes.map((prefix) => prefix.split('/')[0])).size, jobKinds.length);
    assert.equal(jobMediaPrefix('alarm', 'raw_x'), 'alarms/raw_x');
  });

  test('the webhook envelope names the kind, and each outcome has its own message id', () => {
    assert.deepEqual(jobWebhookPayload('video', 'video_1', { data: { result: {} } }), { type: 'video.finished', job_id: 'video_1', data: { result: {} } });
    assert.deepEqual(jobWebhookPayload('classification', hex, { error: { code: 'INVALID_VIDEO', message: 'no' } }), {
      type: 'classification.failed',
      job_id: hex,
      error: { code: 'INVALID_VIDEO', message: 'no' },
    });
    assert.equal(webhookEventType('vms_incident', 'finished'), 'vms_incident.finished');
    assert.notEqual(webhookMessageId('video_1', 'video.finished'), webhookMessageId('video_1', 'video.failed'));
  });
});
