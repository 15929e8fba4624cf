import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { alarmForm, api, bareApi, defaultFields, eventFrames, submitAlarm, waitForTerminal, type AlarmFile } from '../support/alarms.js';
import { startProcessStack, type ProcessStack } from '../support/process-stack.js';
import { waitFor } from '../support/wait.js';

/**
 * Many hosts: the API, the analysis worker and the detection worker run as their own processes, each in its own
 * working directory with its own DATA_DIR and no MEDIA_DIR, sharing nothing but PostgreSQL, Temporal and an S3
 * bucket on a real S3 server (versitygw).
 */

interface Detection {
  id: string;
  file_path: string | null;
}

/** Every file below `dir`, PostgreSQL's own data aside. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .filter((file) => !file.startsWith(`postgres${path.sep}`));
}

describe('roles on separate hosts share media through S3', { timeout: 10 * 60_000 }, () => {
  let stack: ProcessStack;
  let token: string;
  let frames: AlarmFile[];

  before(async () => {
    [stack, frames] = await Promise.all([startProcessStack({ mediaStore: 's3', separateHosts: true }), eventFrames('pets2009_people_walking_a')]);
    token = await stack.createToken('hosts');
  });
  after(async () => {
    await stack?.stop();
  });

  const submit = async (vendorEventId: string) => {
    const response = await submitAlarm(stack.baseUrl, token, alarmForm(defaultFields({ vendor_event_id: vendorEventId }), frames));
    assert.equal(response.status, 202, JSON.stringify(response.body));
    return response.body.data.job_id;
  };

  test('an alarm goes end to end with its frames and drawn images in the bucket only, and erasing the job empties its prefix', async () => {
    const ready = await api<{ media: string }>(stack.baseUrl, '/readyz');
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    assert.equal(ready.body.data.media, 'ok');

    const jobId = await submit('hosts-1');
    const status = await waitForTerminal(stack.baseUrl, token, jobId, 180_000);
    assert.equal(status.status, 'finished', JSON.stringify(status));
    const frameKeys = frames.map((_, index) => `alarms/${jobId}/frame_${String(index).padStart(2, '0')}.jpg`);
    assert.deepEqual(await stack.mediaKeys(`alarms/${jobId}`), frameKeys);

    // The API draws a detection's picture from the frame in the bucket, and keeps it there.
    const { body } = await bareApi<{ items: Detection[] }>(stack.baseUrl, '/api/detections?limit=100', { token });
    const detection = body.items.find((item) => item.file_path?.startsWith(`alarms/${jobId}/`));
    assert.ok(detection, 'the alarm found someone');
    for (const kind of ['thumbnail', 'image']) {
      const response = await fetch(`${stack.baseUrl}/api/detections/${detection.id}/${kind}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status, 200, kind);
      assert.equal(response.headers.get('content-type'), 'image/jpeg');
      await response.arrayBuffer();
    }
    const drawn = (await stack.mediaKeys(`alarms/${jobId}`)).filter((key) => !frameKeys.includes(key));
    assert.deepEqual(
      // Drawn pictures live under the detection's row id (a UUID), whatever integer id the API shows.
      drawn.map((key) => key.replace(/-[0-9a-f]{20}\.jpg$/, '.jpg').replace(/\/detections\/[0-9a-f-]{36}\//, '/detections/<row>/')),
      [`alarms/${jobId}/detections/<row>/image.jpg`, `alarms/${jobId}/detections/<row>/thumbnail.jpg`],
    );
    // A ranged read of the original frame comes from the bucket too.
    const part = await fetch(`${stack.baseUrl}/api/detections/${detection.id}/image?full=true`, { headers: { authorization: `Bearer ${token}`, range: 'bytes=0-1' } });
    assert.equal(part.status, 206);
    assert.deepEqual([...new Uint8Array(await part.arrayBuffer())], [0xff, 0xd8], 'the first bytes of a JPEG');

    // No role kept anything of the job on its own disk.
    for (const [role, dir] of Object.entries(stack.hostDirs)) {
      assert.deepEqual((await filesUnder(dir)).filter((file) => file.includes(jobId) || file.endsWith('.jpg')), [], `${role}: no media on local disk`);
    }

    const erased = await fetch(`${stack.baseUrl}/api/v1/jobs/${jobId}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.equal(erased.status, 204);
    assert.deepEqual(await stack.mediaKeys(`alarms/${jobId}`), [], 'erasure removed every object of the job');
  });

  test('a brief store outage during an alarm loses nothing: the failed steps are retried and the job finishes', async () => {
    const s3 = stack.s3!;
    // The detection worker reads an event's frames once, when it starts on them, and nothing after it reads them: it
    // is stopped before the job, so that its first step meets the outage.
    await stack.detectionWorker.kill();
    const jobId = await submit('hosts-outage');
    await s3.kill();
    try {
      await stack.detectionWorker.restart();
      const notReady = await api<{ status: string; media: string; database: string }>(stack.baseUrl, '/readyz');
      assert.equal(notReady.status, 503);
      assert.deepEqual([notReady.body.data.media, notReady.body.data.database], ['unreachable', 'ok']);
      // A submission that cannot store its frames is refused whole, with when to try again.
      const refused = await submitAlarm(stack.baseUrl, token, alarmForm(defaultFields({ vendor_event_id: 'hosts-refused' }), frames));
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.equal(refused.body.error?.code, 'SERVICE_UNAVAILABLE');
      assert.equal(refused.headers.get('retry-after'), '5');
      const leftovers = await stack.db.selectFrom('jobs').select('id').where('vendor_event_id', '=', 'hosts-refused').execute();
      assert.deepEqual(leftovers, [], 'no job row');
      // Reading the frames met the outage (a retryable failure): the job waits on Temporal's retries, not lost.
      await waitFor(
        'a worker to meet the outage',
        () => {
          stack.assertRunning();
          return /Activity failed/.test(stack.analysisWorker.output() + stack.detectionWorker.output());
        },
        120_000,
        100,
      );
      const { body } = await api<{ status: string }>(stack.baseUrl, `/api/v1/alarms/${jobId}`, { token });
      assert.equal(body.data.status, 'running');
    } finally {
      await s3.start();
    }
    const status = await waitForTerminal(stack.baseUrl, token, jobId, 180_000);
    assert.equal(status.status, 'finished', JSON.stringify(status));
    assert.equal((await api(stack.baseUrl, '/readyz')).status, 200);
    assert.equal((await stack.mediaKeys(`alarms/${jobId}`)).length, frames.length);
  });
});
