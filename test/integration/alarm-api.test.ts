import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import sharp from 'sharp';
import { sql } from 'kysely';
import { AccountRepository } from '../../db/repositories/accounts.js';
import { alarmForm, api, defaultFields, eventFrames, submitAlarm, waitForTerminal, type AlarmFile } from '../support/alarms.js';
import { finishJob, seedCamera, seedJob, storedDetection } from '../support/seed.js';
import { startStack, type TestStack } from '../support/stack.js';

async function countFiles(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).length;
}

describe('alarm API rules', () => {
  let stack: TestStack;
  let token: string;
  let frames: AlarmFile[];

  const footprint = async () => {
    const { rows } = await sql<{ jobs: number; frames: number; cameras: number; sites: number; groups: number; cooled: number }>`
      select (select count(*) from jobs)::int as jobs, (select count(*) from frames)::int as frames,
             (select count(*) from cameras)::int as cameras, (select count(*) from sites)::int as sites,
             (select count(*) from user_groups)::int as groups,
             (select count(*) from cameras where last_alarm_at is not null)::int as cooled`.execute(stack.db);
    return { ...rows[0]!, files: await countFiles(stack.config.mediaDir) };
  };

  before(async () => {
    stack = await startStack();
    token = await stack.createToken('acme');
    frames = await eventFrames('pets2009_people_walking_a');
  });
  after(async () => stack?.stop());

  describe('a catalogue of bad requests, each refused with its code and leaving nothing behind', () => {
    const jpeg = () => frames[0]!;
    /** A form whose one part has the given headers and no name (FormData cannot write one). */
    const namelessPart = (partHeaders: string) => ({
      body: `--nameless\r\n${partHeaders}\r\n\r\nx\r\n--nameless--\r\n`,
      headers: { 'content-type': 'multipart/form-data; boundary=nameless' },
    });
    const cases: { name: string; status: number; code: string; field?: string; /** null: no bearer token; a string: that token; absent: a valid one. */
      token?: string | null;
      request: () => Promise<{ form?: FormData; headers?: Record<string, string>; body?: string }> }[] = [
      { name: 'no token', status: 401, code: 'UNAUTHENTICATED', token: null, request: async () => ({ form: alarmForm(defaultFields(), frames) }) },
      { name: 'unknown bearer token', status: 401, code: 'UNAUTHENTICATED', token: 'vgl_not-a-real-token', request: async () => ({ form: alarmForm(defaultFields(), frames) }) },
      { name: 'malformed Authorization header', status: 401, code: 'UNAUTHENTICATED', token: null, request: async () => ({ form: alarmForm(defaultFields(), frames), headers: { authorization: 'Basic abc' } }) },
      { name: 'unknown token in the form', status: 401, code: 'UNAUTHENTICATED', token: null, request: async () => ({ form: alarmForm(defaultFields({ token: 'vgl_wrong' }), frames) }) },
      { name: 'JSON instead of multipart', status: 400, code: 'VALIDATION_ERROR', field: 'body', request: async () => ({ body: JSON.stringify(defaultFields()), headers: { 'content-type': 'application/json' } }) },
      { name: 'a form field without a name', status: 400, code: 'VALIDATION_ERROR', field: 'body', request: async () => namelessPart('Content-Disposition: form-data') },
      { name: 'a file without a field name', status: 400, code: 'VALIDATION_ERROR', field: 'body', request: async () => namelessPart('Content-Disposition: form-data; filename="frame.jpg"\r\nContent-Type: image/jpeg') },
      { name: 'missing group_id', status: 400, code: 'VALIDATION_ERROR', field: 'group_id', request: async () => ({ form: alarmForm(defaultFields({ group_id: undefined }), frames) }) },
      { name: 'zone_id with a slash', status: 400, code: 'VALIDATION_ERROR', field: 'zone_id', request: async () => ({ form: alarmForm(defaultFields({ zone_id: 'zone/1' }), frames) }) },
      { name: 'site_id of 65 characters', status: 400, code: 'VALIDATION_ERROR', field: 'site_id', request: async () => ({ form: alarmForm(defaultFields({ site_id: 's'.repeat(65) }), frames) }) },
      { name: 'unknown site_category', status: 400, code: 'VALIDATION_ERROR', field: 'site_category', request: async () => ({ form: alarmForm(defaultFields({ site_category: 'castle' }), frames) }) },
      { name: 'missing vendor_event_id', status: 400, code: 'VALIDATION_ERROR', field: 'vendor_event_id', request: async () => ({ form: alarmForm(defaultFields({ vendor_event_id: undefined }), frames) }) },
      { name: 'neither site_address nor timestamp', status: 400, code: 'VALIDATION_ERROR', field: 'site_address', request: async () => ({ form: alarmForm(defaultFields({ timestamp: undefined }), frames) }) },
      { name: 'timestamp with slashes', status: 400, code: 'VALIDATION_ERROR', field: 'timestamp', request: async () => ({ form: alarmForm(defaultFields({ timestamp: '2026/11/20 10:00' }), frames) }) },
      { name: 'timestamp on 30 February', status: 400, code: 'VALIDATION_ERROR', field: 'timestamp', request: async () => ({ form: alarmForm(defaultFields({ timestamp: '2026-02-30 10:00' }), frames) }) },
      { name: 'timestamp at 25:00', status: 400, code: 'VALIDATION_ERROR', field: 'timestamp', request: async () => ({ form: alarmForm(defaultFields({ timestamp: '2026-11-20 25:00' }), frames) }) },
      { name: 'timestamp in the year 0000', status: 400, code: 'VALIDATION_ERROR', field: 'timestamp', request: async () => ({ form: alarmForm(defaultFields({ timestamp: '0000-01-01 10:00' }), frames) }) },
      {
        name: 'timestamp the clocks of the site skip (DST)', status: 400, code: 'VALIDATION_ERROR', field: 'timestamp',
        request: async () => ({ form: alarmForm(defaultFields({ timestamp: '2026-03-08 02:30', site_address: '123 Main St, New York, NY 10001' }), frames) }),
      },
      { name: 'detection_sensitive_level 3', status: 400, code: 'VALIDATION_ERROR', field: 'detection_sensitive_level', request: async () => ({ form: alarmForm(defaultFields({ detection_sensitive_level: '3' }), frames) }) },
      { name: 'no images', status: 400, code: 'INVALID_IMAGE_COUNT', field: 'images', request: async () => ({ form: alarmForm(defaultFields(), []) }) },
      { name: '3 images', status: 400, code: 'INVALID_IMAGE_COUNT', field: 'images', request: async () => ({ form: alarmForm(defaultFields(), frames.slice(0, 3)) }) },
      { name: '5 images', status: 400, code: 'INVALID_IMAGE_COUNT', field: 'images', request: async () => ({ form: alarmForm(defaultFields(), frames.slice(0, 5)) }) },
      { name: '17 images', status: 400, code: 'INVALID_IMAGE_COUNT', field: 'images', request: async () => ({ form: alarmForm(defaultFields(), [...frames, ...frames, jpeg()]) }) },
      { name: 'a text file named .jpg', status: 400, code: 'INVALID_IMAGE', field: 'images[2]', request: async () => ({ form: alarmForm(defaultFields(), frames.map((f, i) => (i === 2 ? { name: 'frame.jpg', bytes: Buffer.from('not an image at all') } : f)).slice(0, 4)) }) },
      { name: 'a truncated JPEG', status: 400, code: 'INVALID_IMAGE', field: 'images[1]', request: async () => ({ form: alarmForm(defaultFields(), frames.map((f, i) => (i === 1 ? { name: f.name, bytes: f.bytes.subarray(0, 600) } : f)).slice(0, 4)) }) },
      {
        name: 'a GIF', status: 400, code: 'INVALID_IMAGE', field: 'images[0]',
        request: async () => ({ form: alarmForm(defaultFields(), [{ name: 'a.gif', bytes: await sharp(jpeg().bytes).gif().toBuffer() }, ...frames.slice(1, 4)]) }),
      },
      {
        name: 'an image over 4096 px', status: 400, code: 'INVALID_IMAGE', field: 'images[3]',
        request: async () => ({
          form: alarmForm(defaultFields(), [...frames.slice(0, 3), { name: 'wide.png', bytes: await sharp({ create: { width: 5000, height: 8, channels: 3, background: '#000' } }).png().toBuffer() }]),
        }),
      },
      { name: 'a file field other than images', status: 400, code: 'VALIDATION_ERROR', field: 'photo', request: async () => ({ form: alarmForm(defaultFields(), frames.slice(0, 4), 'photo') }) },
      {
        name: 'a file over the size limit', status: 413, code: 'PAYLOAD_TOO_LARGE', field: 'images',
        request: async () => ({ form: alarmForm(defaultFields(), [...frames.slice(0, 3), { name: 'big.jpg', bytes: Buffer.alloc(stack.config.api.maxImageBytes + 1, 0xff) }]) }),
      },
    ];

    test('the catalogue has at least 20 cases', () => assert.ok(cases.length >= 20));

    for (const c of cases) {
      test(c.name, async () => {
        const before = await footprint();
        const { form, headers, body } = await c.request();
        const bearer = c.token === undefined ? token : (c.token ?? undefined);
        const response = await api(stack.baseUrl, '/api/v1/alarms', { method: 'POST', body: form ?? body, headers, token: bearer });
        assert.equal(response.status, c.status, JSON.stringify(response.body));
        assert.equal(response.body.success, false);
        assert.equal(response.body.data, null);
        assert.equal(response.body.error?.code, c.code);
        if (c.field) assert.equal(response.body.error?.field, c.field);
        assert.deepEqual(await footprint(), before);
      });
    }
  });

  test('the status of an alarm checks the token, then the job id, then the job', async () => {
    const tooLong = `/api/v1/alarms/${'j'.repeat(301)}`;
    assert.equal((await api(stack.baseUrl, tooLong, {})).body.error?.code, 'UNAUTHENTICATED');
    assert.equal((await api(stack.baseUrl, tooLong, { token: 'vgl_not_a_real_token' })).body.error?.code, 'UNAUTHENTICATED');
    const invalid = await api(stack.baseUrl, tooLong, { token });
    assert.deepEqual([invalid.status, invalid.body.error?.code, invalid.body.error?.field], [400, 'VALIDATION_ERROR', 'job_id']);
    const missing = await api(stack.baseUrl, '/api/v1/alarms/no-such-job', { token });
    assert.deepEqual([missing.status, missing.body.error?.code], [404, 'NOT_FOUND']);
  });

  test('unknown routes and methods answer in the envelope', async () => {
    const missing = await api(stack.baseUrl, '/api/v1/nothing-here', { token });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error?.code, 'NOT_FOUND');
    const wrongMethod = await api(stack.baseUrl, '/api/v1/alarms', { method: 'PUT', token });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.body.error?.code, 'METHOD_NOT_ALLOWED');
  });

  test('site_category is case-insensitive and the form token and Location header work', async () => {
    const response = await submitAlarm(stack.baseUrl, undefined, alarmForm(defaultFields({ site_category: 'Logistics_Warehouse', token }), frames.slice(0, 4)));
    assert.equal(response.status, 202, JSON.stringify(response.body));
    assert.equal(response.headers.get('location'), `/api/v1/alarms/${response.body.data.job_id}`);
    const status = await api<{ status: string }>(stack.baseUrl, response.headers.get('location')!, { token });
    assert.equal(status.status, 200);
    assert.ok(['queued', 'running', 'finished'].includes(status.body.data.status));
    await waitForTerminal(stack.baseUrl, token, response.body.data.job_id);
  });

  test('a burst of alarms for the cameras of a new site is accepted without deadlocks', async () => {
    const site = `burst_${Date.now().toString(36)}`;
    const responses = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        submitAlarm(stack.baseUrl, token, alarmForm(defaultFields({ group_id: site, site_id: site, zone_id: `cam${index}` }), frames.slice(0, 4))),
      ),
    );
    assert.deepEqual(responses.map((r) => r.status), Array(12).fill(202), JSON.stringify(responses.find((r) => r.status !== 202)?.body));
    await Promise.all(responses.map((r) => waitForTerminal(stack.baseUrl, token, r.body.data.job_id)));
  });

  test('cooldown per camera, held in PostgreSQL, and duplicates return the existing job', async () => {
    const cooldownSeconds = stack.config.api.alarmCooldownSeconds;
    const fields = defaultFields({ zone_id: 'cooldown_cam' });
    const first = await submitAlarm(stack.baseUrl, token, alarmForm(fields, frames));
    assert.equal(first.status, 202);

    const before = await footprint();
    const again = await submitAlarm(stack.baseUrl, token, alarmForm({ ...fields, vendor_event_id: 'another-event' }, frames));
    assert.equal(again.status, 429);
    assert.equal(again.body.error?.code, 'RATE_LIMITED');
    const retryAfter = Number(again.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= cooldownSeconds, `Retry-After ${retryAfter}`);
    assert.deepEqual(await footprint(), before);

    const duplicate = await submitAlarm(stack.baseUrl, token, alarmForm(fields, frames));
    assert.equal(duplicate.status, 200);
    assert.equal(duplicate.body.data.job_id, first.body.data.job_id);
    assert.equal(duplicate.body.data.duplicate, true);
    assert.deepEqual(await footprint(), before);

    const otherCamera = await submitAlarm(stack.baseUrl, token, alarmForm({ ...fields, zone_id: 'cooldown_cam_2', vendor_event_id: 'another-event' }, frames));
    assert.equal(otherCamera.status, 202);

    // The cooldown lives in the database: moving the camera's last alarm back in time opens it again.
    await sql`update cameras set last_alarm_at = now() - make_interval(secs => ${cooldownSeconds + 1}) where external_id = 'cooldown_cam'`.execute(stack.db);
    const afterCooldown = await submitAlarm(stack.baseUrl, token, alarmForm({ ...fields, vendor_event_id: 'third-event' }, frames));
    assert.equal(afterCooldown.status, 202);
    await Promise.all(
      [first, otherCamera, afterCooldown].map((r) => waitForTerminal(stack.baseUrl, token, r.body.data.job_id)),
    );
  });

  test('concurrent submissions of one event for an existing camera make one job and answer it as a duplicate', async () => {
    const accountId = (await new AccountRepository(stack.db).findIdByName('acme'))!;
    const camera = await seedCamera(stack.db, accountId);
    const fields = defaultFields({ group_id: camera.ref.groupId, site_id: camera.ref.siteId, zone_id: camera.ref.zoneId });
    const responses = await Promise.all(Array.from({ length: 10 }, () => submitAlarm(stack.baseUrl, token, alarmForm(fields, frames.slice(0, 4)))));

    const statuses = responses.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 200, 202], JSON.stringify(responses.find((r) => r.status === 429)?.body));
    const accepted = responses.find((r) => r.status === 202)!.body.data.job_id;
    for (const duplicate of responses.filter((r) => r.status === 200)) assert.deepEqual([duplicate.body.data.job_id, duplicate.body.data.duplicate], [accepted, true]);
    await waitForTerminal(stack.baseUrl, token, accepted);
  });

  test('accounts are isolated, and export rules hold: admin-only media_type, lock per token and job', async () => {
    const other = await stack.createToken('globex');
    const admin = await stack.createToken('acme', 'admin');
    const secondUserToken = await stack.createToken('acme');
    const submitted = await submitAlarm(stack.baseUrl, token, alarmForm(defaultFields(), frames));
    const jobId = submitted.body.data.job_id;
    await waitForTerminal(stack.baseUrl, token, jobId);

    for (const path of [`/api/v1/alarms/${jobId}`, `/api/v1/alarms/${jobId}/export`]) {
      const foreign = await api(stack.baseUrl, path, { token: other });
      const missing = await api(stack.baseUrl, path.replace(jobId, `${jobId}0`), { token });
      assert.equal(foreign.status, 404);
      assert.equal(foreign.body.error?.code, 'NOT_FOUND');
      assert.deepEqual(foreign.body, missing.body);
    }

    const forbidden = await api(stack.baseUrl, `/api/v1/alarms/${jobId}/export?media_type=1`, { token });
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.error?.code, 'FORBIDDEN');
    const badMediaType = await api(stack.baseUrl, `/api/v1/alarms/${jobId}/export?media_type=abc`, { token });
    assert.equal(badMediaType.status, 400);
    assert.equal(badMediaType.body.error?.field, 'media_type');

    const first = await api(stack.baseUrl, `/api/v1/alarms/${jobId}/export?token=${encodeURIComponent(token)}`);
    assert.equal(first.status, 200);
    const locked = await api(stack.baseUrl, `/api/v1/alarms/${jobId}/export`, { token });
    assert.equal(locked.status, 429);
    assert.equal(locked.body.error?.code, 'EXPORT_LOCKED');
    const retryAfter = Number(locked.headers.get('retry-after'));
    // Within seconds of the whole lock period: the lock began at the first export, just before.
    const lockSeconds = stack.config.api.exportLockSeconds;
    assert.ok(retryAfter > lockSeconds - 10 && retryAfter <= lockSeconds, `Retry-After ${retryAfter}`);
    // The lock is per token and job: another token of the same account still exports once.
    assert.equal((await api(stack.baseUrl, `/api/v1/alarms/${jobId}/export`, { token: secondUserToken })).status, 200);
    assert.equal((await api(stack.baseUrl, `/api/v1/alarms/${jobId}/export`, { token: admin })).status, 200);
  });

  test('a HEAD on an export answers as a GET would, without taking the export lock', async () => {
    const accountId = (await new AccountRepository(stack.db).findIdByName('acme'))!;
    const jobId = await seedJob(stack.db, await seedCamera(stack.db, accountId));
    await finishJob(stack.db, accountId, jobId, [storedDetection()]);
    const exportPath = `/api/v1/alarms/${jobId}/export`;
    const head = () => fetch(stack.baseUrl + exportPath, { method: 'HEAD', headers: { authorization: `Bearer ${token}` } });

    assert.equal((await head()).status, 200);
    const exported = await api(stack.baseUrl, exportPath, { token });
    assert.equal(exported.status, 200, JSON.stringify(exported.body));
    const locked = await head();
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get('retry-after')) >= 1);
  });
});
