import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { createApp } from '../../api/app.js';
import { loadConfig } from '../../config/index.js';
import { AccountRepository } from '../../db/repositories/accounts.js';
import { JobRepository } from '../../db/repositories/jobs.js';
import { SecretKeyring } from '../../domain/secret-keyring.js';
import { createLogger } from '../../logging/logger.js';
import { FileSystemMediaStore } from '../../media/store.js';
import { bareApi } from '../support/alarms.js';
import { migratedDatabase } from '../support/database.js';
import { alarmResult, finishJob, seedCamera, seedJob, storedDetection } from '../support/seed.js';
import { testSecretsKeys } from '../support/secrets.js';
import { createApiToken } from '../support/tokens.js';

/**
 * The detections API against its reference document (spec 5): every response the document shows, checked
 * field by field. Each `documented…` constant below is the document's example response; the check walks it
 * and requires every field it shows, with the JSON type it shows (an integer where it shows an integer), in
 * what Vigil answers. Where the example shows `null`, the document's data-model table gives the type
 * (`typesOfNulls`). Vigil may answer `null` only where the document shows that field or a sibling model as
 * null (`mayBeNull`). Fields Vigil adds are allowed, and reported.
 *
 * Real PostgreSQL and real HTTP; the detections API needs no Temporal server (the client is never used).
 */

// ---- The document's example responses ----

const documentedDetection = {
  id: 1,
  camera_id: 'front_door',
  file_path: '/export/foscam/front_door/20260123_120000.jpg',
  file_type: 'image/jpeg',
  detected_at: '2026-01-23T12:00:00Z',
  object_type: 'person',
  confidence: 0.95,
  bbox_x: 100,
  bbox_y: 150,
  bbox_width: 200,
  bbox_height: 400,
  thumbnail_path: '/data/thumbnails/1_thumb.jpg',
  media_type: 'image',
  duration: null,
  video_codec: null,
  video_width: null,
  video_height: null,
  enrichment_data: {
    vehicle: null,
    person: { clothing_description: 'dark jacket, blue jeans', action: 'walking', carrying: ['backpack'], is_suspicious: false },
    pet: null,
    weather: 'sunny',
    errors: [],
  },
};

const documentedList = {
  items: [documentedDetection],
  pagination: { total: 1000, limit: 50, offset: 0, next_cursor: 'eyJpZCI6IDUwLCAiY3JlYXRlZF9hdCI6ICIyMDI2LTAxLTIzVDEyOjAwOjAwWiJ9', has_more: true },
  deprecation_warning: null,
};

const documentedStats = {
  total_detections: 107,
  detections_by_class: { person: 23, car: 20, truck: 6, bicycle: 1 },
  object_class_distribution: [
    { object_class: 'person', count: 23 },
    { object_class: 'car', count: 20 },
  ],
  average_confidence: 0.87,
  trends: [
    { timestamp: 1737504000000, detection_count: 10 },
    { timestamp: 1737590400000, detection_count: 15 },
  ],
};

const documentedSearch = {
  results: [
    {
      id: 1,
      camera_id: 'front_door',
      object_type: 'person',
      confidence: 0.95,
      detected_at: '2026-01-23T12:00:00Z',
      file_path: '/export/foscam/front_door/20260123_120000.jpg',
      thumbnail_path: '/data/thumbnails/1_thumb.jpg',
      relevance_score: 0.95,
      labels: ['outdoor', 'daytime'],
      bbox_x: 100,
      bbox_y: 150,
      bbox_width: 200,
      bbox_height: 400,
      // The document elides it ({...}): the enrichment data of a detection.
      enrichment_data: documentedDetection.enrichment_data,
    },
  ],
  total_count: 50,
  limit: 50,
  offset: 0,
};

const documentedLabels = {
  labels: [
    { label: 'outdoor', count: 500 },
    { label: 'daytime', count: 450 },
  ],
};

