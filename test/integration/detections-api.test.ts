import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { sql } from 'kysely';
import sharp from 'sharp';
import { createApp } from '../../api/app.js';
import { createLogger } from '../../logging/logger.js';
import { thumbnailLayout } from '../../media/detection-image.js';
import { FileSystemMediaStore } from '../../media/store.js';
import { alarmForm, api, bareApi, defaultFields, eventFrames, submitAlarm, waitForTerminal } from '../support/alarms.js';
import { fixturesDir } from '../support/paths.js';
import { startStack, type TestStack } from '../support/stack.js';

interface Detection {
  id: number;
  camera_id: string;
  file_path: string | null;
  file_type: string | null;
  detected_at: string;
  object_type: string;
  confidence: number;
  bbox_x: number;
  bbox_y: number;
  bbox_width: number;
  bbox_height: number;
  thumbnail_path: string | null;
  media_type: string;
  enrichment_data: Record<string, unknown>;
}

interface ListPage {
  items: Detection[];
  pagination: { total: number; limit: number; offset: number; next_cursor: string | null; has_more: boolean };
  deprecation_warning: string | null;
}

interface SearchPage {
  results: (Pick<Detection, 'id' | 'camera_id' | 'object_type' | 'confidence'> & { relevance_score: number; labels: string[] })[];
  total_count: number;
}

interface Stats {
  total_detections: number;
  detections_by_class: Record<string, number>;
  object_class_distribution: { object_class: string; count: number }[];
  average_confidence: number | null;
  trends: { timestamp: number; detection_count: number }[];
}

interface BulkResult {
  total: number;
  succeeded: number;
  failed: number;
  skipped: number;
  results: { index: number; status: string; id: number | null; error: string | null }[];
}

const documentedFields = [
  'id', 'camera_id', 'file_path', 'file_type', 'detected_at', 'object_type', 'confidence', 'bbox_x', 'bbox_y', 'bbox_width',
  'bbox_height', 'thumbnail_path', 'media_type', 'duration', 'video_codec', 'video_width', 'video_height', 'enrichment_data',
];

/** Each alarm goes to its own camera: the cooldown is per camera. */
const acmeEvents = [
  { event: 'pets2009_people_walking_a', zone: 'det_lobby', zoneName: 'Lobby' },
  { event: 'warehouse_worker_hardhat', zone: 'det_dock', zoneName: 'Truck Bay' },
  { event: 'parking_lot_cars', zone: 'det_lot', zoneName: 'Car Park' },
];
const lobby = 'g001/site01/det_lobby';
const dock = 'g001/site01/det_dock';
const otherAccountCamera = 'g001/site01/det_other';

