import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { alarmForm, api, bareApi, defaultFields, eventFrames, submitAlarm, waitForTerminal, type AlarmFile } from '../support/alarms.js';
import { startStack, type TestStack } from '../support/stack.js';

interface Export {
  job_id: string;
  server: { crime_rate: number; has_person: boolean; has_vehicle: boolean; ai_decision_indicators: string[] };
  media: { frames: { boxes: Record<string, number[][]> }[] };
}

interface DetectionPage {
  items: { id: number; object_type: string; enrichment_data: { vehicle: { parked: boolean } | null } }[];
}

/**
 * The top right corner of pets2009_people_walking_a, where a van and a car stand parked the whole event
 * and nobody walks: the event of a camera that sees only parked vehicles. Enlarged three times, as a
 * camera aimed at the car park would see them.
 */
async function parkedOnlyFrames(): Promise<AlarmFile[]> {
  return Promise.all(
    (await eventFrames('pets2009_people_walking_a')).map(async (frame) => ({
      name: frame.name,
      bytes: await sharp(frame.bytes).extract({ left: 560, top: 0, width: 208, height: 108 }).resize(624, 324).jpeg({ quality: 92 }).toBuffer(),
    })),
  );
}

/**
 * pets2009_people_walking_a has a parked car and van in every frame. An event made of four of its
 * frames and four frames of another camera view holds them in half the frames only, so only the
 * camera's previous event can tell that they are parked.
 */
describe("stationary vehicles from the camera's previous event", () => {
  let stack: TestStack;
  let token: string;
  let halfParked: AlarmFile[];

  before(async () => {
    // Consecutive alarms of one camera, without waiting for the cooldown.
    stack = await startStack({ env: { ALARM_COOLDOWN_S: '0' } });
    token = await stack.createToken('acme');
    halfParked = [...(await eventFrames('pets2009_people_walking_a', 4)), ...(await eventFrames('warehouse_worker_hardhat', 4))];
  });
  after(async () => stack?.stop());

  async function analyse(zone: string, files: AlarmFile[], exportToken = token): Promise<Export> {
    const submitted = await submitAlarm(stack.baseUrl, token, alarmForm(defaultFields({ zone_id: zone }), files));
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const jobId = submitted.body.data.job_id;
    const final = await waitForTerminal(stack.baseUrl, token, jobId);
    assert.equal(final.status, 'finished', JSON.stringify(final));
    const { body } = await api<Export>(stack.baseUrl, `/api/v1/alarms/${jobId}/export`, { token: exportToken });
    return body.data;
  }

  test('a camera without a previous event counts the vehicles seen in half the frames', async () => {
    const { server } = await analyse('fresh_cam', halfParked);
    assert.equal(server.has_vehicle, true, JSON.stringify(server));
    assert.ok(!server.ai_decision_indicators.includes('filtered_stationary_vehicle'), JSON.stringify(server));
  });

  test('the same vehicles where the previous event saw them parked do not count, and are still reported as seen', async () => {
    const first = await analyse('parking_cam', await eventFrames('pets2009_people_walking_a'));
    assert.equal(first.server.has_vehicle, true, 'parked in every frame of the first event, and seen');
    assert.ok(first.server.ai_decision_indicators.includes('filtered_stationary_vehicle'));

    const second = await analyse('parking_cam', halfParked);
    assert.equal(second.server.has_vehicle, true, JSON.stringify(second.server));
    assert.equal(second.server.has_person, true, 'people are never dropped for standing where they stood');
    assert.ok(second.server.ai_decision_indicators.includes('filtered_stationary_vehicle'), JSON.stringify(second.server));
    assert.ok(second.media.frames.slice(0, 4).every((frame) => frame.boxes.vehicle!.length > 0), 'the parked vehicles keep their boxes');
  });

  test('an event of parked vehicles only: has_vehicle with their boxes, marked parked, and nothing to alarm about', async () => {
    const parked = await analyse('car_park_cam', await parkedOnlyFrames());
    assert.equal(parked.server.has_vehicle, true, JSON.stringify(parked.server));
    assert.equal(parked.server.has_person, false, JSON.stringify(parked.server));
    assert.equal(parked.server.crime_rate, 0, 'a parked vehicle does not count for the decision');
    assert.ok(parked.server.ai_decision_indicators.includes('filtered_stationary_vehicle'), 'the indicator says why it did not count');
    assert.equal(parked.media.frames.length, 8);
    for (const frame of parked.media.frames) {
      assert.ok(frame.boxes.vehicle!.length >= 1, JSON.stringify(frame.boxes));
      for (const [x1, y1, x2, y2, score] of frame.boxes.vehicle!) assert.ok(x1! < x2! && y1! < y2! && score! > 0 && score! <= 1);
    }

    const { status, body } = await bareApi<DetectionPage>(stack.baseUrl, '/api/detections?camera_id=g001/site01/car_park_cam&limit=100', { token });
    assert.equal(status, 200, JSON.stringify(body));
    const exportedBoxes = parked.media.frames.reduce((sum, frame) => sum + frame.boxes.vehicle!.length, 0);
    assert.equal(body.items.length, exportedBoxes, 'the detections API serves what the export shows');
    assert.ok(body.items.every((item) => item.enrichment_data.vehicle?.parked === true), JSON.stringify(body.items.map((i) => i.enrichment_data)));
  });
});