const documentedEnrichment = {
  detection_id: 1,
  enriched_at: '2026-01-23T12:00:00Z',
  license_plate: { detected: true, text: 'ABC123', confidence: 0.92, ocr_confidence: 0.88 },
  face: { detected: true, count: 1, confidence: 0.85 },
  vehicle: { type: 'sedan', color: null, confidence: 0.91, is_commercial: false, damage_detected: false, damage_types: null },
  clothing: {
    upper: 'dark jacket',
    lower: 'blue jeans',
    is_suspicious: false,
    is_service_uniform: false,
    has_face_covered: false,
    has_bag: true,
    clothing_items: ['jacket', 'jeans'],
  },
  violence: { detected: false, score: 0.05, confidence: 0.95 },
  weather: null,
  pose: { posture: 'standing', alerts: [], keypoint_count: 17, confidence: 0.88 },
  depth: null,
  image_quality: { score: 0.85, is_blurry: false, is_low_quality: false, quality_issues: [] },
  pet: null,
  processing_time_ms: 1250,
  errors: [],
};

/** A failed item names no detection when its id was not a detection id (as the example's failed item shows). */
const bulkNullable = ['results.id'];

const documentedBulk = {
  total: 2,
  succeeded: 1,
  failed: 1,
  skipped: 0,
  results: [
    { index: 0, status: 'success', id: 123, error: null },
    { index: 1, status: 'failed', id: null, error: 'Camera not found: invalid_camera' },
  ],
};

// ---- What the document says beyond its examples ----

type JsonType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';

/** Fields the examples show as null, with the type the document's data-model tables (or a sibling example) give them. */
const typesOfNulls: Record<string, JsonType> = {
  duration: 'number',
  video_codec: 'string',
  video_width: 'integer',
  video_height: 'integer',
  'enrichment_data.vehicle': 'object',
  'enrichment_data.pet': 'object',
  deprecation_warning: 'string',
  'vehicle.color': 'string',
  'vehicle.damage_types': 'array',
  'results.error': 'string',
  weather: 'object',
  depth: 'object',
  pet: 'object',
};

/**
 * Where Vigil may answer null: fields the examples show as null, fields of the enrichment models (the
 * document shows models, and fields inside them, as null where nothing was found), the model objects
 * themselves, the source file of a detection created without one (`file_path` and `file_type` are optional
 * in bulk creation) and the thumbnail of a detection with no source image. Each check may add its own.
 */
const mayBeNull = (fieldPath: string, shortPath: string, alsoNullable: readonly string[]): boolean =>
  alsoNullable.includes(fieldPath) ||
  shortPath in typesOfNulls ||
  fieldPath in typesOfNulls ||
  /^(file_path|file_type|thumbnail_path)$/.test(shortPath) ||
  /^enrichment_data\.(vehicle|person|pet)(\.|$)/.test(shortPath) ||
  /^enrichment_data\.weather$/.test(shortPath) ||
  /^(license_plate|face|vehicle|clothing|violence|weather|pose|depth|image_quality|pet)(\.|$)/.test(fieldPath) ||
  /^(enriched_at|processing_time_ms)$/.test(fieldPath);

/** Objects whose keys are data (a class name), not field names: every value has the type of the example's values. */
const recordPaths = new Set(['detections_by_class']);

function jsonTypeOf(value: unknown): JsonType | 'null' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as JsonType;
}

const fits = (actual: JsonType | 'null', expected: JsonType) => actual === expected || (expected === 'number' && actual === 'integer');

interface ShapeReport {
  /** Fields this check allows to be null besides those `mayBeNull` allows everywhere. */
  alsoNullable: readonly string[];
  problems: string[];
  /** Fields Vigil answers that the document does not show. */
  extras: string[];
  /** Documented fields that came back null, and so had no type to check. */
  nulls: string[];
}

/**
 * Walks the document's example: each field it shows must be in `actual`, with its JSON type. `fieldPath`
 * names fields without array indexes (`items.enrichment_data.person`); `where` says where, for messages.
 */
