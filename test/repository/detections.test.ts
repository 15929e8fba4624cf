import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DetectionRepository, type DetectionFilters, type DetectionPosition, type NewApiDetection } from '../../db/repositories/detections.js';
import { JobRepository } from '../../db/repositories/jobs.js';
import { TenancyRepository } from '../../db/repositories/tenancy.js';
import { categoryOfObjectType } from '../../domain/object-types.js';
import { migratedDatabase } from '../support/database.js';
import { alarmResult, finishJob, frameSize, seedAccount, seedCamera, seedJob, storedDetection, type SeededCamera } from '../support/seed.js';

const db = migratedDatabase();
const detections = () => new DetectionRepository(db());

const noon = Date.parse('2026-11-20T12:00:00.000Z');
const minutes = (n: number) => new Date(noon + n * 60_000);

function apiDetection(camera: SeededCamera, overrides: Partial<NewApiDetection> = {}): NewApiDetection {
  const objectType = overrides.objectType ?? 'car';
  return {
    cameraId: camera.id,
    objectType,
    category: categoryOfObjectType(objectType)!,
    score: 0.8,
    box: [10, 20, 110, 70],
    detectedAt: minutes(0),
    mediaType: 'image',
    filePath: '/export/cam/img.jpg',
    fileType: 'image/jpeg',
    labels: [],
    ...overrides,
  };
}

const create = async (camera: SeededCamera, overrides: Partial<NewApiDetection> = {}) =>
  (await detections().createMany(camera.accountId, [apiDetection(camera, overrides)]))[0]!;

/** A finished alarm of `camera` (3 frames): kept, a person and a car on frame 0 and a person on frame 2; removed by a filter, a person on frame 1. */
async function seedAlarm(camera: SeededCamera, description = 'A person walks across the car park') {
  const jobId = await seedJob(db(), camera, { frames: 3 });
  await new JobRepository(db()).markRunning(camera.accountId, jobId);
  await finishJob(
    db(),
    camera.accountId,
    jobId,
    [
      storedDetection({ frameIndex: 0, score: 0.9 }),
      storedDetection({ frameIndex: 0, label: 'car', score: 0.4 }),
      storedDetection({ frameIndex: 1, kept: false, filteredBy: 'filtered_small_box' }),
      storedDetection({ frameIndex: 2, score: 0.7 }),
    ],
    alarmResult({ has_person: true, ai_description: description, ai_decision_indicators: ['person_detected', 'after_hours'] }),
  );
  const rows = await db()
    .selectFrom('detections')
    .select(['public_id as id', 'kept', 'label', 'frame_index'])
    .where('job_id', '=', jobId)
    .orderBy('frame_index')
    .execute();
  return {
    jobId,
    keptIds: rows.filter((r) => r.kept).map((r) => r.id),
    firstPersonId: rows.find((r) => r.frame_index === 0 && r.label === 'person')!.id,
    filteredId: rows.find((r) => !r.kept)!.id,
  };
}

interface KeptRow {
  id: number;
  detected_at: Date;
  camera_id: string | null;
  label: string;
  category: string;
  score: number;
}

/** The account's kept detections that `where` accepts, straight from the table, in the list order: newest first, then id descending. */
async function keptInListOrder(accountId: string, where: (row: KeptRow) => boolean = () => true): Promise<number[]> {
  const rows = await db()
    .selectFrom('detections')
    .select(['public_id as id', 'detected_at', 'camera_id', 'label', 'category', 'score'])
    .where('account_id', '=', accountId)
    .where('kept', '=', true)
    .execute();
  return rows
    .filter(where)
    .sort((a, b) => b.detected_at.getTime() - a.detected_at.getTime() || b.id - a.id)
    .map((r) => r.id);
}

/** Follows the cursors from the first page to the last, as the API's next_cursor does. */
async function walk(accountId: string, filters: DetectionFilters, limit: number, betweenPages: () => Promise<unknown> = async () => undefined) {
  const ids: number[] = [];
  let after: DetectionPosition | undefined;
  let pages = 0;
  for (;;) {
    const page = await detections().list(accountId, filters, { limit, after });
    pages += 1;
    assert.ok(page.items.length <= limit);
    ids.push(...page.items.map((d) => d.id));
    const last = page.items.at(-1);
    if (!page.hasMore || !last) return { ids, pages };
    after = { detectedAt: last.detectedAt, id: last.id };
    await betweenPages();
  }
}

