import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledFailure } from '@temporalio/common';
import proto from '@temporalio/proto';
import { createDetector, type Detector } from '../../gpu-worker/detector.js';
import { createDetectionEngine, type DetectionEngine } from '../../gpu-worker/engine.js';
import { createClassifier } from '../../gpu-worker/classifier.js';
import { createDetectionWorker } from '../../gpu-worker/worker.js';
import { FileSystemMediaStore } from '../../media/store.js';
import { connectNative } from '../../temporal/connection.js';
import { alarmForm, api, defaultFields, enlargedEventFrames, waitForDetectionUnderWay, eventFrames, submitAlarm, waitForTerminal, type AlarmFile } from '../support/alarms.js';
import { activityNames, scheduledActivity } from '../support/history.js';
import { modelsDir } from '../support/paths.js';
import { startStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

const { EventType } = proto.temporal.api.enums.v1;

describe('cancelling a job while its detection runs', () => {
  let stack: TestStack;
  let token: string;
  let largeFrames: AlarmFile[];

  before(async () => {
    stack = await startStack({ detectionWorker: false });
    token = await stack.createToken('acme');
    // 4096x3072 PNG frames of an empty scene: PNG has no shrink-on-load, and with no person found the
    // cascade model detects the event a second time, so detection runs for seconds.
    largeFrames = await enlargedEventFrames('parking_lot_empty_a', 'png');
  });
  after(async () => stack?.stop());

  /** Submits the large event and returns once its detection activity has started and heartbeated. */
  async function jobInDetection(zone: string): Promise<string> {
    const submitted = await submitAlarm(stack.baseUrl, token, alarmForm(defaultFields({ zone_id: zone }), largeFrames));
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const jobId = submitted.body.data.job_id;
    await waitForDetectionUnderWay(stack.temporal, jobId);
    return jobId;
  }

  /** The job ends cancelled, its detection was asked to stop, and nothing after detection ran or was stored. */
  async function assertCancelledDuringDetection(jobId: string): Promise<void> {
    const final = await waitForTerminal(stack.baseUrl, token, jobId, 60_000);
    assert.equal(final.status, 'cancelled', JSON.stringify(final));
    assert.equal(final.error?.code, 'CANCELLED');
    const history = await stack.temporal.workflow.getHandle(jobId).fetchHistory();
    const scheduled = scheduledActivity(history, 'detectFrames');
    const cancelRequested = history.events?.find((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED);
    assert.equal(cancelRequested?.activityTaskCancelRequestedEventAttributes?.scheduledEventId?.toString(), scheduled?.eventId?.toString());
    assert.deepEqual(activityNames(history), ['workerSettings (local)', 'beginAlarm (local)', 'detectFrames', 'failJob (local)']);
    const exported = await api(stack.baseUrl, `/api/v1/alarms/${jobId}/export`, { token });
    assert.notEqual(exported.status, 200, 'a cancelled job has no verdict to export');
  }

  test('the detection activity stops at its next frame once the cancellation reaches it', async () => {
    // The detection worker as production builds it (its heartbeat throttle included: heartbeat responses
    // are what carry a cancellation to an activity), in this process so the engine's outcome can be observed.
    const open = (model: 'yolox_nano_416_coco' | 'picodet_s_416_coco') =>
      createDetector({ modelsDir, model, device: { kind: 'cpu' }, intraOpThreads: 1 });
    const detectors: Detector[] = [await open('yolox_nano_416_coco'), await open('picodet_s_416_coco')];
    const engine = createDetectionEngine({ detector: detectors[0]!, cascade: detectors[1]! });
    const modelRuns: number[] = [];
    let outcome: unknown = 'still running';
    const observedEngine: DetectionEngine = {
      ...engine,
      async detectEvent(frames, beforeFrame) {
        try {
          const result = await engine.detectEvent(frames, (frameIndex) => {
            modelRuns.push(frameIndex);
            beforeFrame?.(frameIndex);
          });
          outcome = 'completed';
          return result;
        } catch (error) {
          outcome = error;
          throw error;
        }
      },
    };
    const classifier = await createClassifier({ modelsDir, device: { kind: 'cpu' }, intraOpThreads: 1 });
    const connection = await connectNative(stack.config);
    const worker = await createDetectionWorker({
      config: stack.config,
      connection,
      engine: observedEngine,
      detector: detectors[0]!,
      classifier,
      media: new FileSystemMediaStore(stack.config.mediaDir),
    });
    const running = worker.run();
    try {
      const jobId = await jobInDetection('cancel_cam_a');
      await stack.temporal.workflow.getHandle(jobId).cancel();
      await assertCancelledDuringDetection(jobId);
      await waitFor('the detection activity to end', () => outcome !== 'still running', 30_000);
      assert.ok(outcome instanceof CancelledFailure, `the activity ended with a cancellation, not ${String(outcome)}`);
      // Eight frames, twice (the cascade): it stopped well before the end.
      assert.ok(modelRuns.length < 16, `${modelRuns.length} model runs before it stopped`);
    } finally {
      worker.shutdown();
      await running;
      await connection.close();
      for (const detector of detectors) await detector.release();
      await classifier.release();
    }
  });

  test('the detection worker survives a cancelled job and takes the next one', async () => {
    const detectionWorker = await stack.startDetectionWorker();
    const jobId = await jobInDetection('cancel_cam_b');
    await stack.temporal.workflow.getHandle(jobId).cancel();
    await assertCancelledDuringDetection(jobId);

    assert.equal(detectionWorker.process.exitCode, null, 'the detection worker is still running');
    assert.equal(detectionWorker.process.signalCode, null, 'the detection worker was not killed');
    const next = await submitAlarm(stack.baseUrl, token, alarmForm(defaultFields({ zone_id: 'next_cam' }), await eventFrames('warehouse_worker_hardhat')));
    assert.equal(next.status, 202, JSON.stringify(next.body));
    const nextFinal = await waitForTerminal(stack.baseUrl, token, next.body.data.job_id, 90_000);
    assert.equal(nextFinal.status, 'finished', JSON.stringify(nextFinal));
  });
});
