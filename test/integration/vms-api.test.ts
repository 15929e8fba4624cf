import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import sharp from 'sharp';
import { resendOwedSignals } from '../../commands/vms-signals.js';
import { AccountRepository } from '../../db/repositories/accounts.js';
import { VmsRepository } from '../../db/repositories/vms.js';
import { WebhookRepository } from '../../db/repositories/webhooks.js';
import { createLogger } from '../../logging/logger.js';
import { jobMediaPrefix } from '../../media/store.js';
import { api, bareApi } from '../support/alarms.js';
import { runVigilCli } from '../support/cli.js';
import { startStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';
import { exampleEvent, fixtureJpeg, fixtureSnapshot, personBox, type ExampleOptions } from '../support/vms-events.js';

interface Incident {
  incident_id: string;
  status: 'open' | 'closed';
  verdict: string;
  type: string;
  decision: string | null;
  camera: { camera_id: string; technical_name: string };
  events: {
    event_id: string;
    snapshot: { frame_index: number } | null;
    vms_detections: { type: string; bounding_box: { height: number } }[];
    vigil_detections: { object_type: string; kept: boolean }[];
  }[];
}

interface Ingested {
  event_id: string;
  duplicate: boolean;
  incident_ids: string[];
  closed_incident_ids: string[];
}

interface Hook {
  type: string;
  job_id?: string;
  data: Record<string, unknown>;
}

const secret = 'whsec_vms_0c1d2e3f';

describe('VMS events on the real stack', () => {
  let stack: TestStack;
  let receiver: WebhookReceiver;
  let token: string;
  let otherToken: string;
  let unique = 0;
  const nextId = (label: string) => `${Date.now()}${++unique}@test_${label}`;

  const post = (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${token}` }) =>
    api<Ingested>(stack.baseUrl, '/api/v1/vms/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const accepted = async (options: ExampleOptions) => {
    const response = await post(exampleEvent(options));
    assert.equal(response.status, 202, JSON.stringify(response.body));
    return response.body.data;
  };
  const incident = (id: string, as = token) => api<Incident>(stack.baseUrl, `/api/v1/vms/incidents/${id}`, { token: as });
  const incidentWhere = (id: string, what: string, check: (i: Incident) => boolean, timeoutMs = 90_000) =>
    waitFor(`incident ${id} ${what}`, async () => {
      const response = await incident(id);
      return response.status === 200 && check(response.body.data) ? response.body.data : undefined;
    }, timeoutMs, 200);
  const hooks = () => receiver.received('/hooks').map((hook) => JSON.parse(hook.body.toString('utf8')) as Hook);
  const hooksOf = (type: string, subject: (hook: Hook) => boolean) => hooks().filter((hook) => hook.type === type && subject(hook));
  const snapshotFilesOf = async (incidentId: string) => {
    assert.equal(stack.config.mediaStore.kind, 'filesystem');
    const folder = jobMediaPrefix('vms_incident', incidentId);
    const entries = await readdir(path.join(stack.config.mediaStore.dir, folder), { withFileTypes: true });
    return entries.filter((entry) => entry.isFile() && entry.name.startsWith('snapshot')).map((entry) => `${folder}/${entry.name}`);
  };
  const counts = async () => {
    const row = await sql<{ events: string; cameras: string; incidents: string; pending: string }>`
      select (select count(*) from vms_events) as events, (select count(*) from vms_cameras) as cameras,
             (select count(*) from vms_incidents) as incidents, (select count(*) from vms_pending_snapshots) as pending`.execute(stack.db);
    return row.rows[0]!;
  };

  before(async () => {
    stack = await startStack({
      env: {
        VMS_OFFLINE_AFTER_S: '4',
        VMS_REVERIFY_S: '1',
        VMS_SNAPSHOT_WAIT_S: '30',
        WEBHOOK_INITIAL_INTERVAL_S: '0.2',
        WEBHOOK_MAX_INTERVAL_S: '1',
        WEBHOOK_MAX_ATTEMPTS: '3',
      },
    });
    receiver = await startWebhookReceiver();
    token = await stack.createToken('vmsco');
    otherToken = await stack.createToken('elsewhere');
    const accountId = await new AccountRepository(stack.db).findIdByName('vmsco');
    await new WebhookRepository(stack.db, stack.secrets).setAccountDefault(accountId!, { url: receiver.url('/hooks'), secret });
    await runVigilCli(stack.config.database.url, ['vms', 'forward', 'set', '--account', 'vmsco', '--url', receiver.url('/psim'), '--secret', secret], { WEBHOOK_ALLOW_PRIVATE: 'true' });
  });
  after(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  test('an intrusion with people on its snapshot is verified real, keeps the VMS box beside Vigil\'s, and end_of_event closes it', async () => {
    const snapshot = await fixtureSnapshot('pets2009_people_walking_a');
    const ingested = await accepted({ id: nextId('intrusion'), cameraId: 'cam-real', configId: 'alert85', displayName: 'Intrusion real', snapshot });
    assert.equal(ingested.incident_ids.length, 1);
    const [incidentId] = ingested.incident_ids;
    const verified = await incidentWhere(incidentId!, 'verified', (i) => i.verdict !== 'pending');
    assert.equal(verified.verdict, 'real', JSON.stringify(verified));
    assert.equal(verified.status, 'open');
    assert.equal(verified.camera.camera_id, 'cam-real');
    const [event] = verified.events;
    assert.deepEqual(event?.vms_detections.map((d) => d.type), ['PERSON_FULL_BODY']);
    assert.ok(event?.vigil_detections.some((d) => d.object_type === 'person' && d.kept), JSON.stringify(event?.vigil_detections));

    const verdictHook = await waitFor('the vms_incident.verified webhook', () => hooksOf('vms_incident.verified', (h) => h.job_id === incidentId)[0]);
    assert.equal(verdictHook.data.verdict, 'real');

    const end = await accepted({ id: nextId('intrusion-end'), cameraId: 'cam-real', configId: 'alert85', displayName: 'Intrusion real', detections: [], endOfEvent: true });
    assert.deepEqual(end.closed_incident_ids, [incidentId]);
    const closed = await incidentWhere(incidentId!, 'closed', (i) => i.status === 'closed');
    assert.equal(closed.verdict, 'real');
    const finished = await waitFor('the vms_incident.finished webhook', () => hooksOf('vms_incident.finished', (h) => h.job_id === incidentId)[0]);
    assert.equal(finished.data.status, 'closed');

    // The camera is one of the account's: its detections are in the detections API, under the VMS site.
    const listed = await bareApi<{ items: { object_type: string }[] }>(stack.baseUrl, '/api/detections?camera_id=vms/vms/cam-real&limit=100', { token });
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.ok(listed.body.items.some((d) => d.object_type === 'person'), JSON.stringify(listed.body.items));

    // Confirmed: forwarded once to the account's VMS/PSIM target, in the VMS's schema with Vigil's detections and the snapshot.
    const [forwarded] = await waitFor('the forwarded event', () => (receiver.received('/psim').length > 0 ? receiver.received('/psim') : undefined));
    const message = JSON.parse(forwarded!.body.toString('utf8')) as Record<string, { source: { detections: { type: string }[]; snapshot: string } } | unknown>;
    assert.equal(message.type, 'INTRUSION_DETECTION');
    assert.equal(message.schema_version, 5);
    const source = (message.intrusion_detection_details as { source: { detections: { type: string }[]; snapshot: string; camera_id: string } }).source;
    assert.equal(source.camera_id, 'cam-real');
    assert.ok(source.detections.some((d) => d.type === 'PERSON_FULL_BODY'));
    assert.equal(Buffer.from(source.snapshot, 'base64').subarray(0, 2).toString('hex'), 'ffd8', 'a JPEG snapshot');
    assert.match(String(forwarded!.headers['x-webhook-signature']), /^sha256=[0-9a-f]{64}$/);
    const deliveries = await api<{ deliveries: { type: string; status: string; attempts: unknown[] }[] }>(stack.baseUrl, `/api/v1/jobs/${incidentId}/deliveries`, { token });
    assert.equal(deliveries.status, 200, JSON.stringify(deliveries.body));
    const forwardDelivery = deliveries.body.data.deliveries.find((d) => d.type === 'vms_incident.forwarded');
    assert.deepEqual([forwardDelivery?.status, forwardDelivery?.attempts.length], ['delivered', 1]);
  });

  test('an intrusion on an empty scene is suppressed', async () => {
    const snapshot = await fixtureSnapshot('parking_lot_empty_a');
    const { incident_ids: [incidentId] } = await accepted({ id: nextId('empty'), cameraId: 'cam-empty', configId: 'alert86', snapshot });
    const verified = await incidentWhere(incidentId!, 'verified', (i) => i.verdict !== 'pending');
    assert.equal(verified.verdict, 'suppressed', JSON.stringify(verified));
    assert.ok(!verified.events[0]!.vigil_detections.some((d) => d.object_type === 'person' && d.kept));
  });

  test('a loitering incident stays open over several events (quoted numbers, zero-height boxes) and is closed by end_of_event', async () => {
    const options = { type: 'LOITERING_DETECTION', cameraId: 'cam-loiter', configId: 'alert93', displayName: 'Loitering example', quotedNumbers: true } as const;
    const flatBox = { type: 'PERSON_FULL_BODY', bounding_box: { x: '1041', y: '25', width: '528', height: '0' }, detection_confidence: '0.938471615' };
    const ids: string[] = [];
    for (const frame of [0, 3, 6]) {
      const ingested = await accepted({ ...options, id: nextId(`loiter-${frame}`), detections: [flatBox], snapshot: await fixtureSnapshot('pets2009_people_walking_b', frame) });
      ids.push(...ingested.incident_ids);
    }
    assert.equal(new Set(ids).size, 1, 'every event joined one incident');
    const incidentId = ids[0]!;
    const verified = await incidentWhere(incidentId, 'verified with its three snapshots', (i) => i.verdict !== 'pending' && i.events.every((e) => e.snapshot !== null));
    assert.equal(verified.events.length, 3);
    assert.equal(verified.events[0]!.vms_detections[0]!.bounding_box.height, 0);
    assert.equal(verified.status, 'open');

    const end = await accepted({ ...options, id: nextId('loiter-end'), detections: [], endOfEvent: true });
    assert.deepEqual(end.closed_incident_ids, [incidentId]);
    await incidentWhere(incidentId, 'closed', (i) => i.status === 'closed');
    // The next loitering event opens a new incident.
    const again = await accepted({ ...options, id: nextId('loiter-again'), detections: [flatBox] });
    assert.notEqual(again.incident_ids[0], incidentId);
  });

  test('a crowd event opens an incident for its camera and is verified', async () => {
    const snapshot = await fixtureSnapshot('pets2009_people_walking_a', 2);
    const { incident_ids: [incidentId] } = await accepted({ id: nextId('crowd'), type: 'CROWD_DETECTION', cameraId: 'cam-crowd', configId: 'alert89', snapshot });
    const verified = await incidentWhere(incidentId!, 'verified', (i) => i.verdict !== 'pending');
    assert.equal(verified.type, 'CROWD_DETECTION');
    assert.equal(verified.verdict, 'real');
  });

  test('a snapshot PUT after its event is attached and verified; one PUT before its event waits for it', async () => {
    const jpeg = await fixtureJpeg('pets2009_people_walking_a', 4);
    const put = (eventId: string, technicalName: string, bytes: Uint8Array, type = 'image/jpeg') => {
      const form = new FormData();
      form.append('snapshot', new Blob([bytes], { type }), 'snapshot.jpg');
      return api<{ status: string }>(stack.baseUrl, `/api/v1/vms/snapshot/${encodeURIComponent(eventId)}/${encodeURIComponent(technicalName)}`, { method: 'PUT', body: form, token });
    };

    const later = nextId('deferred');
    const { incident_ids: [incidentId] } = await accepted({ id: later, cameraId: 'cam-deferred', configId: 'alert70', technicalName: 'Deferred-Cam' });
    assert.equal((await incident(incidentId!)).body.data.verdict, 'pending');
    const attached = await put(later, 'Deferred-Cam', jpeg);
    assert.equal(attached.status, 201, JSON.stringify(attached.body));
    assert.equal(attached.body.data.status, 'attached');
    assert.equal((await put(later, 'Deferred-Cam', jpeg)).body.data.status, 'already_attached');
    const verified = await incidentWhere(incidentId!, 'verified', (i) => i.verdict !== 'pending');
    assert.equal(verified.verdict, 'real');

    const early = nextId('early');
    const held = await put(early, 'Early-Cam', jpeg);
    assert.equal(held.body.data.status, 'pending', JSON.stringify(held.body));
    const { incident_ids: [earlyIncident] } = await accepted({ id: early, cameraId: 'cam-early', configId: 'alert71', technicalName: 'Early-Cam' });
    const matched = await incidentWhere(earlyIncident!, 'verified with the held snapshot', (i) => i.verdict !== 'pending');
    assert.notEqual(matched.events[0]!.snapshot, null);
    assert.equal(Number((await counts()).pending), 0);

    const notJpeg = await put(nextId('png'), 'Early-Cam', await sharp(jpeg).png().toBuffer(), 'image/png');
    assert.equal(notJpeg.status, 400);
    assert.equal(notJpeg.body.error?.code, 'INVALID_IMAGE');
  });

  test('a signal owed by a committed event whose API died before sending it is sent by the sweep', async () => {
    const options = { cameraId: 'cam-owed', configId: 'alert73', displayName: 'Intrusion owed' };
    const { incident_ids: [incidentId] } = await accepted({ ...options, id: nextId('owed'), snapshot: await fixtureSnapshot('pets2009_people_walking_a') });
    await incidentWhere(incidentId!, 'verified', (i) => i.verdict !== 'pending');
    const accountId = (await new AccountRepository(stack.db).findIdByName('vmsco'))!;
    // What an end of event leaves when its API is killed between the commit and the signal: the close, owed.
    const owed = await stack.db.transaction().execute((trx) => new VmsRepository(trx).oweCloseOfIncidentsNamed(accountId, options.displayName, 'INTRUSION_DETECTION'));
    assert.deepEqual(owed.map((o) => o.subjectId), [incidentId]);
    const sweepDeps = { db: stack.db, temporal: stack.temporal, logger: createLogger('warn', 'test'), analysisTaskQueue: stack.config.temporal.analysisTaskQueue, vms: stack.config.vms };
    const stillOwed = async () => Number((await sql<{ n: string }>`select count(*) as n from vms_owed_signals where subject_id = ${incidentId!}`.execute(stack.db)).rows[0]!.n);
    await resendOwedSignals(sweepDeps);
    assert.equal(await stillOwed(), 1, 'a signal just owed may still be on its way: not sent again yet');
    assert.equal((await incident(incidentId!)).body.data.status, 'open');

    await sql`update vms_owed_signals set owed_at = now() - interval '1 minute' where subject_id = ${incidentId!}`.execute(stack.db);
    assert.ok((await resendOwedSignals(sweepDeps)) >= 1);
    await incidentWhere(incidentId!, 'closed by the sent signal', (i) => i.status === 'closed');
    assert.equal(await stillOwed(), 0, 'sent, so no longer owed');
  });

  test('a duplicate id is answered as such and changes nothing, its snapshot left nowhere', async () => {
    const id = nextId('dup');
    const snapshot = await fixtureSnapshot('pets2009_people_walking_a', 1);
    const first = await accepted({ id, cameraId: 'cam-dup', configId: 'alert72', snapshot });
    const incidentId = first.incident_ids[0]!;
    const before = await counts();
    const again = await post(exampleEvent({ id, cameraId: 'cam-dup', configId: 'alert72', snapshot }));
    assert.equal(again.status, 200);
    assert.deepEqual([again.body.data.duplicate, again.body.data.incident_ids], [true, []]);
    assert.deepEqual(await counts(), before);
    const stored = await incident(incidentId);
    assert.equal(stored.body.data.events.length, 1);
    // The snapshot files under the incident are exactly its frames: the duplicate's, written before its transaction, is gone.
    const frames = await stack.db.selectFrom('frames').select('media_key').where('job_id', '=', incidentId).execute();
    assert.equal(frames.length, 1);
    assert.deepEqual(await snapshotFilesOf(incidentId), frames.map((frame) => frame.media_key));
  });

  test('a camera heard only through heartbeats goes offline once after VMS_OFFLINE_AFTER_S and online once when heard again', async () => {
    const heartbeat = () => accepted({ id: nextId('hb'), cameraId: 'cam-heartbeat', heartbeat: true, detections: [] });
    const first = await heartbeat();
    assert.deepEqual(first.incident_ids, []);
    const ofCamera = (h: Hook) => h.data.camera_id === 'cam-heartbeat';
    await waitFor('camera.offline', () => hooksOf('camera.offline', ofCamera)[0], 30_000, 200);
    const cameras = await api<{ items: { camera_id: string; status: string }[] }>(stack.baseUrl, '/api/v1/vms/cameras', { token });
    assert.equal(cameras.body.data.items.find((c) => c.camera_id === 'cam-heartbeat')?.status, 'offline');

    await heartbeat();
    await heartbeat();
    await waitFor('camera.online', () => hooksOf('camera.online', ofCamera)[0], 30_000, 200);
    const online = await api<{ items: { camera_id: string; status: string }[] }>(stack.baseUrl, '/api/v1/vms/cameras', { token });
    assert.equal(online.body.data.items.find((c) => c.camera_id === 'cam-heartbeat')?.status, 'online');
    assert.equal(hooksOf('camera.offline', ofCamera).length, 1);
    assert.equal(hooksOf('camera.online', ofCamera).length, 1);
  });

  test('bad input is refused with a stable code and field, and leaves nothing behind', async () => {
    const before = await counts();
    const refused = async (body: unknown, code: string, field: string) => {
      const response = await post(body);
      assert.equal(response.status, 400, JSON.stringify(response.body));
      assert.equal(response.body.error?.code, code, JSON.stringify(response.body));
      assert.equal(response.body.error?.field, field, JSON.stringify(response.body));
    };
    await refused('{"id": "x", "type": ', 'VALIDATION_ERROR', 'body');
    await refused('[1, 2]', 'VALIDATION_ERROR', 'body');
    const { id: _id, ...withoutId } = exampleEvent({ id: nextId('bad'), cameraId: 'cam-bad' });
    await refused(withoutId, 'VALIDATION_ERROR', 'id');
    const { type: _type, ...withoutType } = exampleEvent({ id: nextId('bad'), cameraId: 'cam-bad' });
    await refused(withoutType, 'VALIDATION_ERROR', 'type');
    await refused({ ...exampleEvent({ id: nextId('bad'), cameraId: 'cam-bad' }), type: 'NOT_A_TYPE' }, 'VALIDATION_ERROR', 'type');
    const mismatched = exampleEvent({ id: nextId('bad'), cameraId: 'cam-bad' });
    mismatched.loitering_details = mismatched.intrusion_detection_details;
    mismatched.intrusion_detection_details = null;
    await refused(mismatched, 'VALIDATION_ERROR', 'loitering_details');
    await refused(exampleEvent({ id: nextId('bad'), cameraId: 'cam-bad', snapshot: 'not base64!' }), 'VALIDATION_ERROR', 'intrusion_detection_details.source.snapshot');
    const png = (await sharp(await fixtureJpeg('parking_lot_empty_a')).png().toBuffer()).toString('base64');
    await refused(exampleEvent({ id: nextId('bad'), cameraId: 'cam-bad', snapshot: png }), 'INVALID_IMAGE', 'intrusion_detection_details.source.snapshot');
    const truncated = (await fixtureJpeg('parking_lot_empty_a')).subarray(0, 2000).toString('base64');
    await refused(exampleEvent({ id: nextId('bad'), cameraId: 'cam-bad', snapshot: truncated }), 'INVALID_IMAGE', 'intrusion_detection_details.source.snapshot');
    await refused(exampleEvent({ id: nextId('bad'), type: 'CROWD_DETECTION', cameraId: 'cam-bad', snapshot: png }), 'INVALID_IMAGE', 'crowd_detection_details.sources.0.snapshot');
    assert.deepEqual(await counts(), before, 'nothing stored');

    const unauthenticated = await post(exampleEvent({ id: nextId('anon') }), {});
    assert.equal(unauthenticated.status, 401);
  });

  test('every example type is accepted, the token may come in the header the account configured, and nothing crosses accounts', async () => {
    for (const type of ['MULTI_OBJECT_DETECTION', 'ZONE_CROSSING', 'STOPPED_DETECTION', 'WRONG_DIRECTION_DETECTION', 'PPE_DETECTION'] as const) {
      const detections = type === 'STOPPED_DETECTION' || type === 'WRONG_DIRECTION_DETECTION' ? [{ ...personBox, type: 'CAR' }] : [personBox];
      const ingested = await accepted({ id: nextId(type), type, cameraId: 'cam-types', configId: `cfg-${type}`, detections, snapshot: null });
      assert.equal(ingested.incident_ids.length, 1, type);
    }
    const unknown = await post({ id: nextId('unknown'), type: 'UNKNOWN', schema_version: 5, extra: { kept: true } });
    assert.equal(unknown.status, 202, JSON.stringify(unknown.body));

    await runVigilCli(stack.config.database.url, ['vms', 'set-header', '--account', 'vmsco', '--header', 'X-Vms-Key']);
    const viaHeader = await post(exampleEvent({ id: nextId('header'), cameraId: 'cam-header' }), { 'x-vms-key': token });
    assert.equal(viaHeader.status, 202, JSON.stringify(viaHeader.body));
    const otherAccountsHeader = await post(exampleEvent({ id: nextId('header') }), { 'x-vms-key': otherToken });
    assert.equal(otherAccountsHeader.status, 401, 'a token counts only in its own account\'s header');

    const incidentId = viaHeader.body.data.incident_ids[0]!;
    assert.equal((await incident(incidentId, otherToken)).status, 404);
    const others = await api<{ items: unknown[] }>(stack.baseUrl, '/api/v1/vms/incidents', { token: otherToken });
    assert.deepEqual(others.body.data.items, []);
    const otherCameras = await api<{ items: unknown[] }>(stack.baseUrl, '/api/v1/vms/cameras', { token: otherToken });
    assert.deepEqual(otherCameras.body.data.items, []);
    assert.equal((await api(stack.baseUrl, '/api/v1/vms/cameras/cam-header', { token: otherToken })).status, 404);
    assert.equal((await api(stack.baseUrl, '/api/v1/vms/cameras/cam-header', { token })).status, 200);
  });

  test('the incident list filters by camera, type and verdict, and walks in cursor pages', async () => {
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof api<{ items: Incident[]; next_cursor: string | null }>>> = await api(
        stack.baseUrl,
        `/api/v1/vms/incidents?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { token },
      );
      assert.equal(page.status, 200, JSON.stringify(page.body));
      assert.ok(page.body.data.items.length <= 2);
      all.push(...page.body.data.items.map((i) => i.incident_id));
      cursor = page.body.data.next_cursor;
    } while (cursor);
    assert.equal(new Set(all).size, all.length, 'no incident twice');
    assert.equal(all.length, Number((await counts()).incidents));

    const loitering = await api<{ items: Incident[] }>(stack.baseUrl, '/api/v1/vms/incidents?type=LOITERING_DETECTION&camera_id=cam-loiter', { token });
    assert.equal(loitering.body.data.items.length, 2);
    const suppressed = await api<{ items: Incident[] }>(stack.baseUrl, '/api/v1/vms/incidents?verdict=suppressed', { token });
    assert.ok(suppressed.body.data.items.every((i) => i.verdict === 'suppressed') && suppressed.body.data.items.length >= 1);
    const badCursor = await api(stack.baseUrl, '/api/v1/vms/incidents?cursor=nope', { token });
    assert.equal(badCursor.status, 400);
  });
});
