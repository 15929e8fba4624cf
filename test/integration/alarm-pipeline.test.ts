import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { DetectFramesResult } from '../../workflows/contracts/alarm-verification.js';
import { progressQuery } from '../../workflows/contracts/job.js';
import { VigilDecision, VigilStage, VigilZoneId } from '../../temporal/search-attributes.js';
import { alarmForm, api, defaultFields, eventFrames, submitAlarm, waitForTerminal } from '../support/alarms.js';
import { activityNames, scheduledActivity } from '../support/history.js';
import { runVigilCli } from '../support/cli.js';
import { startStack, type TestStack } from '../support/stack.js';

interface ExportData {
  job_id: string;
  vendor: Record<string, unknown>;
  server: Record<string, unknown> & { crime_rate: number; has_person: boolean; has_vehicle: boolean; ai_decision_indicators: string[] };
  media: { type: string; frames: { name: string; box_file: string; boxes: Record<string, number[][]>; image_base64?: string }[] };
}

const expectations = [
  { event: 'pets2009_people_walking_a', person: true, minCrimeRate: 1 },
  { event: 'pets2009_people_walking_b', person: true, minCrimeRate: 1 },
  { event: 'warehouse_worker_hardhat', person: true, minCrimeRate: 1 },
  { event: 'parking_lot_empty_a', person: false, maxCrimeRate: 0 },
  { event: 'tree_foliage_wind', person: false, maxCrimeRate: 0 },
  { event: 'tree_hand_over_lens', person: false, maxCrimeRate: 0 },
  { event: 'highway_cyclist_on_shoulder', person: true, minCrimeRate: 1 },
];

