import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { presentClassification } from '../../activities/classification-document.js';
import type { TypedJob } from '../../db/schema.js';

function job(fields: Partial<TypedJob<'classification'>> = {}): TypedJob<'classification'> {
  return {
    id: '664371916d24ab9cf81140ec',
    account_id: 'account-1',
    kind: 'classification',
    camera_id: null,
    status: 'queued',
    stage: 'queued',
    vendor_event_id: null,
    request: {
      tenant: 'tenant-a',
      camera_id: null,
      analyse_id: null,
      parent_id: null,
      metadata: { no_trans: '20818' },
      media: { kind: 'video', name: 'alarm.mp4', bytes: 786800, original: { width: 640, height: 360, fps: 3, nframes: 12, duration: 4.2 } },
    },
    vendor_time: null,
    site_timezone: null,
    result: null,
    error: null,
    created_at: new Date('2026-12-02T10:00:00.000Z'),
    started_at: null,
    finished_at: null,
    ...fields,
  };
}

describe('the classification document', () => {
  it('is accepted with nothing scored before the job runs, and the request echoed', () => {
    const document = presentClassification(job());
    assert.deepEqual(document.status, { classify: 'accepted', video: 'accepted' });
    assert.deepEqual([document.risk, document.scores, document.labels], [null, null, []]);
    assert.deepEqual([document.parent_id, document.camera_id, document.analyse_id], ['000000000000000000000000', '', 0]);
    assert.deepEqual(document.metadata, { no_trans: '20818' });
    assert.equal(document.video.videoname, 'alarm.mp4');
    assert.equal(document.video.specs['original.nframes'], 12);
    assert.equal(document.video.specs.nframes, null);
    assert.deepEqual([document.duration, document.timing.total, document.started_at], [0, null, null]);
  });

  it('names a failure with a non-zero error_code and its message; past Max-Processing-Time it is a timeout', () => {
    const ended = { status: 'failed' as const, started_at: new Date('2026-12-02T10:00:00.100Z'), finished_at: new Date('2026-12-02T10:00:02.600Z') };
    const invalid = presentClassification(job({ ...ended, error: { code: 'INVALID_VIDEO', message: 'The clip stopped decoding: ffmpeg exited with 1' } }));
    assert.deepEqual(invalid.status, { classify: 'error', video: 'error' });
    assert.equal(invalid.error_code, 3);
    assert.equal(invalid.error_msg, 'INVALID_VIDEO: The clip stopped decoding: ffmpeg exited with 1');
    assert.deepEqual([invalid.duration, invalid.duration_seconds], [2600, 2]);
    const late = presentClassification(job({ ...ended, error: { code: 'MAX_PROCESSING_TIME_EXCEEDED', message: 'late' } }));
    assert.deepEqual([late.status.classify, late.error_code], ['timeout', 4]);
    assert.equal(presentClassification(job({ ...ended, error: { code: 'SOMETHING_ELSE', message: 'x' } })).error_code, 1);
  });
});
