import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { VmsRepository, type IncidentKey } from '../../db/repositories/vms.js';
import { jobIdOf } from '../../domain/identifiers.js';
import { migratedDatabase } from '../support/database.js';
import { seedAccount } from '../support/seed.js';

const db = migratedDatabase();
const vms = () => new VmsRepository(db());

const newId = () => jobIdOf('vms_incident', randomBytes(12).toString('hex'));
const event = (accountId: string, eventId: string) => ({
  accountId,
  eventId,
  type: 'INTRUSION_DETECTION',
  displayName: 'Intrusion example',
  configId: 'alert85',
  endOfEvent: false,
  eventTime: new Date(1648549923245),
  payload: { id: eventId, unknown_field: { kept: true } },
});
const sighting = (vmsCameraId: string, seenAt = new Date()) => ({ vmsCameraId, technicalName: `${vmsCameraId}-tech`, displayName: `Camera ${vmsCameraId}`, seenAt });

/** Opens (or joins) the key's incident in a transaction of its own, as one event's ingest does. */
const openOrJoin = (key: IncidentKey, displayName = 'Intrusion example') =>
  db()
    .transaction()
    .execute((trx) => new VmsRepository(trx).openOrJoinIncident({ ...key, id: newId(), vmsCameraId: 'cam', displayName }));