const allOf = async (accountId: string, filters: DetectionFilters = {}) => (await detections().list(accountId, filters, { limit: 1000 })).items.map((d) => d.id);

describe('listing detections', () => {
  test('a cursor walk visits every kept detection once, newest first, through pages that end inside ties on time', async () => {
    const accountId = await seedAccount(db());
    const [lobby, dock] = [await seedCamera(db(), accountId), await seedCamera(db(), accountId)];
    // Five instants with four detections each, and an alarm whose detections share its finishing time.
    for (let t = 0; t < 5; t++) {
      for (const camera of [lobby, dock, lobby, dock]) await create(camera, { detectedAt: minutes(t) });
    }
    const alarm = await seedAlarm(lobby);

    const expected = await keptInListOrder(accountId);
    assert.equal(expected.length, 23);
    // Pages of two end inside the alarm's three: its cursor must hold the stored time exactly.
    const { ids, pages } = await walk(accountId, {}, 2);
    assert.deepEqual(ids, expected);
    assert.equal(pages, 12);
    assert.ok(!ids.includes(alarm.filteredId), 'a detection a filter removed is not listed');

    const lobbyOnly = await walk(accountId, { camera: lobby.ref }, 3);
    assert.deepEqual(lobbyOnly.ids, await keptInListOrder(accountId, (r) => r.camera_id === lobby.id));

    const page = await detections().list(accountId, {}, { limit: 3 });
    assert.equal(page.total, 23, 'the total counts every page');
  });

  test('offset pages follow the same order', async () => {
    const accountId = await seedAccount(db());
    const camera = await seedCamera(db(), accountId);
    for (let i = 0; i < 7; i++) await create(camera, { detectedAt: minutes(i % 2) });
    const expected = await keptInListOrder(accountId);
    const pages = [];
    for (let offset = 0; offset < 7; offset += 3) pages.push(await detections().list(accountId, {}, { limit: 3, offset }));
    assert.deepEqual(pages.flatMap((p) => p.items.map((d) => d.id)), expected);
    assert.deepEqual(pages.map((p) => p.hasMore), [true, true, false]);
  });

  test('detections arriving during a walk neither repeat nor hide one that was there', async () => {
    const accountId = await seedAccount(db());
    const camera = await seedCamera(db(), accountId);
    for (let i = 0; i < 10; i++) await create(camera, { detectedAt: minutes(i % 4) });
    const existing = await keptInListOrder(accountId);
    const arrivedNewer: number[] = [];
    const arrivedOlder: number[] = [];
    const { ids } = await walk(accountId, {}, 3, async () => {
      arrivedNewer.push(await create(camera, { detectedAt: minutes(60) }));
      arrivedOlder.push(await create(camera, { detectedAt: minutes(-60 - arrivedOlder.length) }));
    });
    assert.equal(new Set(ids).size, ids.length, 'no detection twice');
    assert.deepEqual(ids.slice(0, existing.length), existing);
    assert.ok(!arrivedNewer.some((id) => ids.includes(id)), 'newer than the position: left for a fresh walk');
    assert.deepEqual(ids.slice(existing.length), arrivedOlder, 'older than the position: still ahead of the walk');
  });

  test('filters: object type or category, camera, time window and confidence, bounds included', async () => {
    const accountId = await seedAccount(db());
    const [lobby, dock] = [await seedCamera(db(), accountId), await seedCamera(db(), accountId)];
    await create(lobby, { objectType: 'car', score: 0.5, detectedAt: minutes(1) });
    await create(lobby, { objectType: 'person', score: 0.9, detectedAt: minutes(2) });
    const truck = await create(dock, { objectType: 'truck', score: 0.6, detectedAt: minutes(3) });
    await create(dock, { objectType: 'person', score: 0.59, detectedAt: minutes(2) });
    const bus = await create(lobby, { objectType: 'bus', score: 0.6, detectedAt: minutes(4) });
    await create(dock, { objectType: 'knife', score: 0.95, detectedAt: minutes(5) });
    await seedAlarm(lobby);
    const everything = await keptInListOrder(accountId);

    const cases: [DetectionFilters, (row: KeptRow) => boolean][] = [
      [{ objectType: 'car' }, (r) => r.label === 'car'],
      [{ objectType: 'vehicle' }, (r) => r.category === 'vehicle'],
      [{ camera: dock.ref }, (r) => r.camera_id === dock.id],
      [{ camera: { ...dock.ref, zoneId: 'no_such_zone' } }, () => false],
      [{ from: minutes(2), to: minutes(4) }, (r) => r.detected_at >= minutes(2) && r.detected_at <= minutes(4)],
      [{ minConfidence: 0.6 }, (r) => r.score >= 0.6],
      [{ camera: dock.ref, objectType: 'person', minConfidence: 0.5 }, (r) => r.camera_id === dock.id && r.label === 'person' && r.score >= 0.5],
    ];
    for (const [filters, matches] of cases) {
      const expected = await keptInListOrder(accountId, matches);
      assert.ok(expected.length < everything.length, `${JSON.stringify(filters)} leaves something out`);
      assert.deepEqual(await allOf(accountId, filters), expected, JSON.stringify(filters));
      assert.equal((await detections().list(accountId, filters, { limit: 1 })).total, expected.length, JSON.stringify(filters));
    }
    const confident = await allOf(accountId, { minConfidence: 0.6 });
    assert.ok(confident.includes(truck) && confident.includes(bus), 'a score equal to the bound is included');
    assert.deepEqual(await allOf(accountId, { from: minutes(3), to: minutes(3) }), [truck], 'a window of one instant');
  });
});