describe('alarm verification on the real stack', () => {
  let stack: TestStack;
  let token: string;
  let adminToken: string;
  const jobs = new Map<string, string>();

  before(async () => {
    stack = await startStack();
    token = await stack.createToken('acme');
    adminToken = await stack.createToken('acme', 'admin');
    // All the events go in at once, as an alarm receiving centre would send them.
    await Promise.all(
      expectations.map(async ({ event }, index) => {
        const form = alarmForm(defaultFields({ zone_id: `cam${index}`, vendor_event_id: `${event}-1`, zone_name: `Camera ${index}` }), await eventFrames(event));
        const response = await submitAlarm(stack.baseUrl, token, form);
        assert.equal(response.status, 202, JSON.stringify(response.body));
        jobs.set(event, response.body.data.job_id);
      }),
    );
  });

  after(async () => stack?.stop());

  for (const expected of expectations) {
    test(`${expected.event}: has_person ${expected.person}`, async () => {
      const jobId = jobs.get(expected.event)!;
      const status = await waitForTerminal(stack.baseUrl, token, jobId);
      assert.equal(status.status, 'finished', JSON.stringify(status));
      const { status: code, body } = await api<ExportData>(stack.baseUrl, `/api/v1/alarms/${jobId}/export`, { token });
      assert.equal(code, 200, JSON.stringify(body));
      assert.equal(body.data.server.has_person, expected.person, JSON.stringify(body.data.server));
      if (expected.minCrimeRate !== undefined) assert.ok(body.data.server.crime_rate >= expected.minCrimeRate, JSON.stringify(body.data.server));
      if (expected.maxCrimeRate !== undefined) assert.ok(body.data.server.crime_rate <= expected.maxCrimeRate, JSON.stringify(body.data.server));
    });
  }

  test('the export has the documented shape', async () => {
    const jobId = jobs.get('pets2009_people_walking_a')!;
    await waitForTerminal(stack.baseUrl, token, jobId);
    const { body } = await api<ExportData>(stack.baseUrl, `/api/v1/alarms/${jobId}/export?media_type=0`, { token: adminToken });
    assert.equal(body.success, true);
    assert.equal(body.error, null);
    assert.equal(body.data.job_id, jobId);
    assert.match(jobId, /^raw_acme_g001_site01_cam0_[0-9a-f]{12}$/);
    assert.deepEqual(Object.keys(body.data.vendor).sort(), [
      'camera_name', 'dealer_group_id', 'dealer_site_id', 'dealer_zone_id', 'group_name', 'site_category', 'site_name', 'site_timezone', 'vendor_event_id', 'vendor_time',
    ]);
    assert.equal(body.data.vendor.vendor_time, '2026-11-20 23:15:00');
    assert.equal(body.data.vendor.camera_name, 'Camera 0');
    assert.equal(body.data.vendor.group_name, 'group_g001');
    assert.deepEqual(Object.keys(body.data.server).sort(), [
      'ai_analysis_called', 'ai_analysis_time', 'ai_decision', 'ai_decision_indicators', 'ai_decision_method', 'ai_decision_time', 'ai_description', 'ai_engine',
      'crime_rate', 'has_motion', 'has_person', 'has_vehicle',
    ]);
    assert.equal(body.data.server.ai_decision_method, 'Local');
    assert.equal(body.data.server.has_motion, true, 'people walk through the scene');
    assert.equal(body.data.media.type, 'boxes');
    assert.equal(body.data.media.frames.length, 8);
    body.data.media.frames.forEach((frame, index) => {
      assert.equal(frame.name, `frame_0${index}.jpg`);
      assert.equal(frame.box_file, `frame_0${index}_box.json`);
      assert.deepEqual(Object.keys(frame.boxes).sort(), ['person', 'vehicle', 'weapon']);
      for (const box of frame.boxes.person!) {
        assert.equal(box.length, 5);
        const [x1, y1, x2, y2, confidence] = box as [number, number, number, number, number];
        assert.ok(x1 < x2 && y1 < y2 && x1 >= 0 && y1 >= 0 && x2 <= 768 && y2 <= 576, `box in the 768x576 frame: ${box}`);
        assert.ok(confidence > 0 && confidence <= 1);
      }
    });
    assert.ok(body.data.media.frames.some((frame) => frame.boxes.person!.length > 0));
  });

  test('an admin export with media_type 1 carries annotated JPEG frames', async () => {
    const jobId = jobs.get('warehouse_worker_hardhat')!;
    await waitForTerminal(stack.baseUrl, token, jobId);
    const { status, body } = await api<ExportData>(stack.baseUrl, `/api/v1/alarms/${jobId}/export?media_type=1`, { token: adminToken });
    assert.equal(status, 200, JSON.stringify(body.error));
    const first = body.data.media.frames[0]!;
    const meta = await sharp(Buffer.from(first.image_base64!, 'base64')).metadata();
    assert.equal(meta.format, 'jpeg');
    assert.ok(meta.width! > 0 && meta.height! > 0);
  });

  test('the workflow ran detection on the vigil-detect queue and recorded its stages', async () => {
    const jobId = jobs.get('pets2009_people_walking_b')!;
    await waitForTerminal(stack.baseUrl, token, jobId);
    const handle = stack.temporal.workflow.getHandle(jobId);
    // The row says finished once the verdict is stored; the workflow completes just after it.
    await handle.result();
    const history = await handle.fetchHistory();
    const detect = scheduledActivity(history, 'detectFrames');
    assert.equal(detect?.activityTaskScheduledEventAttributes?.taskQueue?.name, 'vigil-detect');
    // Detection hands the analysis each frame's quality and motion measures: the analysis decodes no frame.
    const detected = history.events?.find((event) => event.activityTaskCompletedEventAttributes?.scheduledEventId?.equals(detect!.eventId!));
    const payload = detected?.activityTaskCompletedEventAttributes?.result?.payloads?.[0]?.data;
    const frames = JSON.parse(Buffer.from(payload ?? '[]').toString('utf8')) as DetectFramesResult;
    assert.deepEqual(frames.map((frame) => frame.measures?.activity === null), [true, false, false, false, false, false, false, false]);
    // Only detection leaves the analysis worker; the short steps are its local activities, one per workflow task
    // besides the worker's settings (detection queue, webhook and LLM policies), which the API does not send.
    assert.deepEqual(activityNames(history), ['workerSettings (local)', 'beginAlarm (local)', 'detectFrames', 'settleAlarm (local)']);
    const progress = await handle.query(progressQuery);
    assert.equal(progress.stage, 'finished');
    assert.deepEqual(progress.stages.map((s) => s.stage), ['tenancy', 'detect', 'analyse', 'finished']);
    const description = await handle.describe();
    assert.equal(description.typedSearchAttributes.get(VigilZoneId), 'cam1');
    assert.equal(description.typedSearchAttributes.get(VigilStage), 'finished');
    assert.ok(['No', 'Maybe', 'Yes'].includes(description.typedSearchAttributes.get(VigilDecision) ?? ''));
  });

  test('the operator CLI creates, lists and revokes tokens', async () => {
    const run = (...args: string[]) => runVigilCli(stack.config.database.url, args);
    const created = await run('token', 'create', '--account', 'cli_account');
    const cliToken = created.stdout.trim();
    assert.match(cliToken, /^vgl_[A-Za-z0-9_-]{32}$/);
    const unknownJob = await api(stack.baseUrl, '/api/v1/alarms/raw_nope', { token: cliToken });
    assert.equal(unknownJob.status, 404);
    const listed = await run('accounts', 'list');
    assert.match(listed.stdout, /cli_account/);
    await run('token', 'revoke', '--token', cliToken);
    const afterRevoke = await api(stack.baseUrl, '/api/v1/alarms/raw_nope', { token: cliToken });
    assert.equal(afterRevoke.status, 401);
    assert.equal(afterRevoke.body.error?.code, 'UNAUTHENTICATED');
  });
});
