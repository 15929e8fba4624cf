import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCameraId, parseCameraId } from '../../api/detections/camera-id.js';
import { decodeCursor, encodeCursor } from '../../api/detections/cursor.js';
import { detectionFields, parseFieldList, pickFields } from '../../api/detections/fields.js';
import { bulkCreateItem, bulkDeleteItem, detectionParams, listQuery, searchQuery } from '../../api/detections/schema.js';
import { THUMBNAIL_MAX_SIDE, thumbnailLayout, thumbnailRegion } from '../../media/detection-image.js';

const id = 4217;

describe('page cursors', () => {
  it('round-trip a position to the millisecond', () => {
    const position = { detectedAt: new Date('2026-11-22T15:57:22.641Z'), id };
    const cursor = encodeCursor(position);
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeCursor(cursor), position);
  });

  it('refuse anything this API did not issue', () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const cursor of [
      '',
      'abc',
      'not base64!',
      encode('text'),
      encode(null),
      encode({ t: 'yesterday', id }),
      encode({ t: 1.5, id }),
      encode({ t: 1795363042663, id: '42' }),
      encode({ t: 1795363042663, id: 0 }),
      encode({ t: 1795363042663, id: 4.5 }),
      encode({ t: 1795363042663, id: '0b7f1c7e-5d2a-4c8e-9f43-2a1d6e8b9c01' }),
      encode({ t: 1795363042663 }),
      encode({ t: 9e20, id }),
      'a'.repeat(201),
    ]) {
      assert.equal(decodeCursor(cursor), undefined, cursor);
    }
  });
});

describe('detection ids', () => {
  it('are positive integers in a path and in a bulk body', () => {
    assert.equal(detectionParams.parse({ detection_id: '42' }).detection_id, 42);
    for (const detection_id of ['0', '-1', '042', '4.2', '1e3', ' 42', '0b7f1c7e-5d2a-4c8e-9f43-2a1d6e8b9c01', '1234567890123456']) {
      assert.equal(detectionParams.safeParse({ detection_id }).success, false, detection_id);
    }
    assert.equal(bulkDeleteItem.parse(42), 42);
    for (const item of ['42', 0, 4.2, null, 1e16]) assert.equal(bulkDeleteItem.safeParse(item).success, false, String(item));
  });
});

describe('sparse fieldsets', () => {
  it('keep the order given and drop repeats', () => {
    assert.deepEqual(parseFieldList('object_type, id,object_type'), { fields: ['object_type', 'id'] });
  });

  it('name the unknown fields', () => {
    assert.deepEqual(parseFieldList('id,label,score'), { unknown: ['label', 'score'] });
    assert.deepEqual(parseFieldList(' , '), { unknown: [] });
  });

  it('pick only the requested fields, or all without a list', () => {
    const detection = Object.fromEntries(detectionFields.map((field) => [field, `${field}-value`])) as Record<(typeof detectionFields)[number], string>;
    assert.deepEqual(pickFields(detection, ['id', 'confidence']), { id: 'id-value', confidence: 'confidence-value' });
    assert.equal(pickFields(detection, undefined), detection);
  });
});

describe('camera ids', () => {
  it('are group/site/zone', () => {
    const ref = { groupId: 'g001', siteId: 'site.01', zoneId: 'zone_7-b' };
    assert.equal(formatCameraId(ref), 'g001/site.01/zone_7-b');
    assert.deepEqual(parseCameraId('g001/site.01/zone_7-b'), ref);
  });

  it('need exactly three vendor identifiers', () => {
    for (const value of ['g001/site01', 'g001/site01/zone01/x', 'g001//zone01', 'g 1/s/z', '']) assert.equal(parseCameraId(value), undefined, value);
  });
});