describe('searching detections', () => {
  test("the object type ranks above the camera's name, and that above the event's text", async () => {
    const accountId = await seedAccount(db());
    const [lobby, bay] = [await seedCamera(db(), accountId), await seedCamera(db(), accountId)];
    await new TenancyRepository(db()).applySubmission(accountId, bay.id, { groupName: null, siteName: null, zoneName: 'Truck Bay', siteCategory: 'commercial', siteAddress: null });
    const truck = await create(lobby, { objectType: 'truck' });
    const inTheBay = await create(bay, { objectType: 'person' });
    const described = await seedAlarm(lobby, 'A truck reverses up to the gate');
    await create(lobby, { objectType: 'car' });

    const found = await detections().search(accountId, 'truck', {}, { limit: 10, offset: 0 });
    assert.deepEqual(found.items.map((d) => d.id), [truck, inTheBay, ...(await keptInListOrder(accountId, (r) => described.keptIds.includes(r.id)))]);
    assert.equal(found.total, 2 + described.keptIds.length);
    const relevance = found.items.map((d) => d.relevance);
    assert.ok(relevance[0]! > relevance[1]! && relevance[1]! > relevance[2]!, JSON.stringify(relevance));
    assert.equal((await detections().search(accountId, 'zebra', {}, { limit: 10, offset: 0 })).total, 0);
  });

  test('labels: all of those asked for, from the bulk request or from the event; filters and offset pages as listed', async () => {
    const accountId = await seedAccount(db());
    const camera = await seedCamera(db(), accountId);
    const gateAtNight = await create(camera, { objectType: 'person', labels: ['gate', 'night'], score: 0.9 });
    const gate = await create(camera, { objectType: 'person', labels: ['gate'], score: 0.5 });
    await create(camera, { objectType: 'person', score: 0.7 });
    const alarm = await seedAlarm(camera);
    const search = (text: string, filters: DetectionFilters & { labels?: string[] } = {}, page = { limit: 50, offset: 0 }) =>
      detections().search(accountId, text, filters, page);
    const idsOf = async (text: string, filters: DetectionFilters & { labels?: string[] } = {}) => new Set((await search(text, filters)).items.map((d) => d.id));

    assert.deepEqual(await idsOf('person', { labels: ['gate'] }), new Set([gateAtNight, gate]));
    assert.deepEqual(await idsOf('person', { labels: ['gate', 'night'] }), new Set([gateAtNight]));
    // The alarm's car matches too: its event says person_detected.
    assert.deepEqual(await idsOf('person', { labels: ['after_hours'] }), new Set(alarm.keptIds));
    assert.deepEqual(await idsOf('after hours'), new Set(alarm.keptIds), "the event's indicators are searchable words");
    assert.deepEqual((await detections().get(accountId, alarm.firstPersonId))?.labels, ['after_hours', 'person_detected']);
    assert.deepEqual(await idsOf('person', { minConfidence: 0.8 }), new Set([gateAtNight, alarm.firstPersonId]));

    const all = await search('person');
    assert.equal(all.total, 6);
    const paged = [];
    for (let offset = 0; offset < 6; offset += 4) {
      const page = await search('person', {}, { limit: 4, offset });
      assert.equal(page.total, 6);
      paged.push(...page.items.map((d) => d.id));
    }
    assert.deepEqual(paged, all.items.map((d) => d.id));
  });

  test('renaming a camera or its site reindexes its detections', async () => {
    const accountId = await seedAccount(db());
    const camera = await seedCamera(db(), accountId);
    const id = await create(camera, { objectType: 'person' });
    const hits = async (text: string) => (await detections().search(accountId, text, {}, { limit: 10, offset: 0 })).items.map((d) => d.id);
    assert.deepEqual(await hits('reception'), []);
    await new TenancyRepository(db()).applySubmission(accountId, camera.id, { groupName: null, siteName: 'Warehouse', zoneName: 'Reception', siteCategory: 'commercial', siteAddress: null });
    assert.deepEqual(await hits('reception'), [id]);
    assert.deepEqual(await hits('warehouse'), [id]);
  });
});