function compareShape(expected: unknown, actual: unknown, report: ShapeReport, fieldPath = '', where = '$'): void {
  const expectedType = jsonTypeOf(expected);
  const actualType = jsonTypeOf(actual);
  const shortPath = fieldPath.replace(/^(items|results)\./, '');
  if (actualType === 'null') {
    if (expectedType !== 'null' && !mayBeNull(fieldPath, shortPath, report.alsoNullable)) report.problems.push(`${where}: null, but the document shows ${expectedType}`);
    else report.nulls.push(fieldPath);
    return;
  }
  if (expectedType === 'null') {
    const documented = typesOfNulls[fieldPath] ?? typesOfNulls[shortPath];
    if (!documented) report.problems.push(`${where}: the test does not know the documented type of ${fieldPath}`);
    else if (!fits(actualType, documented)) report.problems.push(`${where}: ${actualType}, documented ${documented}`);
    return;
  }
  if (!fits(actualType, expectedType)) {
    report.problems.push(`${where}: ${actualType}, the document shows ${expectedType}`);
    return;
  }
  if (expectedType === 'array') {
    const [example] = expected as unknown[];
    if (example === undefined) return;
    (actual as unknown[]).forEach((item, index) => compareShape(example, item, report, fieldPath, `${where}[${index}]`));
    return;
  }
  if (expectedType !== 'object') return;
  const expectedObject = expected as Record<string, unknown>;
  const actualObject = actual as Record<string, unknown>;
  if (recordPaths.has(fieldPath)) {
    const example = Object.values(expectedObject)[0];
    for (const [key, value] of Object.entries(actualObject)) compareShape(example, value, report, `${fieldPath}.*`, `${where}.${key}`);
    return;
  }
  for (const [key, value] of Object.entries(expectedObject)) {
    const childPath = fieldPath ? `${fieldPath}.${key}` : key;
    if (!(key in actualObject)) report.problems.push(`${where}.${key}: missing`);
    else compareShape(value, actualObject[key], report, childPath, `${where}.${key}`);
  }
  for (const key of Object.keys(actualObject)) {
    if (!(key in expectedObject)) report.extras.push(fieldPath ? `${fieldPath}.${key}` : key);
  }
}

/** Asserts that `actual` has every field of the document's `expected`, and says what it added and left null. */
function assertDocumentedShape(
  expected: unknown,
  actual: unknown,
  what: string,
  t: { diagnostic(message: string): void },
  alsoNullable: readonly string[] = [],
): void {
  const report: ShapeReport = { alsoNullable, problems: [], extras: [], nulls: [] };
  compareShape(expected, actual, report);
  assert.deepEqual(report.problems, [], `${what}: ${JSON.stringify(actual)}`);
  const unique = (list: string[]) => [...new Set(list)].join(', ') || 'none';
  t.diagnostic(`${what}: added ${unique(report.extras)}; null ${unique(report.nulls)}`);
}

/** Arrays the check walks must hold something, or their items would go unchecked. */
function assertFilled(value: unknown, arrays: string[], what: string): void {
  for (const name of arrays) {
    const array = name.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], value);
    assert.ok(Array.isArray(array) && array.length > 0, `${what}: ${name} has items to check`);
  }
}

// ---- The stack: PostgreSQL, the API over HTTP ----

const db = migratedDatabase();

