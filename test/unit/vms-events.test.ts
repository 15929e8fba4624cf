import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { vmsEventBody } from '../../api/vms/schema.js';
import { forwardedEventOf, verdictOf, vmsObjectTypeOf } from '../../domain/vms-events.js';
import { exampleEvent, personBox } from '../support/vms-events.js';

const parse = (body: unknown) => vmsEventBody.safeParse(body, { reportInput: true });
const fieldOf = (body: unknown) => {
  const parsed = parse(body);
  assert.equal(parsed.success, false, 'refused');
  return parsed.error!.issues[0]!.path.join('.');
};

describe('VMS event schema (Ultinous AI Suite, version 5)', () => {
  test('reads the loitering example\'s quoted numbers and zero-height box, keeping unknown fields', () => {
    const body = {
      ...exampleEvent({
        id: '1648549919844@loitering_alert93',
        type: 'LOITERING_DETECTION',
        quotedNumbers: true,
        detections: [{ type: 'PERSON_FULL_BODY', bounding_box: { x: '1041', y: 25, width: 528, height: 0 }, detection_confidence: '0.938471615' }],
      }),
      vendor_extension: { zone: 'north' },
    };
    const parsed = parse(body);
    assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
    const event = parsed.data;
    assert.equal(event.timestamp, 1648549923245);
    assert.equal(event.detailKey, 'loitering_details');
    assert.equal(event.sources[0]!.frameTimestamp, 1648549923245);
    assert.deepEqual(event.sources[0]!.detections[0]!.bounding_box, { x: 1041, y: 25, width: 528, height: 0 });
    assert.equal(event.sources[0]!.detections[0]!.detection_confidence, 0.938471615);
    assert.equal(event.sources[0]!.snapshot, null, '"" is no snapshot');
    assert.deepEqual(event.document.vendor_extension, { zone: 'north' });
  });

  test('reads null snapshots, end of event, heartbeats, crowd sources, enum numbers and UNKNOWN without a block', () => {
    const stopped = parse(exampleEvent({ id: 'a', type: 'STOPPED_DETECTION', snapshot: null, detections: [], endOfEvent: true }));
    assert.ok(stopped.success);
    assert.deepEqual([stopped.data.endOfEvent, stopped.data.sources[0]!.snapshot, stopped.data.sources[0]!.detections], [true, null, []]);
    const heartbeat = parse(exampleEvent({ id: 'b', heartbeat: true, detections: [] }));
    assert.ok(heartbeat.success && heartbeat.data.heartbeat);
    const crowd = parse(exampleEvent({ id: 'c', type: 'CROWD_DETECTION' }));
    assert.ok(crowd.success);
    assert.deepEqual([crowd.data.numOfPeople, crowd.data.sources.length], [1, 1]);
    const numbered = parse({ ...exampleEvent({ id: 'd' }), type: 2 });
    assert.ok(numbered.success && numbered.data.type === 'INTRUSION_DETECTION');
    const unknown = parse({ id: 'e', type: 'UNKNOWN' });
    assert.ok(unknown.success && unknown.data.sources.length === 0);
  });

  test('refuses what would mislead, naming the field', () => {
    assert.equal(fieldOf({ type: 'INTRUSION_DETECTION' }), 'id');
    assert.equal(fieldOf({ id: 'x' }), 'type');
    assert.equal(fieldOf({ id: 'x', type: 'SOMETHING_ELSE' }), 'type');
    assert.equal(fieldOf({ id: 'x', type: 'INTRUSION_DETECTION' }), 'intrusion_detection_details');
    const stray = { ...exampleEvent({ id: 'x' }), crowd_detection_details: { sources: [] } };
    assert.equal(fieldOf(stray), 'crowd_detection_details');
    assert.equal(fieldOf({ id: 'x', type: 'UNKNOWN', ppe_detection_details: { source: null } }), 'ppe_detection_details');
    assert.equal(fieldOf(exampleEvent({ id: 'x', snapshot: '%%%' })), 'intrusion_detection_details.source.snapshot');
    assert.equal(fieldOf(exampleEvent({ id: 'x', detections: [{ ...personBox, type: 'DRAGON' }] })), 'intrusion_detection_details.source.detections.0.type');
    assert.equal(fieldOf(['not', 'an', 'object']), '');
  });
});

describe('VMS verdicts and forwarding', () => {
  test('the alarm rules\' No suppresses an incident; Maybe and Yes make it real', () => {
    assert.deepEqual((['No', 'Maybe', 'Yes'] as const).map(verdictOf), ['suppressed', 'real', 'real']);
  });

  test('a confirmed incident is forwarded in the schema with the detections it can name', () => {
    const event = forwardedEventOf({
      eventId: 'vms_incident_1@vigil',
      timestampMs: 1700000000000,
      displayName: 'Gate',
      type: 'INTRUSION_DETECTION',
      configId: 'alert85',
      camera: { cameraId: 'cam76', displayName: 'Gate camera', technicalName: 'gate-1', width: 1920, height: 1080, frameTimestampMs: null },
      detections: [
        { label: 'person', score: 0.91234, box: [10.4, 20, 110.6, 220] },
        { label: 'knife', score: 0.8, box: [0, 0, 5, 5] },
      ],
      snapshotBase64: '/9j/',
    });
    const details = event.intrusion_detection_details as { source: { detections: unknown[]; frame_timestamp: number }; end_of_event: boolean };
    assert.deepEqual(details.source.detections, [{ type: 'PERSON_FULL_BODY', bounding_box: { x: 10, y: 20, width: 101, height: 200 }, detection_confidence: 0.9123 }]);
    assert.equal(details.source.frame_timestamp, 1700000000000);
    assert.equal(event.loitering_details, null);
    assert.equal(event.schema_version, 5);
    assert.equal(vmsObjectTypeOf('truck'), 'TRUCK');
    assert.equal(vmsObjectTypeOf('knife'), undefined);
  });
});