describe('statistics and label counts', () => {
  test('total, average, per object type and per UTC day, of kept detections', async () => {
    const accountId = await seedAccount(db());
    const [lobby, dock] = [await seedCamera(db(), accountId), await seedCamera(db(), accountId)];
    await create(lobby, { objectType: 'car', score: 0.5, detectedAt: new Date('2026-11-20T23:59:59.999Z') });
    await create(lobby, { objectType: 'car', score: 0.75, detectedAt: new Date('2026-11-21T00:00:00.000Z') });
    await create(dock, { objectType: 'person', score: 1, detectedAt: new Date('2026-11-21T12:00:00.000Z') });
    await create(dock, { objectType: 'bus', score: 0.25, detectedAt: new Date('2026-11-21T13:00:00.000Z') });
    const alarm = await seedJob(db(), lobby);
    await finishJob(db(), accountId, alarm, [storedDetection({ kept: false, filteredBy: 'filtered_small_box' })]);

    const stats = await detections().stats(accountId, {});
    assert.equal(stats.total, 4);
    assert.equal(stats.averageConfidence, 0.625);
    assert.deepEqual(stats.byObjectType, [
      { objectType: 'car', count: 2 },
      { objectType: 'bus', count: 1 },
      { objectType: 'person', count: 1 },
    ]);
    assert.deepEqual(stats.daily, [
      { dayStart: new Date('2026-11-20T00:00:00Z'), count: 1 },
      { dayStart: new Date('2026-11-21T00:00:00Z'), count: 3 },
    ]);

    const lobbyStats = await detections().stats(accountId, { camera: lobby.ref });
    assert.deepEqual([lobbyStats.total, lobbyStats.averageConfidence, lobbyStats.byObjectType], [2, 0.625, [{ objectType: 'car', count: 2 }]]);
    assert.deepEqual(await detections().stats(await seedAccount(db()), {}), { total: 0, averageConfidence: null, byObjectType: [], daily: [] });
  });

  test('label counts over kept detections, most used first', async () => {
    const accountId = await seedAccount(db());
    const camera = await seedCamera(db(), accountId);
    await create(camera, { labels: ['gate', 'night'] });
    await create(camera, { labels: ['gate'] });
    await seedAlarm(camera);
    assert.deepEqual(await detections().labelCounts(accountId), [
      { label: 'after_hours', count: 3 },
      { label: 'person_detected', count: 3 },
      { label: 'gate', count: 2 },
      { label: 'night', count: 1 },
    ]);
  });
});