describe('list and search parameters', () => {
  it('read a date alone as the whole UTC day', () => {
    const query = listQuery.parse({ start_date: '2026-11-20', end_date: '2026-11-21' });
    assert.equal(query.start_date?.toISOString(), '2026-11-20T00:00:00.000Z');
    assert.equal(query.end_date?.toISOString(), '2026-11-21T23:59:59.999Z');
  });

  it('take date-times with an offset and refuse them without one', () => {
    assert.equal(listQuery.parse({ start_date: '2026-11-20T23:15:00+01:00' }).start_date?.toISOString(), '2026-11-20T22:15:00.000Z');
    for (const start_date of ['2026-11-20T23:15:00', '2026-13-01', 'yesterday', '20/11/2026']) {
      assert.equal(listQuery.safeParse({ start_date }).success, false, start_date);
    }
  });

  it('refuse a start after the end, and a cursor together with an offset', () => {
    const reversed = listQuery.safeParse({ start_date: '2026-11-21', end_date: '2026-11-20' });
    assert.equal(reversed.success, false);
    assert.deepEqual(reversed.error?.issues[0]?.path, ['start_date']);
    const both = listQuery.safeParse({ cursor: encodeCursor({ detectedAt: new Date(), id }), offset: '10' });
    assert.deepEqual(both.error?.issues[0]?.path, ['offset']);
  });

  it('default and bound the limit', () => {
    assert.equal(listQuery.parse({}).limit, 50);
    assert.equal(listQuery.parse({ limit: '100' }).limit, 100);
    for (const limit of ['0', '101', '2.5', 'ten']) assert.equal(listQuery.safeParse({ limit }).success, false, limit);
    assert.equal(searchQuery.parse({ q: 'person', limit: '1000' }).limit, 1000);
    assert.equal(searchQuery.safeParse({ q: 'person', limit: '1001' }).success, false);
  });

  it('take labels repeated or comma-separated', () => {
    assert.deepEqual(searchQuery.parse({ q: 'car', labels: ['motion', 'after_hours,night'] }).labels, ['motion', 'after_hours', 'night']);
    assert.equal(searchQuery.parse({ q: 'car', labels: '' }).labels, undefined);
    assert.equal(searchQuery.safeParse({ q: '   ' }).success, false);
  });
});

describe('bulk items', () => {
  const item = { camera_id: 'g1/s1/z1', object_type: 'car', confidence: 0.9, bbox_x: 10, bbox_y: 20, bbox_width: 30, bbox_height: 40 };

  it('use the detector vocabulary and refuse unknown keys', () => {
    assert.equal(bulkCreateItem.safeParse(item).success, true);
    assert.equal(bulkCreateItem.safeParse({ ...item, object_type: 'dog' }).success, false);
    assert.equal(bulkCreateItem.safeParse({ ...item, colour: 'red' }).success, false);
    assert.equal(bulkCreateItem.safeParse({ ...item, bbox_width: 0 }).success, false);
    assert.equal(bulkCreateItem.safeParse({ ...item, file_type: 'application/pdf' }).success, false);
  });
});

describe('thumbnail region', () => {
  const frame = { width: 768, height: 576 };

  it('keeps a quarter of the longer side around the box', () => {
    assert.deepEqual(thumbnailRegion([300, 200, 340, 400], frame), { left: 250, top: 150, width: 140, height: 300 });
  });

  it('is at least 96 px each way around a small box', () => {
    assert.deepEqual(thumbnailRegion([400, 300, 410, 310], frame), { left: 357, top: 257, width: 96, height: 96 });
  });

  it('stays inside the frame at its edges', () => {
    assert.deepEqual(thumbnailRegion([0, 0, 20, 20], frame), { left: 0, top: 0, width: 96, height: 96 });
    assert.deepEqual(thumbnailRegion([740, 540, 768, 576], frame), { left: 672, top: 480, width: 96, height: 96 });
    assert.deepEqual(thumbnailRegion([-50, -50, 900, 700], frame), { left: 0, top: 0, width: 768, height: 576 });
  });

  it('scales a large region down to the thumbnail size', () => {
    const layout = thumbnailLayout([100, 50, 500, 450], frame);
    assert.deepEqual(layout.region, { left: 0, top: 0, width: 600, height: 576 });
    assert.equal(layout.width, THUMBNAIL_MAX_SIDE);
    assert.equal(layout.height, Math.round(576 * (THUMBNAIL_MAX_SIDE / 600)));
    assert.equal(thumbnailLayout([300, 200, 340, 400], frame).scale, 1);
  });

  it('never leaves the frame for a box outside it', () => {
    const region = thumbnailRegion([2000, 2000, 2100, 2100], frame);
    assert.ok(region.left + region.width <= frame.width && region.top + region.height <= frame.height && region.width >= 1);
  });
});
