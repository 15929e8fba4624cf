import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure, type WorkflowHandle } from '@temporalio/client';
import type { WorkerJobSettings } from '../../workflows/contracts/job.js';
import {
  vmsCameraHeardSignal,
  vmsCameraStateQuery,
  vmsCameraWatchId,
  vmsIncidentCloseSignal,
  vmsIncidentStateQuery,
  vmsIncidentUpdatedSignal,
} from '../../workflows/contracts/vms-incident.js';
import { vmsCameraWatch, vmsIncident } from '../../workflows/index.js';
import { answers, type StubActivities } from '../support/stub-activities.js';
import { waitFor } from '../support/wait.js';
import { startWorkflowEnv, type WorkflowTestEnv } from '../support/workflow-env.js';

describe('VMS incident and camera-watch workflows (stub activities)', () => {
  let env: WorkflowTestEnv;
  let settings: WorkerJobSettings;
  let counter = 0;

  before(async () => {
    env = await startWorkflowEnv();
    settings = {
      detectTaskQueue: env.taskQueue,
      webhookDelivery: { maxAttempts: 2, initialIntervalSeconds: 0.1, maxIntervalSeconds: 0.2, timeoutSeconds: 5 },
    };
  });
  after(async () => env?.stop());

  /** An incident workflow started as the ingest starts it: signal-with-start with the update signal. */
  async function startIncident(reverifySeconds: number, stubOverrides: Parameters<WorkflowTestEnv['stubActivities']>[1] = {}) {
    const incidentId = `vms_incident_${String(++counter).padStart(24, '0')}`;
    const verifiedAt: number[] = [];
    const stubs = env.stubActivities(incidentId, {
      workerSettings: answers(settings),
      recordVmsVerification: async () => {
        verifiedAt.push(Date.now());
        return 'real';
      },
      ...stubOverrides,
    });
    const handle = await env.client.workflow.signalWithStart(vmsIncident, {
      workflowId: incidentId,
      taskQueue: env.taskQueue,
      args: [{ jobId: incidentId, accountId: 'acct', maxProcessingSeconds: 0, hasWebhook: true, reverifySeconds }],
      signal: vmsIncidentUpdatedSignal,
      signalArgs: [],
    });
    return { handle, stubs, verifiedAt };
  }

  const verifications = (stubs: StubActivities) => stubs.inputsOf('recordVmsVerification').length;

  test('an incident is verified at once, joined events wait out the re-verification interval together, and the close verifies what came and ends it', async () => {
    const { handle, stubs, verifiedAt } = await startIncident(2);
    await waitFor('the first verification', () => verifications(stubs) === 1);
    assert.equal(stubs.inputsOf('beginVmsIncident').length, 1);
    assert.equal(stubs.inputsOf('detectFrames').length, 1, 'detection on the incident\'s snapshots');
    assert.equal(stubs.inputsOf('analyseFrames')[0]!.sensitivity, 2, 'every filter');
    await waitFor('the verdict webhook', () => stubs.inputsOf('attemptWebhookDelivery').length === 1);

    // Three events join: one verification covers them, no sooner than the interval after the first.
    for (let i = 0; i < 3; i++) await handle.signal(vmsIncidentUpdatedSignal);
    await waitFor('the second verification', () => verifications(stubs) === 2, 15_000);
    assert.ok(verifiedAt[1]! - verifiedAt[0]! >= 1900, `verified again after ${verifiedAt[1]! - verifiedAt[0]!} ms`);
    assert.equal((await handle.query(vmsIncidentStateQuery)).verifications, 2);

    // An event, then the end-of-event message before the interval is up: verified at once, then closed.
    await handle.signal(vmsIncidentUpdatedSignal);
    await handle.signal(vmsIncidentCloseSignal);
    const outcome = await handle.result();
    assert.equal(outcome.verdict, 'real');
    assert.equal(verifications(stubs), 3);
    assert.ok(verifiedAt[2]! - verifiedAt[1]! < 1900, 'the close did not wait for the interval');
    assert.equal(stubs.inputsOf('closeVmsIncident').length, 1);
    assert.equal(stubs.inputsOf('prepareVmsIncidentDelivery').length, 3, 'one vms_incident.verified per verdict');
    assert.deepEqual(stubs.inputsOf('prepareJobDelivery').map((d) => d.jobId), [handle.workflowId], 'then the job envelope\'s vms_incident.finished');
  });

  test('an event without a new snapshot is not verified again; an incident closed with none is closed unverified', async () => {
    const { handle, stubs } = await startIncident(0.2, {
      vmsIncidentWindow: answers({ cameraId: 'camera-1', frames: [], window: [], totalFrames: 0, fresh: false }),
    });
    await waitFor('the window read', () => stubs.inputsOf('vmsIncidentWindow').length === 1);
    await handle.signal(vmsIncidentCloseSignal);
    const outcome = await handle.result();
    assert.deepEqual([outcome.verdict, outcome.verifications], ['unverified', 0]);
    assert.equal(stubs.inputsOf('detectFrames').length, 0);
    assert.equal(stubs.inputsOf('closeVmsIncident').length, 1);
  });

  test('a signal for an incident that is closed or was never stored ends without doing anything', async () => {
    const { handle, stubs } = await startIncident(1, { beginVmsIncident: answers('missing' as const) });
    assert.equal((await handle.result()).verdict, 'missing');
    assert.equal(stubs.inputsOf('vmsIncidentWindow').length, 0);
    assert.equal(stubs.inputsOf('closeVmsIncident').length, 0);
  });

  test('a failed verification is recorded on the incident, which stays open for the next event', async () => {
    let calls = 0;
    const { handle, stubs } = await startIncident(0.1, {
      detectFrames: async ({ frames }) => {
        if (++calls === 1) throw ApplicationFailure.nonRetryable('undecodable snapshot', 'INVALID_IMAGE');
        return frames.map((f) => ({ frameIndex: f.index, width: 10, height: 10, detections: [] }));
      },
    });
    await waitFor('the failure recorded', () => stubs.inputsOf('recordVmsVerificationFailure').length === 1);
    assert.deepEqual(stubs.inputsOf('recordVmsVerificationFailure').map((f) => f.message), ['INVALID_IMAGE: undecodable snapshot']);
    assert.equal(verifications(stubs), 0);
    await handle.signal(vmsIncidentUpdatedSignal);
    await waitFor('a verification', () => verifications(stubs) >= 1, 30_000);
    assert.equal(stubs.inputsOf('recordVmsVerificationFailure').length, 1, 'recorded once');
    await handle.signal(vmsIncidentCloseSignal);
    await handle.result();
  });

  test('a close verifies the snapshots no signal announced', async () => {
    const { handle, stubs } = await startIncident(0.1);
    // Its first verification done to the end (the forward is its last step), so the close comes after it.
    await waitFor('the first verification', () => stubs.inputsOf('prepareVmsForward').length === 1);
    // The signal of the last snapshots is still owed (its API died after the commit): the close reads the window anyway.
    await handle.signal(vmsIncidentCloseSignal);
    const outcome = await handle.result();
    assert.deepEqual([outcome.verdict, outcome.verifications], ['real', 2]);
    assert.equal(stubs.inputsOf('vmsIncidentWindow').length, 2);
  });

  test('snapshots announced while a verification runs are verified before the close ends the incident', async () => {
    let release = () => {};
    const verifying = new Promise<void>((resolve) => (release = resolve));
    let recorded = 0;
    const { handle, stubs } = await startIncident(60, {
      recordVmsVerification: async () => {
        if (++recorded === 1) await verifying;
        return 'real';
      },
    });
    await waitFor('the first verification running', () => recorded === 1);
    await handle.signal(vmsIncidentUpdatedSignal);
    await handle.signal(vmsIncidentCloseSignal);
    release();
    const outcome = await handle.result();
    assert.deepEqual([outcome.verdict, outcome.verifications], ['real', 2], 'the close did not wait out the 60 s interval, nor skip them');
    assert.equal(stubs.inputsOf('closeVmsIncident').length, 1);
  });

  test('a camera watch reads last-seen when its timer fires: heard meanwhile it waits the rest, silent it goes offline once; a signal brings it online once', async () => {
    const cameraId = `camera-${++counter}`;
    const workflowId = vmsCameraWatchId(cameraId);
    const statuses: string[] = [];
    const checkedAt: number[] = [];
    // Each time the timer fires: how long the camera has been silent by its last-seen (then: just heard).
    const silences = [600, 1000];
    const stubs = env.stubActivities(workflowId, {
      workerSettings: answers(settings),
      markVmsCameraOfflineIfSilent: async ({ offlineAfterSeconds }) => {
        checkedAt.push(Date.now());
        const silentMs = silences.shift() ?? 0;
        return { marked: silentMs >= offlineAfterSeconds * 1000, silentMs };
      },
      setVmsCameraStatus: async ({ status }) => {
        statuses.push(status);
        return true;
      },
    });
    const start = () =>
      env.client.workflow.signalWithStart(vmsCameraWatch, {
        workflowId,
        taskQueue: env.taskQueue,
        args: [{ accountId: 'acct', cameraId, offlineAfterSeconds: 1 }],
        signal: vmsCameraHeardSignal,
        signalArgs: [],
      });
    const handle: WorkflowHandle<typeof vmsCameraWatch> = await start();
    await waitFor('offline', () => stubs.inputsOf('prepareVmsCameraDelivery').length === 1, 10_000);
    assert.equal(checkedAt.length, 2, 'heard 600 ms before the first check, silent at the second');
    assert.ok(checkedAt[1]! - checkedAt[0]! >= 350, `checked again after ${checkedAt[1]! - checkedAt[0]!} ms, the rest of the second`);
    assert.equal((await handle.query(vmsCameraStateQuery)).online, false);
    assert.deepEqual(statuses, [], 'the check recorded offline itself');

    await start();
    await start();
    await waitFor('online', () => statuses.length === 1, 10_000);
    assert.deepEqual(statuses, ['online']);
    assert.deepEqual(stubs.inputsOf('prepareVmsCameraDelivery').map((d) => d.status), ['offline', 'online']);
    await waitFor('both webhooks', () => stubs.inputsOf('attemptWebhookDelivery').length === 2, 10_000);
    await handle.terminate('test over');
  });
});