describe('single detections and bulk changes', () => {
  test('a created detection keeps what it was given; an alarm detection points at its frame', async () => {
    const accountId = await seedAccount(db());
    const camera = await seedCamera(db(), accountId);
    const detectedAt = new Date('2026-11-20T08:30:15.123Z');
    const id = await create(camera, { objectType: 'bus', score: 0.66, box: [1, 2, 30, 40], detectedAt, mediaType: 'video', filePath: '/clips/a.mp4', fileType: 'video/mp4', labels: ['gate'] });
    const found = await detections().get(accountId, id);
    assert.match(found?.rowId ?? '', /^[0-9a-f-]{36}$/, 'the row keeps its uuid key');
    assert.deepEqual(found, {
      id,
      rowId: found?.rowId,
      jobId: null,
      frameIndex: 0,
      category: 'vehicle',
      objectType: 'bus',
      score: 0.66,
      box: [1, 2, 30, 40],
      detectedAt,
      mediaType: 'video',
      filePath: '/clips/a.mp4',
      fileType: 'video/mp4',
      labels: ['gate'],
      parked: false,
      camera: camera.ref,
      frame: null,
      // Created through the API: a video whose facts were never given.
      video: { durationS: null, codec: null, width: null, height: null },
    });

    const alarm = await seedAlarm(camera);
    const onFrameTwo = await detections().get(accountId, alarm.keptIds[2]!);
    assert.deepEqual(
      [onFrameTwo?.jobId, onFrameTwo?.frameIndex, onFrameTwo?.filePath, onFrameTwo?.fileType, onFrameTwo?.mediaType],
      [alarm.jobId, 2, `alarms/${alarm.jobId}/frame_02.jpg`, 'image/jpeg', 'image'],
    );
    assert.deepEqual(onFrameTwo?.frame, { mediaKey: `alarms/${alarm.jobId}/frame_02.jpg`, format: 'jpeg', ...frameSize });
    assert.equal(await detections().get(accountId, alarm.filteredId), undefined, 'a detection a filter removed is not served');
  });

  test('a vehicle set aside as parked is served, marked parked; one a filter found not to be there is not', async () => {
    const camera = await seedCamera(db(), await seedAccount(db()));
    const jobId = await seedJob(db(), camera, { frames: 2 });
    await new JobRepository(db()).markRunning(camera.accountId, jobId);
    await finishJob(db(), camera.accountId, jobId, [
      storedDetection({ frameIndex: 0, label: 'truck', kept: false, filteredBy: 'filtered_stationary_vehicle', parked: true }),
      storedDetection({ frameIndex: 1, label: 'car', kept: false, filteredBy: 'filtered_low_score' }),
    ]);
    const served = await detections().list(camera.accountId, {}, { limit: 10 });
    assert.deepEqual(served.items.map((d) => [d.objectType, d.parked]), [['truck', true]]);
    assert.equal((await detections().stats(camera.accountId, {})).total, 1);
    assert.deepEqual((await detections().delete(camera.accountId, [served.items[0]!.id])).map((d) => d.id), [served.items[0]!.id]);
  });

  test('createMany inserts every detection or, when one fails, none; ids in the order given', async () => {
    const camera = await seedCamera(db(), await seedAccount(db()));
    const ids = await detections().createMany(camera.accountId, [apiDetection(camera, { objectType: 'bus' }), apiDetection(camera, { objectType: 'knife' })]);
    assert.deepEqual(await Promise.all(ids.map(async (id) => (await detections().get(camera.accountId, id))?.objectType)), ['bus', 'knife']);

    const missingCamera = '00000000-0000-4000-8000-000000000000';
    await assert.rejects(detections().createMany(camera.accountId, [apiDetection(camera), apiDetection(camera, { cameraId: missingCamera })]), /foreign key/);
    assert.equal((await detections().list(camera.accountId, {}, { limit: 10 })).total, 2);
    assert.deepEqual(await detections().createMany(camera.accountId, []), []);
  });

  test('update changes only the fields given: a moved box keeps its size', async () => {
    const accountId = await seedAccount(db());
    const camera = await seedCamera(db(), accountId);
    const id = await create(camera, { objectType: 'car', score: 0.8, box: [10, 20, 110, 70] });
    const boxOf = async () => (await detections().get(accountId, id))?.box;

    const { rowId } = (await detections().get(accountId, id))!;
    assert.deepEqual(await detections().update(accountId, id, { bboxX: 300 }), { id, rowId, jobId: null });
    assert.deepEqual(await boxOf(), [300, 20, 400, 70]);
    await detections().update(accountId, id, { bboxWidth: 50, bboxHeight: 10 });
    assert.deepEqual(await boxOf(), [300, 20, 350, 30]);
    await detections().update(accountId, id, { objectType: { label: 'person', category: 'person' }, score: 0.42 });
    const updated = await detections().get(accountId, id);
    assert.deepEqual([updated?.objectType, updated?.category, updated?.score, updated?.box], ['person', 'person', 0.42, [300, 20, 350, 30]]);

    const alarm = await seedAlarm(camera);
    assert.deepEqual(await detections().update(accountId, alarm.firstPersonId, { score: 0.1 }), {
      id: alarm.firstPersonId,
      rowId: (await detections().get(accountId, alarm.firstPersonId))!.rowId,
      jobId: alarm.jobId,
    });
    assert.equal(await detections().update(accountId, alarm.filteredId, { score: 0.1 }), undefined);
    assert.equal(await detections().update(accountId, 999_999_999, { score: 0.1 }), undefined);
  });

  test('delete removes kept detections for good and says which it removed', async () => {
    const accountId = await seedAccount(db());
    const camera = await seedCamera(db(), accountId);
    const [first, second] = [await create(camera), await create(camera)];
    const alarm = await seedAlarm(camera);
    const rowIdOf = async (id: number) => (await detections().get(accountId, id))!.rowId;
    const expected = [
      { id: first, rowId: await rowIdOf(first), jobId: null },
      { id: alarm.firstPersonId, rowId: await rowIdOf(alarm.firstPersonId), jobId: alarm.jobId },
    ];
    const removed = await detections().delete(accountId, [first, alarm.firstPersonId, alarm.filteredId, 999_999_999]);
    assert.deepEqual(removed.sort((a, b) => a.id - b.id), expected.sort((a, b) => a.id - b.id));
    const left = await db().selectFrom('detections').select('public_id as id').where('account_id', '=', accountId).execute();
    assert.deepEqual(new Set(left.map((r) => r.id)), new Set([second, ...alarm.keptIds.filter((id) => id !== alarm.firstPersonId), alarm.filteredId]));
    assert.deepEqual(await detections().delete(accountId, [first]), []);
    assert.deepEqual(await detections().delete(accountId, []), []);
  });

  test('events: what the alarm behind detections knows', async () => {
    const accountId = await seedAccount(db());
    const camera = await seedCamera(db(), accountId);
    const alarm = await seedAlarm(camera);
    const events = await detections().events(accountId, [alarm.jobId, alarm.jobId]);
    assert.deepEqual([...events.keys()], [alarm.jobId]);
    const event = events.get(alarm.jobId)!;
    // Kept people on frames 0 and 2; the one on frame 1 was filtered out.
    assert.deepEqual([event.frameCount, event.framesWithPerson], [3, 2]);
    assert.equal(event.request.zone_id, camera.ref.zoneId);
    assert.equal(event.result?.ai_description, 'A person walks across the car park');
    assert.ok(event.startedAt instanceof Date && event.finishedAt instanceof Date && event.startedAt <= event.finishedAt);
    assert.equal((await detections().events(accountId, [])).size, 0);
  });

  test("findCameras matches vendor ids to the account's own cameras", async () => {
    const accountId = await seedAccount(db());
    const lobby = await seedCamera(db(), accountId);
    const dock = await seedCamera(db(), accountId, { siteId: 'site02' });
    const theirs = await seedCamera(db(), await seedAccount(db()));
    const found = await detections().findCameras(accountId, [lobby.ref, theirs.ref, { ...dock.ref, siteId: 'site01' }, dock.ref]);
    assert.deepEqual(
      found.sort((a, b) => a.id.localeCompare(b.id)),
      [{ ref: lobby.ref, id: lobby.id }, { ref: dock.ref, id: dock.id }].sort((a, b) => a.id.localeCompare(b.id)),
    );
    assert.deepEqual(await detections().findCameras(accountId, []), []);
  });
});