describe('VMS events, incidents and cameras', () => {
  test('an event id is stored once per account; another account may use the same id', async () => {
    const [a, b] = [await seedAccount(db()), await seedAccount(db())];
    const first = await vms().insertEvent(event(a, 'evt-1@x'));
    assert.ok(first);
    assert.equal(await vms().insertEvent(event(a, 'evt-1@x')), undefined);
    assert.ok(await vms().insertEvent(event(b, 'evt-1@x')));
    const stored = await db().selectFrom('vms_events').select('payload').where('id', '=', first).executeTakeFirstOrThrow();
    assert.deepEqual(stored.payload, { id: 'evt-1@x', unknown_field: { kept: true } }, 'unknown fields are kept');
  });

  test('a camera seen is one of the account\'s cameras; last seen only moves forward', async () => {
    const accountId = await seedAccount(db());
    const later = new Date('2026-12-02T10:00:05Z');
    const cameraId = await vms().sawCamera(accountId, sighting('cam76', later));
    assert.equal(await vms().sawCamera(accountId, sighting('cam76', new Date('2026-12-02T10:00:00Z'))), cameraId);
    const [camera] = await vms().cameras(accountId);
    assert.deepEqual([camera?.vms_camera_id, camera?.last_seen_at.toISOString(), camera?.status], ['cam76', later.toISOString(), 'online']);
    const row = await db().selectFrom('cameras').select(['name', 'external_id']).where('id', '=', cameraId).executeTakeFirstOrThrow();
    assert.deepEqual(row, { name: 'Camera cam76', external_id: 'cam76' });
    assert.equal(await vms().setCameraStatus(accountId, cameraId, 'offline'), true);
    assert.equal(await vms().setCameraStatus(accountId, cameraId, 'offline'), false, 'a status is recorded once');
    assert.deepEqual(await vms().cameras(await seedAccount(db())), [], 'another account sees none');
  });

  test('events of one key join one open incident, even concurrently; other keys and closed incidents make new ones', async () => {
    const accountId = await seedAccount(db());
    const cameraId = await vms().sawCamera(accountId, sighting('cam-key'));
    const otherCamera = await vms().sawCamera(accountId, sighting('cam-key-2'));
    const key = { accountId, cameraId, configId: 'alert85', type: 'INTRUSION_DETECTION' };
    const together = await Promise.all(Array.from({ length: 5 }, () => openOrJoin(key)));
    assert.equal(new Set(together.map((r) => r.incidentId)).size, 1);
    assert.equal(together.filter((r) => r.opened).length, 1);
    const incidentId = together[0]!.incidentId;

    const otherConfig = (await openOrJoin({ ...key, configId: 'alert86' })).incidentId;
    const otherType = (await openOrJoin({ ...key, type: 'LOITERING_DETECTION' })).incidentId;
    const onOtherCamera = (await openOrJoin({ ...key, cameraId: otherCamera })).incidentId;
    assert.equal(new Set([incidentId, otherConfig, otherType, onOtherCamera]).size, 4);

    // An end-of-event message closes every open incident of its display name and type, on any camera.
    const named = await vms().openIncidentsNamed(accountId, 'Intrusion example', 'INTRUSION_DETECTION');
    assert.deepEqual(named.sort(), [incidentId, otherConfig, onOtherCamera].sort());
    assert.equal(await vms().closeIncident(accountId, incidentId), true);
    assert.equal(await vms().closeIncident(accountId, incidentId), false);
    const closed = await vms().incident(accountId, incidentId);
    assert.deepEqual([closed?.status, closed?.verdict], ['closed', 'unverified']);
    const job = await db().selectFrom('jobs').select(['status', 'kind']).where('id', '=', incidentId).executeTakeFirstOrThrow();
    assert.deepEqual(job, { status: 'finished', kind: 'vms_incident' });
    const reopened = await openOrJoin(key);
    assert.ok(reopened.opened && reopened.incidentId !== incidentId);
    assert.equal(await vms().incident(await seedAccount(db()), reopened.incidentId), undefined, 'another account finds nothing');
  });

  test('the incident list filters by camera, type, verdict and time, and cursor pages never repeat or skip', async () => {
    const accountId = await seedAccount(db());
    const camA = await vms().sawCamera(accountId, sighting('list-a'));
    const camB = await vms().sawCamera(accountId, sighting('list-b'));
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      const { incidentId } = await openOrJoin({ accountId, cameraId: i % 2 ? camB : camA, configId: `cfg-${i}`, type: i < 5 ? 'INTRUSION_DETECTION' : 'CROWD_DETECTION' });
      made.push(incidentId);
    }
    await db().updateTable('vms_incidents').set({ vms_camera_id: 'list-b' }).where('camera_id', '=', camB).execute();
    await db().updateTable('vms_incidents').set({ vms_camera_id: 'list-a' }).where('camera_id', '=', camA).execute();
    await db().updateTable('vms_incidents').set({ verdict: 'real' }).where('id', 'in', made.slice(0, 3)).execute();

    const walked: string[] = [];
    let after: { openedAt: Date; id: string } | undefined;
    for (;;) {
      const page = await vms().listIncidents(accountId, {}, 3, after);
      walked.push(...page);
      if (page.length < 3) break;
      const last = await vms().incident(accountId, page.at(-1)!);
      after = { openedAt: last!.opened_at, id: last!.id };
    }
    assert.deepEqual([...walked].sort(), [...made].sort());
    assert.equal(new Set(walked).size, walked.length);

    assert.equal((await vms().listIncidents(accountId, { vmsCameraId: 'list-b' }, 50)).length, 3);
    assert.equal((await vms().listIncidents(accountId, { type: 'CROWD_DETECTION' }, 50)).length, 2);
    assert.deepEqual((await vms().listIncidents(accountId, { verdict: 'real' }, 50)).sort(), made.slice(0, 3).sort());
    assert.equal((await vms().listIncidents(accountId, { from: new Date(Date.now() + 60_000) }, 50)).length, 0);
    assert.equal((await vms().listIncidents(accountId, { to: new Date(Date.now() + 60_000) }, 50)).length, 7);
    assert.deepEqual(await vms().listIncidents(await seedAccount(db()), {}, 50), []);
  });

  test('a snapshot held for an event is taken once, and not after it expired', async () => {
    const accountId = await seedAccount(db());
    await vms().putPendingSnapshot(accountId, 'evt-held', 'Cam-Tech', 'vms-pending/a.jpg');
    assert.equal(await vms().putPendingSnapshot(accountId, 'evt-held', 'Cam-Tech', 'vms-pending/b.jpg'), 'vms-pending/a.jpg', 'a newer one replaces it');
    assert.equal(await vms().takePendingSnapshot(accountId, 'evt-held', 'Other-Tech', 60), undefined);
    assert.equal(await vms().takePendingSnapshot(accountId, 'evt-held', 'Cam-Tech', 60), 'vms-pending/b.jpg');
    assert.equal(await vms().takePendingSnapshot(accountId, 'evt-held', 'Cam-Tech', 60), undefined);

    await vms().putPendingSnapshot(accountId, 'evt-old', 'Cam-Tech', 'vms-pending/old.jpg');
    await db().updateTable('vms_pending_snapshots').set({ received_at: new Date(Date.now() - 120_000) }).where('event_id', '=', 'evt-old').execute();
    assert.equal(await vms().takePendingSnapshot(accountId, 'evt-old', 'Cam-Tech', 60), undefined);
    assert.deepEqual(await vms().expirePendingSnapshots(60), ['vms-pending/old.jpg']);
  });
});
