import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { alarmForm, api, defaultFields, submitAlarm, waitForTerminal } from '../support/alarms.js';
import { startStack, type TestStack } from '../support/stack.js';
import { smallPersonEvents } from '../support/thermal-events.js';

interface ExportData {
  server: { crime_rate: number; has_person: boolean };
  media: { frames: { boxes: Record<string, number[][]> }[] };
}

describe('a thermal alarm on the real stack', () => {
  let stack: TestStack;
  let token: string;

  before(async () => {
    stack = await startStack();
    token = await stack.createToken('acme');
  });
  after(async () => stack?.stop());

  // Grey white-hot frames of a street at night, a person 0.1 of the frame tall: detection alone, cascade and
  // 2 x 2 tiles included, finds no one (`npm run eval -- --thermal`); the thermal pass does.
  test('finds the person far away in a grey thermal event', async () => {
    const event = (await smallPersonEvents()).find((candidate) => candidate.name === 'car 0.1 grey')!;
    const files = event.frames.map((bytes, index) => ({ name: `frame_0${index}.jpg`, bytes, type: 'image/jpeg' }));
    const response = await submitAlarm(stack.baseUrl, token, alarmForm(defaultFields(), files));
    assert.equal(response.status, 202, JSON.stringify(response.body));
    const jobId = response.body.data.job_id;
    const status = await waitForTerminal(stack.baseUrl, token, jobId);
    assert.equal(status.status, 'finished', JSON.stringify(status));

    const { body } = await api<ExportData>(stack.baseUrl, `/api/v1/alarms/${jobId}/export`, { token });
    assert.equal(body.data.server.has_person, true, JSON.stringify(body.data.server));
    assert.ok(body.data.server.crime_rate >= 1, JSON.stringify(body.data.server));
    const whereThePersonIs = body.data.media.frames.filter((frame, index) => {
      const [left, top, right, bottom] = event.boxes[index]!;
      return frame.boxes.person!.some(([x1, y1, x2, y2]) => {
        const [cx, cy] = [(x1! + x2!) / 2, (y1! + y2!) / 2];
        return cx >= left && cx <= right && cy >= top && cy <= bottom;
      });
    });
    assert.ok(whereThePersonIs.length >= 2, JSON.stringify(body.data.media.frames.map((frame) => frame.boxes.person)));
  });
});