test('another account, even with a camera of the same vendor ids, sees and changes none of it', async () => {
  const accountId = await seedAccount(db());
  const camera = await seedCamera(db(), accountId);
  const bulkId = await create(camera, { objectType: 'person', labels: ['gate'] });
  const alarm = await seedAlarm(camera);
  const otherAccount = await seedAccount(db());
  const lookalike = await seedCamera(db(), otherAccount, camera.ref);
  assert.notEqual(lookalike.id, camera.id);

  const ours = [bulkId, ...alarm.keptIds];
  assert.equal((await detections().list(otherAccount, {}, { limit: 10 })).total, 0);
  assert.equal((await detections().list(otherAccount, { camera: camera.ref }, { limit: 10 })).total, 0);
  assert.equal((await detections().search(otherAccount, 'person', {}, { limit: 10, offset: 0 })).total, 0);
  assert.equal((await detections().stats(otherAccount, {})).total, 0);
  assert.deepEqual(await detections().labelCounts(otherAccount), []);
  assert.equal((await detections().events(otherAccount, [alarm.jobId])).size, 0);
  assert.deepEqual(await detections().findCameras(otherAccount, [camera.ref]), [{ ref: camera.ref, id: lookalike.id }]);
  for (const id of ours) {
    assert.equal(await detections().get(otherAccount, id), undefined);
    assert.equal(await detections().update(otherAccount, id, { score: 0.01 }), undefined);
  }
  assert.deepEqual(await detections().delete(otherAccount, ours), []);

  const after = await detections().list(accountId, {}, { limit: 10 });
  assert.deepEqual(new Set(after.items.map((d) => d.id)), new Set(ours));
  assert.ok(after.items.every((d) => d.score !== 0.01), 'scores unchanged');
});
