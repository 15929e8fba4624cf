import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { alarmForm, api, defaultFields, eventFrames, submitAlarm, waitForTerminal, type AlarmFile } from '../support/alarms.js';
import { startStack, type TestStack } from '../support/stack.js';

interface Export {
  server: { has_person: boolean; has_vehicle: boolean; ai_decision_indicators: string[] };
  media: { frames: { boxes: Record<string, number[][]> }[] };
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

  async function analyse(zone: string, files: AlarmFile[]): Promise<Export> {
    const submitted = await submitAlarm(stack.baseUrl, token, alarmForm(defaultFields({ zone_id: zone }), files));
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const jobId = submitted.body.data.job_id;
    const final = await waitForTerminal(stack.baseUrl, token, jobId);
    assert.equal(final.status, 'finished', JSON.stringify(final));
    const { body } = await api<Export>(stack.baseUrl, `/api/v1/alarms/${jobId}/export`, { token });
    return body.data;
  }

  test('a camera without a previous event counts the vehicles seen in half the frames', async () => {
    const { server } = await analyse('fresh_cam', halfParked);
    assert.equal(server.has_vehicle, true, JSON.stringify(server));
    assert.ok(!server.ai_decision_indicators.includes('filtered_stationary_vehicle'), JSON.stringify(server));
  });

  test('the same vehicles where the previous event saw them parked do not count', async () => {
    const first = await analyse('parking_cam', await eventFrames('pets2009_people_walking_a'));
    assert.equal(first.server.has_vehicle, false, 'parked in every frame of the first event');
    assert.ok(first.server.ai_decision_indicators.includes('filtered_stationary_vehicle'));

    const second = await analyse('parking_cam', halfParked);
    assert.equal(second.server.has_vehicle, false, JSON.stringify(second.server));
    assert.equal(second.server.has_person, true, 'people are never dropped for standing where they stood');
    assert.ok(second.server.ai_decision_indicators.includes('filtered_stationary_vehicle'), JSON.stringify(second.server));
    assert.ok(second.media.frames.every((frame) => frame.boxes.vehicle!.length === 0));
  });
});