describe('the detections API answers in its reference document\'s shapes', () => {
  let server: Server;
  let baseUrl: string;
  let mediaDir: string;
  let token: string;
  let personId: number;
  let bulkIds: number[];
  const camera = 'g001/site01/contract_lobby';

  const bulk = async (method: 'POST' | 'PATCH' | 'DELETE', body: unknown) =>
    bareApi<typeof documentedBulk>(baseUrl, '/api/detections/bulk', {
      method,
      // Bulk requests come in bursts of 2 per token.
      token: await createApiToken(db(), 'contract'),
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  before(async () => {
    mediaDir = await mkdtemp(path.join(os.tmpdir(), 'vigil-contract-'));
    const config = loadConfig({ MEDIA_DIR: mediaDir, SECRETS_KEYS: testSecretsKeys });
    const app = createApp({
      config,
      db: db(),
      media: new FileSystemMediaStore(mediaDir),
      temporal: new Client(),
      logger: createLogger('silent', 'test'),
      secrets: new SecretKeyring(config.secrets.keys),
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    token = await createApiToken(db(), 'contract');
    const accountId = await new AccountRepository(db()).findOrCreate('contract');
    const lobby = await seedCamera(db(), accountId, { zoneId: 'contract_lobby' });
    // An alarm whose person and car were kept, as the pipeline stores them.
    const jobId = await seedJob(db(), lobby, { frames: 2 });
    await new JobRepository(db()).markRunning(accountId, jobId);
    await finishJob(
      db(),
      accountId,
      jobId,
      [storedDetection({ frameIndex: 0, score: 0.91 }), storedDetection({ frameIndex: 1, label: 'car', score: 0.77, box: [300, 200, 500, 320] })],
      alarmResult({ has_person: true, has_vehicle: true, ai_description: 'A person in the lobby', ai_decision_indicators: ['person_detected'] }),
    );
    personId = (await db().selectFrom('detections').select('public_id').where('job_id', '=', jobId).where('label', '=', 'person').executeTakeFirstOrThrow()).public_id;

    const created = await bulk('POST', {
      detections: [
        { camera_id: camera, object_type: 'truck', confidence: 0.62, detected_at: '2026-11-20T10:00:00Z', file_path: '/export/lobby/a.jpg', bbox_x: 10, bbox_y: 20, bbox_width: 200, bbox_height: 100, labels: ['outdoor', 'daytime'] },
        { camera_id: camera, object_type: 'person', confidence: 0.88, bbox_x: 5, bbox_y: 5, bbox_width: 50, bbox_height: 120, labels: ['outdoor'] },
      ],
    });
    assert.equal(created.status, 207, JSON.stringify(created.body));
    bulkIds = created.body.results.map((r) => r.id!);
  });

  after(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await rm(mediaDir, { recursive: true, force: true });
  });

  test('GET /api/detections: items, pagination, deprecation_warning', async (t) => {
    const first = await bareApi(baseUrl, '/api/detections?limit=1', { token });
    assert.equal(first.status, 200);
    assertFilled(first.body, ['items'], 'list');
    assertDocumentedShape(documentedList, first.body, 'list (a first page: next_cursor is a string)', t);
    const all = await bareApi<typeof documentedList>(baseUrl, '/api/detections?limit=100&offset=0', { token });
    assert.equal(all.body.items.length, 4, 'the alarm\'s two detections and the two created');
    // The last page has no next page: its cursor is null.
    assertDocumentedShape(documentedList, all.body, 'list (every detection, with the deprecated offset: a deprecation_warning string)', t, ['pagination.next_cursor']);
    const sparse = await bareApi<{ items: Record<string, unknown>[] }>(baseUrl, '/api/detections?fields=id,confidence', { token });
    for (const item of sparse.body.items) assertDocumentedShape({ id: 1, confidence: 0.95 }, item, 'list with fields=id,confidence', t);
  });

  test('GET /api/detections/stats: the statistics object', async (t) => {
    const { status, body } = await bareApi(baseUrl, '/api/detections/stats', { token });
    assert.equal(status, 200);
    assertFilled(body, ['object_class_distribution', 'trends'], 'stats');
    assertDocumentedShape(documentedStats, body, 'stats', t);
  });

  test('GET /api/detections/search: results, total_count, limit, offset', async (t) => {
    const { status, body } = await bareApi(baseUrl, '/api/detections/search?q=person', { token });
    assert.equal(status, 200);
    assertFilled(body, ['results'], 'search');
    assertDocumentedShape(documentedSearch, body, 'search', t);
  });

  test('GET /api/detections/labels: labels with counts', async (t) => {
    const { status, body } = await bareApi(baseUrl, '/api/detections/labels', { token });
    assert.equal(status, 200);
    assertFilled(body, ['labels'], 'labels');
    assertDocumentedShape(documentedLabels, body, 'labels', t);
  });

  test('GET /api/detections/{detection_id}: the detection object, for an alarm\'s detection and a created one', async (t) => {
    for (const id of [personId, ...bulkIds]) {
      const { status, body } = await bareApi(baseUrl, `/api/detections/${id}`, { token });
      assert.equal(status, 200);
      assertDocumentedShape(documentedDetection, body, `detection ${id}`, t);
    }
  });

  test('GET /api/detections/{detection_id}/enrichment: the enrichment object', async (t) => {
    for (const id of [personId, ...bulkIds]) {
      const { status, body } = await bareApi(baseUrl, `/api/detections/${id}/enrichment`, { token });
      assert.equal(status, 200);
      assertDocumentedShape(documentedEnrichment, body, `enrichment of ${id}`, t);
    }
  });

  test('POST, PATCH and DELETE /api/detections/bulk: 207 with total, succeeded, failed, skipped, results', async (t) => {
    const created = await bulk('POST', {
      detections: [
        { camera_id: camera, object_type: 'car', confidence: 0.7, bbox_x: 1, bbox_y: 2, bbox_width: 30, bbox_height: 40 },
        { camera_id: 'g001/site01/invalid_camera', object_type: 'car', confidence: 0.7, bbox_x: 1, bbox_y: 2, bbox_width: 30, bbox_height: 40 },
      ],
    });
    assert.equal(created.status, 207);
    assert.deepEqual(created.body.results.map((r) => r.status), ['success', 'failed']);
    assertDocumentedShape(documentedBulk, created.body, 'bulk create', t, bulkNullable);
    const id = created.body.results[0]!.id!;

    const updated = await bulk('PATCH', { detections: [{ id, object_type: 'truck', confidence: 0.98 }, { id: 999_999_999, confidence: 0.5 }] });
    assert.equal(updated.status, 207);
    assert.deepEqual(updated.body.results.map((r) => r.status), ['success', 'failed']);
    assertDocumentedShape(documentedBulk, updated.body, 'bulk update', t, bulkNullable);

    const deleted = await bulk('DELETE', { detection_ids: [id, id, 999_999_999] });
    assert.equal(deleted.status, 207);
    assert.deepEqual(deleted.body.results.map((r) => r.status), ['success', 'skipped', 'failed']);
    assertDocumentedShape(documentedBulk, deleted.body, 'bulk delete', t, bulkNullable);
  });

  test('errors: {"error": {"code", "message", "field"?}} with the product\'s stable codes, on every kind of failure', async () => {
    const cases: { request: () => Promise<{ status: number; body: unknown }>; status: number; code: string; field?: string }[] = [
      { request: () => bareApi(baseUrl, '/api/detections?limit=0', { token }), status: 400, code: 'VALIDATION_ERROR', field: 'limit' },
      { request: () => bareApi(baseUrl, '/api/detections/abc', { token }), status: 400, code: 'VALIDATION_ERROR', field: 'detection_id' },
      { request: () => bareApi(baseUrl, '/api/detections/999999999', { token }), status: 404, code: 'NOT_FOUND' },
      { request: () => bareApi(baseUrl, '/api/detections/999999999/thumbnail', { token }), status: 404, code: 'NOT_FOUND' },
      { request: () => bareApi(baseUrl, '/api/detections/stats'), status: 401, code: 'UNAUTHENTICATED' },
      { request: () => bareApi(baseUrl, `/api/detections/${personId}/video`, { token }), status: 400, code: 'NOT_A_VIDEO' },
      { request: () => bulk('POST', { detections: [] }), status: 400, code: 'VALIDATION_ERROR', field: 'detections' },
      { request: () => bareApi(baseUrl, '/api/detections/bulk', { method: 'PUT', token }), status: 405, code: 'METHOD_NOT_ALLOWED' },
      { request: () => bareApi(baseUrl, '/api/detections/1/nothing', { token }), status: 404, code: 'NOT_FOUND' },
    ];
    for (const { request, status, code, field } of cases) {
      const response = await request();
      const what = `${status} ${code}: ${JSON.stringify(response.body)}`;
      assert.equal(response.status, status, what);
      assert.deepEqual(Object.keys(response.body as object), ['error'], what);
      const error = (response.body as { error: Record<string, unknown> }).error;
      assert.deepEqual(Object.keys(error), field ? ['code', 'message', 'field'] : ['code', 'message'], what);
      assert.equal(error.code, code, what);
      assert.equal(typeof error.message, 'string', what);
      if (field) assert.equal(error.field, field, what);
    }
  });
});