describe('detections API on the real stack', () => {
  let stack: TestStack;
  let token: string;
  let otherToken: string;
  const jobs = new Map<string, string>();

  /** A token of its own for each bulk call: bulk requests come in bursts of 2 per token. */
  const bulk = async (method: 'POST' | 'PATCH' | 'DELETE', body: unknown, bulkToken?: string, headers: Record<string, string> = {}) =>
    bareApi<BulkResult>(stack.baseUrl, '/api/detections/bulk', {
      method,
      token: bulkToken ?? (await stack.createToken('acme')),
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  const bulkItem = (overrides: Record<string, unknown> = {}) => ({
    camera_id: lobby,
    object_type: 'car',
    confidence: 0.8,
    detected_at: new Date().toISOString(),
    file_path: '/export/cam/lobby/img.jpg',
    bbox_x: 10,
    bbox_y: 20,
    bbox_width: 100,
    bbox_height: 50,
    ...overrides,
  });

  const list = (query: string, as = token) => bareApi<ListPage>(stack.baseUrl, `/api/detections${query}`, { token: as });

  /** Every detection of a query, following the cursors. */
  const listAll = async (query: string, as = token) => {
    const items: Detection[] = [];
    let cursor: string | null = null;
    do {
      const { status, body } = await list(`${query}${query ? '&' : '?'}limit=100${cursor ? `&cursor=${cursor}` : ''}`, as);
      assert.equal(status, 200, JSON.stringify(body.error));
      items.push(...body.items);
      cursor = body.pagination.next_cursor;
    } while (cursor);
    return items;
  };

  const fetchBytes = async (pathname: string, as: string, headers: Record<string, string> = {}) => {
    const response = await fetch(stack.baseUrl + pathname, { headers: { authorization: `Bearer ${as}`, ...headers } });
    return { response, bytes: Buffer.from(await response.arrayBuffer()) };
  };

  before(async () => {
    stack = await startStack();
    token = await stack.createToken('acme');
    otherToken = await stack.createToken('globex');
    const submissions = [
      ...acmeEvents.map(({ event, zone, zoneName }) => ({ event, token, fields: { zone_id: zone, zone_name: zoneName } })),
      { event: 'pets2009_people_walking_b', token: otherToken, fields: { zone_id: 'det_other' } },
    ];
    await Promise.all(
      submissions.map(async ({ event, token: as, fields }) => {
        const form = alarmForm(defaultFields({ ...fields, vendor_event_id: `${event}-detections` }), await eventFrames(event));
        const response = await submitAlarm(stack.baseUrl, as, form);
        assert.equal(response.status, 202, JSON.stringify(response.body));
        jobs.set(event, response.body.data.job_id);
        const status = await waitForTerminal(stack.baseUrl, as, response.body.data.job_id);
        assert.equal(status.status, 'finished', JSON.stringify(status));
      }),
    );
  });

  after(async () => stack?.stop());

  test('lists the kept detections of real alarms with the documented fields', async () => {
    const items = await listAll('');
    assert.ok(items.length > 0, 'the alarms found something');
    for (const item of items) {
      assert.deepEqual(Object.keys(item), documentedFields);
      assert.match(item.camera_id, /^g001\/site01\/det_(lobby|dock|lot)$/);
      assert.equal(item.media_type, 'image');
      assert.equal(item.file_type, 'image/jpeg');
      assert.match(item.file_path ?? '', /^alarms\/raw_acme_g001_site01_det_[a-z]+_[0-9a-f]{12}\/frame_0\d\.jpg$/);
      assert.equal(item.thumbnail_path, `/api/detections/${item.id}/thumbnail`);
      assert.ok(item.confidence > 0 && item.confidence <= 1);
    }
    // The same boxes the export holds: only detections that survived the nuisance filters.
    const jobId = jobs.get('pets2009_people_walking_a')!;
    const exported = await api<{ media: { frames: { boxes: Record<string, number[][]> }[] } }>(stack.baseUrl, `/api/v1/alarms/${jobId}/export`, { token });
    const exportedBoxes = exported.body.data.media.frames.flatMap((frame) => Object.values(frame.boxes).flat());
    const lobbyItems = await listAll(`?camera_id=${lobby}`);
    assert.equal(lobbyItems.length, exportedBoxes.length);
    assert.ok(lobbyItems.every((item) => item.camera_id === lobby));
  });

  test('filters by camera, object type, confidence and time', async () => {
    const all = await listAll('');
    const people = await listAll('?object_type=person');
    assert.deepEqual(people.map((d) => d.id), all.filter((d) => d.object_type === 'person').map((d) => d.id));
    const vehicles = await listAll('?object_type=vehicle');
    assert.ok(vehicles.length > 0, 'the car park event found vehicles');
    assert.ok(vehicles.every((d) => ['car', 'truck', 'bus', 'motorcycle', 'bicycle'].includes(d.object_type)));
    const confident = await listAll('?min_confidence=0.6');
    assert.deepEqual(confident.map((d) => d.id), all.filter((d) => d.confidence >= 0.6).map((d) => d.id));
    const newest = all[0]!.detected_at;
    const window = await listAll(`?start_date=${encodeURIComponent(newest)}&end_date=${encodeURIComponent(newest)}`);
    assert.deepEqual(window.map((d) => d.id), all.filter((d) => d.detected_at === newest).map((d) => d.id));
    const days = `?start_date=${all.at(-1)!.detected_at.slice(0, 10)}&end_date=${newest.slice(0, 10)}`;
    assert.equal((await listAll(days)).length, all.length, 'a date alone covers its whole day');
    const { body } = await list('?camera_id=g001/site01/no_such_zone');
    assert.equal(body.pagination.total, 0);
  });

  test('a cursor walk returns every row once while new rows arrive', async (t) => {
    const existing = await listAll('');
    const seen: number[] = [];
    let cursor: string | null = null;
    let page = 0;
    do {
      const { status, body } = await list(`?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(status, 200, JSON.stringify(body.error));
      assert.ok(body.items.length <= 7);
      seen.push(...body.items.map((d) => d.id));
      cursor = body.pagination.next_cursor;
      assert.equal(body.pagination.has_more, cursor !== null);
      // New detections arrive mid-walk: newer than the walk's position, and one older than all of it.
      const arrived = await bulk('POST', {
        detections: [bulkItem({ detected_at: new Date().toISOString() }), bulkItem({ detected_at: new Date(Date.parse(existing.at(-1)!.detected_at) - 60_000 - page).toISOString() })],
      });
      assert.equal(arrived.body.succeeded, 2, JSON.stringify(arrived.body));
      page += 1;
    } while (cursor);
    assert.equal(new Set(seen).size, seen.length, 'no detection twice');
    const seenSet = new Set(seen);
    assert.deepEqual(existing.filter((d) => !seenSet.has(d.id)), [], 'every detection that existed when the walk began');
    assert.ok(page > 1, 'the walk had several pages');
    t.diagnostic(`${existing.length} detections at the start, ${page} pages of 7, ${seen.length} rows served, ${2 * page} created during the walk`);
  });

  test('the deprecated offset still pages and says so', async () => {
    const all = await listAll('');
    const { status, body } = await list('?offset=2&limit=3');
    assert.equal(status, 200);
    assert.deepEqual(body.items.map((d) => d.id), all.slice(2, 5).map((d) => d.id));
    assert.equal(body.pagination.offset, 2);
    assert.match(body.deprecation_warning ?? '', /offset is deprecated/);
    assert.equal((await list('?limit=3')).body.deprecation_warning, null);
  });

  test('sparse fieldsets return only the fields asked for', async () => {
    const { status, body } = await list('?fields=id,object_type,confidence&limit=5');
    assert.equal(status, 200);
    assert.ok(body.items.length > 0, 'some detections to check');
    for (const item of body.items) assert.deepEqual(Object.keys(item), ['id', 'object_type', 'confidence']);
  });

  test('bad parameters are refused with the field at fault', async () => {
    const cases: [string, string][] = [
      ['?fields=id,label', 'fields'],
      ['?start_date=2026-02-30', 'start_date'],
      ['?end_date=yesterday', 'end_date'],
      ['?start_date=2026-11-21&end_date=2026-11-20', 'start_date'],
      ['?cursor=not-a-cursor', 'cursor'],
      ['?limit=0', 'limit'],
      ['?limit=101', 'limit'],
      ['?min_confidence=1.5', 'min_confidence'],
      ['?camera_id=lobby', 'camera_id'],
      [`?offset=5&cursor=${(await list('?limit=1')).body.pagination.next_cursor}`, 'offset'],
    ];
    for (const [query, field] of cases) {
      const { status, body } = await list(query);
      assert.equal(status, 400, query);
      assert.equal(body.error?.code, 'VALIDATION_ERROR', query);
      assert.equal(body.error?.field, field, query);
    }
    const unauthenticated = await bareApi(stack.baseUrl, '/api/detections');
    assert.equal(unauthenticated.status, 401);
    for (const id of ['abc', '0', '0b7f1c7e-5d2a-4c8e-9f43-2a1d6e8b9c01']) {
      assert.equal((await bareApi(stack.baseUrl, `/api/detections/${id}`, { token })).body.error?.field, 'detection_id', id);
    }
    assert.equal((await bareApi(stack.baseUrl, '/api/detections/999999999', { token })).body.error?.code, 'NOT_FOUND');
  });

  test('search ranks the object type above a camera name that only mentions it', async () => {
    const created = await bulk('POST', { detections: [bulkItem({ object_type: 'truck', confidence: 0.55, labels: ['loading_zone'] })] });
    const truckId = created.body.results[0]!.id;
    const { status, body } = await bareApi<SearchPage>(stack.baseUrl, '/api/detections/search?q=truck', { token });
    assert.equal(status, 200, JSON.stringify(body.error));
    const results = body.results;
    assert.equal(body.total_count, results.length);
    // The "Truck Bay" camera's people match on the camera name only.
    assert.ok(results.some((r) => r.camera_id === dock && r.object_type === 'person'), JSON.stringify(results));
    const firstOther = results.findIndex((r) => r.object_type !== 'truck');
    assert.ok(results.slice(0, firstOther).some((r) => r.id === truckId));
    assert.ok(results.slice(firstOther).every((r) => r.object_type !== 'truck'), 'every truck before the camera-name matches');
    for (let i = 1; i < results.length; i++) assert.ok(results[i - 1]!.relevance_score >= results[i]!.relevance_score);
    assert.ok(results[0]!.relevance_score > results.at(-1)!.relevance_score);

    const labelled = await bareApi<SearchPage>(stack.baseUrl, '/api/detections/search?q=truck&labels=loading_zone', { token });
    assert.deepEqual(labelled.body.results.map((r) => r.id), [truckId]);
    assert.deepEqual(labelled.body.results[0]!.labels, ['loading_zone']);
    const lobbyPeople = await bareApi<SearchPage>(stack.baseUrl, `/api/detections/search?q=lobby person&camera_id=${lobby}&min_confidence=0.5`, { token });
    assert.ok(lobbyPeople.body.results.length > 0);
    assert.ok(lobbyPeople.body.results.every((r) => r.camera_id === lobby && r.object_type === 'person' && r.confidence >= 0.5));
    const nothing = await bareApi<SearchPage>(stack.baseUrl, '/api/detections/search?q=zebra', { token });
    assert.equal(nothing.body.total_count, 0);
    assert.equal((await bareApi(stack.baseUrl, '/api/detections/search', { token })).body.error?.field, 'q');
  });

  test('stats add up', async (t) => {
    const all = await listAll('');
    const { status, body } = await bareApi<Stats>(stack.baseUrl, '/api/detections/stats', { token });
    assert.equal(status, 200);
    const stats = body;
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    assert.equal(stats.total_detections, all.length);
    assert.equal(sum(Object.values(stats.detections_by_class)), stats.total_detections);
    assert.equal(sum(stats.object_class_distribution.map((c) => c.count)), stats.total_detections);
    assert.equal(sum(stats.trends.map((t) => t.detection_count)), stats.total_detections);
    for (const { object_class, count } of stats.object_class_distribution) {
      assert.equal(stats.detections_by_class[object_class], count);
      assert.equal(all.filter((d) => d.object_type === object_class).length, count);
    }
    const counts = stats.object_class_distribution.map((c) => c.count);
    assert.deepEqual(counts, [...counts].sort((a, b) => b - a));
    assert.ok(Math.abs(stats.average_confidence! - sum(all.map((d) => d.confidence)) / all.length) < 0.001);
    for (const { timestamp } of stats.trends) assert.equal(timestamp % 86_400_000, 0, 'a UTC day in epoch milliseconds');

    t.diagnostic(`stats: ${JSON.stringify(stats.detections_by_class)}, average confidence ${stats.average_confidence}`);
    const lobbyStats = await bareApi<Stats>(stack.baseUrl, `/api/detections/stats?camera_id=${lobby}`, { token });
    assert.equal(lobbyStats.body.total_detections, all.filter((d) => d.camera_id === lobby).length);
  });

  test('labels come from the events and from bulk creation, with counts', async () => {
    await bulk('POST', { detections: [bulkItem({ labels: ['gate', 'night'] }), bulkItem({ labels: ['gate'] })] });
    const { status, body } = await bareApi<{ labels: { label: string; count: number }[] }>(stack.baseUrl, '/api/detections/labels', { token });
    assert.equal(status, 200);
    const counts = new Map(body.labels.map(({ label, count }) => [label, count]));
    assert.equal(counts.get('gate'), 2);
    assert.equal(counts.get('night'), 1);
    const exported = await api<{ server: { ai_decision_indicators: string[] } }>(
      stack.baseUrl,
      `/api/v1/alarms/${jobs.get('warehouse_worker_hardhat')}/export`,
      { token },
    );
    const dockCount = (await listAll(`?camera_id=${dock}`)).length;
    for (const indicator of exported.body.data.server.ai_decision_indicators) assert.ok((counts.get(indicator) ?? 0) >= dockCount, indicator);
  });

  test('a single detection and what Vigil knows about it', async () => {
    const [person] = await listAll(`?camera_id=${lobby}&object_type=person`);
    assert.ok(person);
    const single = await bareApi<Detection>(stack.baseUrl, `/api/detections/${person.id}`, { token });
    assert.equal(single.status, 200);
    assert.deepEqual(single.body, person);

    const enrichment = await bareApi<Record<string, unknown> & { person: { frames_with_person: number; event_frames: number }; decision: { decision: string }; image_quality: { width: number } }>(
      stack.baseUrl,
      `/api/detections/${person.id}/enrichment`,
      { token },
    );
    assert.equal(enrichment.status, 200);
    const data = enrichment.body;
    assert.equal(data.detection_id, person.id);
    assert.equal(data.person.event_frames, 8);
    assert.ok(data.person.frames_with_person >= 1 && data.person.frames_with_person <= 8);
    assert.equal(data.image_quality.width, 768);
    // A person's faces are looked for in its frame (PETS 2009's walkers are too far away to show one); plates are a vehicle's.
    const face = data.face as { detected: boolean; count: number; confidence: number | null };
    assert.deepEqual([typeof face.detected, typeof face.count, face.detected === face.count > 0], ['boolean', 'number', true]);
    for (const unknown of ['license_plate', 'clothing', 'violence', 'weather', 'pose', 'depth', 'pet']) assert.equal(data[unknown], null, unknown);
    // A token exports a job once per lock period: this export needs a token of its own.
    const exported = await api<{ server: { ai_decision: string } }>(stack.baseUrl, `/api/v1/alarms/${jobs.get('pets2009_people_walking_a')}/export`, {
      token: await stack.createToken('acme'),
    });
    assert.equal(data.decision.decision, exported.body.data.server.ai_decision);

    const created = await bulk('POST', { detections: [bulkItem({ object_type: 'bus' })] });
    const bulkEnrichment = await bareApi<Record<string, unknown> & { vehicle: { type: string } }>(
      stack.baseUrl,
      `/api/detections/${created.body.results[0]!.id}/enrichment`,
      { token },
    );
    assert.equal(bulkEnrichment.body.vehicle.type, 'bus');
    assert.equal(bulkEnrichment.body.decision, null);
    assert.equal(bulkEnrichment.body.enriched_at, null);
  });

  test('thumbnails are JPEG crops with the box drawn, drawn once and then cached', async () => {
    const people = await listAll(`?camera_id=${lobby}&object_type=person`);
    const person = people.reduce((a, b) => (b.bbox_width * b.bbox_height > a.bbox_width * a.bbox_height ? b : a));
    const { response, bytes } = await fetchBytes(`/api/detections/${person.id}/thumbnail`, token);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'image/jpeg');
    assert.equal(response.headers.get('cache-control'), 'private, max-age=3600');
    const thumbnail = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
    assert.equal(thumbnail.info.format, 'raw');
    assert.equal((await sharp(bytes).metadata()).format, 'jpeg');

    // Where the box must be: the stored box (the API rounds it) through the thumbnail layout.
    const stored = await stack.db.selectFrom('detections').select(['id', 'x1', 'y1', 'x2', 'y2']).where('public_id', '=', person.id).executeTakeFirstOrThrow();
    const { region, scale, width, height } = thumbnailLayout([stored.x1, stored.y1, stored.x2, stored.y2], { width: 768, height: 576 });
    assert.deepEqual([thumbnail.info.width, thumbnail.info.height], [width, height]);
    const original = await sharp(await readFile(path.join(fixturesDir, 'events/pets2009_people_walking_a', path.basename(person.file_path!))))
      .extract(region)
      .resize(width, height)
      .raw()
      .toBuffer();

    // The person box is red (#ff3b30): along its left edge the thumbnail is much redder than the frame was.
    const redness = (pixels: Buffer, x: number, y: number) => {
      const i = (y * width + x) * 3;
      return pixels[i]! - (pixels[i + 1]! + pixels[i + 2]!) / 2;
    };
    const edgeX = Math.round((stored.x1 - region.left) * scale);
    const rows = Array.from({ length: 20 }, (_, k) => Math.round((stored.y1 - region.top + (stored.y2 - stored.y1) * (0.2 + 0.03 * k)) * scale));
    const drawnRows = rows.filter((y) =>
      [edgeX - 1, edgeX, edgeX + 1].some((x) => redness(thumbnail.data, x, y) - redness(original, x, y) > 50),
    ).length;
    assert.ok(drawnRows >= 18, `box edge drawn on ${drawnRows} of 20 rows`);
    // Inside the box the picture is the frame's own.
    let difference = 0;
    let samples = 0;
    for (let y = Math.round((stored.y1 - region.top) * scale) + 4; y < Math.round((stored.y2 - region.top) * scale) - 4; y++) {
      for (let x = edgeX + 4; x < Math.round((stored.x2 - region.left) * scale) - 4; x++) {
        for (let c = 0; c < 3; c++) difference += Math.abs(thumbnail.data[(y * width + x) * 3 + c]! - original[(y * width + x) * 3 + c]!);
        samples += 3;
      }
    }
    assert.ok(samples > 0 && difference / samples < 8, `mean difference inside the box ${difference / samples}`);

    const again = await fetchBytes(`/api/detections/${person.id}/thumbnail`, token);
    assert.deepEqual(again.bytes, bytes);
    assert.equal(again.response.headers.get('etag'), response.headers.get('etag'));
    const cached = path.join(stack.config.mediaDir, path.dirname(person.file_path!), 'detections', stored.id);
    assert.ok((await stat(cached)).isDirectory(), 'the thumbnail is kept in the media store');
  });

  test('images: the frame with the box, or the original bytes with range support', async () => {
    const [item] = await listAll(`?camera_id=${lobby}&object_type=person`);
    const overlay = await fetchBytes(`/api/detections/${item!.id}/image`, token);
    assert.equal(overlay.response.status, 200);
    assert.equal(overlay.response.headers.get('cache-control'), 'private, max-age=3600');
    const meta = await sharp(overlay.bytes).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 768, 576]);

    const fixture = await readFile(path.join(fixturesDir, 'events/pets2009_people_walking_a', path.basename(item!.file_path!)));
    const full = await fetchBytes(`/api/detections/${item!.id}/image?full=true`, token);
    assert.equal(full.response.status, 200);
    assert.deepEqual(full.bytes, fixture);
    const part = await fetchBytes(`/api/detections/${item!.id}/image?full=true`, token, { range: 'bytes=100-199' });
    assert.equal(part.response.status, 206);
    assert.equal(part.response.headers.get('content-range'), `bytes 100-199/${fixture.length}`);
    assert.deepEqual(part.bytes, fixture.subarray(100, 200));
    const beyond = await fetchBytes(`/api/detections/${item!.id}/image?full=true`, token, { range: `bytes=${fixture.length}-` });
    assert.equal(beyond.response.status, 416);

    for (const video of ['video', 'video/thumbnail']) {
      const { status, body } = await bareApi(stack.baseUrl, `/api/detections/${item!.id}/${video}`, { token });
      assert.equal(status, 400, video);
      assert.equal(body.error?.code, 'NOT_A_VIDEO');
    }
    const created = await bulk('POST', { detections: [bulkItem()] });
    const noFrame = await bareApi(stack.baseUrl, `/api/detections/${created.body.results[0]!.id}/thumbnail`, { token });
    assert.equal(noFrame.status, 404);
  });

  test('bulk create, update and delete answer 207 per item', async () => {
    const created = await bulk('POST', {
      detections: [
        bulkItem({ object_type: 'person', confidence: 0.91 }),
        bulkItem({ camera_id: 'g001/site01/no_such_zone' }),
        bulkItem({ camera_id: otherAccountCamera }),
        bulkItem({ object_type: 'dog' }),
      ],
    });
    assert.equal(created.status, 207);
    assert.deepEqual(
      { total: created.body.total, succeeded: created.body.succeeded, failed: created.body.failed, skipped: created.body.skipped },
      { total: 4, succeeded: 1, failed: 3, skipped: 0 },
    );
    const [made, missing, foreign, invalid] = created.body.results;
    assert.deepEqual([made!.index, made!.status, made!.error], [0, 'success', null]);
    assert.equal(missing!.error, 'Camera not found: g001/site01/no_such_zone');
    assert.equal(foreign!.error, `Camera not found: ${otherAccountCamera}`);
    assert.match(invalid!.error ?? '', /^object_type:/);
    const id = made!.id!;

    const updated = await bulk('PATCH', {
      detections: [
        { id, object_type: 'truck', confidence: 0.42, bbox_x: 300 },
        { id, confidence: 0.1 },
        { id: 999_999_999, confidence: 0.5 },
        { id },
      ],
    });
    assert.equal(updated.status, 207);
    assert.deepEqual(updated.body.results.map((r) => r.status), ['success', 'skipped', 'failed', 'failed']);
    const after = await bareApi<Detection>(stack.baseUrl, `/api/detections/${id}`, { token });
    assert.deepEqual(
      [after.body.object_type, after.body.confidence, after.body.bbox_x, after.body.bbox_width, after.body.bbox_height],
      ['truck', 0.42, 300, 100, 50],
    );

    const deleted = await bulk('DELETE', { detection_ids: [id, id, 'not-an-id'] });
    assert.equal(deleted.status, 207);
    assert.deepEqual(deleted.body.results.map((r) => r.status), ['success', 'skipped', 'failed']);
    assert.equal((await bareApi(stack.baseUrl, `/api/detections/${id}`, { token })).status, 404);
    const rows = await stack.db.selectFrom('detections').select('id').where('public_id', '=', id).execute();
    assert.deepEqual(rows, [], 'deletion is permanent');
    const again = await bulk('DELETE', { detection_ids: [id] });
    assert.equal(again.body.results[0]!.error, `Detection not found: ${id}`);

    const malformed = await bareApi(stack.baseUrl, '/api/detections/bulk', {
      method: 'POST',
      token: await stack.createToken('acme'),
      headers: { 'content-type': 'application/json' },
      body: '{"detections": [',
    });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error?.field, 'body');
    assert.equal((await bulk('POST', { detections: [] })).body.error?.field, 'detections');
  });

  test('bulk creation leaves nothing when its insert fails, and a retry under the same Idempotency-Key creates once', async () => {
    const filePaths = ['/atomic/a.jpg', '/atomic/refused.jpg', '/atomic/c.jpg'];
    const items = filePaths.map((file_path) => bulkItem({ file_path, detected_at: '2026-11-20T10:00:00Z' }));
    const stored = async () =>
      (await stack.db.selectFrom('detections').select('public_id').where('file_path', 'in', filePaths).execute()).map((row) => row.public_id).sort((a, b) => a - b);
    const idempotencyKey = { 'idempotency-key': `bulk-${randomUUID()}` };

    // A constraint only the second item breaks: it passes validation and fails in the database.
    await sql`alter table detections add constraint forced_bulk_failure check (file_path is distinct from '/atomic/refused.jpg')`.execute(stack.db);
    try {
      const failed = await bulk('POST', { detections: items }, undefined, idempotencyKey);
      assert.ok(failed.status >= 400 && failed.body.error, `${failed.status} ${JSON.stringify(failed.body)}`);
      assert.deepEqual(await stored(), [], 'nothing of the failed request is left');
    } finally {
      await sql`alter table detections drop constraint forced_bulk_failure`.execute(stack.db);
    }

    const created = await bulk('POST', { detections: items }, undefined, idempotencyKey);
    assert.equal(created.status, 207, JSON.stringify(created.body));
    assert.equal(created.body.succeeded, 3);
    const retried = await bulk('POST', { detections: items }, undefined, idempotencyKey);
    assert.equal(retried.status, 207);
    assert.deepEqual(retried.body, created.body, 'the retry is answered as the first request was');
    assert.deepEqual(await stored(), created.body.results.map((r) => r.id!).sort((a, b) => a - b), 'and creates nothing again');

    const reused = await bulk('POST', { detections: items.slice(0, 2) }, undefined, idempotencyKey);
    assert.equal(reused.status, 422);
    assert.deepEqual([reused.body.error?.code, reused.body.error?.field], ['IDEMPOTENCY_KEY_REUSED', 'Idempotency-Key']);
  });

  test('editing a detection draws its thumbnail again', async () => {
    const [item] = await listAll(`?camera_id=${dock}&object_type=person`);
    const first = await fetchBytes(`/api/detections/${item!.id}/thumbnail`, token);
    await bulk('PATCH', { detections: [{ id: item!.id, bbox_y: item!.bbox_y + 5 }] });
    const second = await fetchBytes(`/api/detections/${item!.id}/thumbnail`, token);
    assert.equal(second.response.status, 200);
    assert.notEqual(second.response.headers.get('etag'), first.response.headers.get('etag'));
  });

  test("every endpoint answers 404 for another account's detection", async () => {
    const [acmeDetection] = await listAll('');
    const id = acmeDetection!.id;
    for (const suffix of ['', '/enrichment', '/thumbnail', '/image', '/image?full=true', '/video', '/video/thumbnail']) {
      const { status, body } = await bareApi(stack.baseUrl, `/api/detections/${id}${suffix}`, { token: otherToken });
      assert.equal(status, 404, suffix);
      assert.equal(body.error?.code, 'NOT_FOUND', suffix);
    }
    const globexToken = await stack.createToken('globex');
    const patched = await bulk('PATCH', { detections: [{ id, confidence: 0.01 }] }, globexToken);
    assert.equal(patched.body.results[0]!.error, `Detection not found: ${id}`);
    const deleted = await bulk('DELETE', { detection_ids: [id] }, globexToken);
    assert.equal(deleted.body.results[0]!.error, `Detection not found: ${id}`);
    assert.deepEqual((await bareApi<Detection>(stack.baseUrl, `/api/detections/${id}`, { token })).body, acmeDetection);

    const theirs = await listAll('', otherToken);
    assert.ok(theirs.length > 0 && theirs.every((d) => d.camera_id === otherAccountCamera));
    const theirSearch = await bareApi<SearchPage>(stack.baseUrl, '/api/detections/search?q=person', { token: otherToken });
    assert.ok(theirSearch.body.results.length > 0, 'their people are found');
    assert.ok(theirSearch.body.results.every((r) => r.camera_id === otherAccountCamera));
    const theirStats = await bareApi<Stats>(stack.baseUrl, '/api/detections/stats', { token: otherToken });
    assert.equal(theirStats.body.total_detections, theirs.length);
    const theirLabels = await bareApi<{ labels: { label: string }[] }>(stack.baseUrl, '/api/detections/labels', { token: otherToken });
    assert.ok(!theirLabels.body.labels.some((l) => l.label === 'gate'));
  });

  test('media requests are limited to 30 a minute per token', async () => {
    const [item] = await listAll('');
    const limited = await stack.createToken('acme');
    // A burst of 30, then one more every 2 s: a slow machine earns a request back for every 2 s the burst takes.
    const started = performance.now();
    let answered = 0;
    let refused = await bareApi(stack.baseUrl, `/api/detections/${item!.id}/video`, { token: limited });
    while (refused.status === 400 && answered < 60) {
      answered += 1;
      refused = await bareApi(stack.baseUrl, `/api/detections/${item!.id}/video`, { token: limited });
    }
    const earned = Math.ceil((performance.now() - started) / 2000);
    assert.ok(answered >= 30 && answered <= 30 + earned, `${answered} answered before the refusal, ${earned} earned back meanwhile`);
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error?.code, 'RATE_LIMITED');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal((await bareApi(stack.baseUrl, `/api/detections/${item!.id}/video`, { token })).status, 400, 'other tokens are not affected');
  });

  test('bulk requests come in bursts of 2, counted across API instances', async () => {
    const secondApi: Server = createApp({
      config: stack.config,
      db: stack.db,
      media: new FileSystemMediaStore(stack.config.mediaDir),
      temporal: stack.temporal,
      logger: createLogger('silent', 'test'),
      secrets: stack.secrets,
    }).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => secondApi.once('listening', () => resolve()));
    try {
      const secondUrl = `http://127.0.0.1:${(secondApi.address() as AddressInfo).port}`;
      const limited = await stack.createToken('acme');
      const body = JSON.stringify({ detection_ids: [999_999_999] });
      const send = (baseUrl: string) =>
        bareApi(baseUrl, '/api/detections/bulk', { method: 'DELETE', token: limited, headers: { 'content-type': 'application/json' }, body });
      assert.equal((await send(stack.baseUrl)).status, 207);
      assert.equal((await send(secondUrl)).status, 207);
      const refused = await send(secondUrl);
      assert.equal(refused.status, 429);
      assert.equal(refused.body.error?.code, 'RATE_LIMITED');
      const retryAfter = Number(refused.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 6, `Retry-After ${retryAfter}`);
      assert.equal((await send(stack.baseUrl)).status, 429, 'the first instance sees the same bucket');
    } finally {
      await new Promise<void>((resolve) => secondApi.close(() => resolve()));
    }
  });
});
