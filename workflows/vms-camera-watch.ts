import { allHandlersFinished, condition, continueAsNew, patched, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import type { WorkerJobSettings } from './contracts/job.js';
import { vmsCameraHeardSignal, vmsCameraStateQuery, type VmsCameraWatchCarry, type VmsCameraWatchInput } from './contracts/vms-incident.js';
import { lifecycleSteps, vmsSteps } from './short-steps.js';
import { sendDelivery } from './webhook-delivery.js';

/** Signals one run takes before it continues as new (a camera heard every few seconds would grow its history without end). */
const signalsPerRun = 500;

/**
 * One VMS camera's health: silence for `offlineAfterSeconds` makes it offline (one `camera.offline` webhook) and
 * the next message online again (one `camera.online`). A durable timer, not a loop polling the database: when it
 * fires, the camera's last-seen (which every message updates) says whether it was silent all along, or how much
 * longer to wait. Messages signal the watch only to start it and while the camera is offline; a signal while it
 * is online restarts the timer.
 */
export async function vmsCameraWatch(input: VmsCameraWatchInput, carried?: VmsCameraWatchCarry): Promise<void> {
  const offlineAfterMs = input.offlineAfterSeconds * 1000;
  let heard = false;
  let signals = 0;
  let online = carried?.online ?? true;
  let transitions = 0;
  let waitMs = offlineAfterMs;
  setHandler(vmsCameraHeardSignal, () => {
    heard = true;
    signals++;
  });
  setHandler(vmsCameraStateQuery, () => ({ online, transitions }));
  const settings = carried?.settings ?? (await lifecycleSteps.workerSettings());

  for (;;) {
    if (online) {
      heard = false;
      if (await condition(() => heard, waitMs)) {
        waitMs = offlineAfterMs;
      } else if (patched('vms-camera-last-seen')) {
        const scope = { accountId: input.accountId, cameraId: input.cameraId };
        const silence = await vmsSteps.markVmsCameraOfflineIfSilent({ ...scope, offlineAfterSeconds: input.offlineAfterSeconds });
        if (silence && !silence.marked && silence.silentMs < offlineAfterMs) {
          // Heard meanwhile: wait out the rest of the silence from the last message.
          waitMs = Math.ceil(offlineAfterMs - Math.max(0, silence.silentMs));
        } else {
          online = false;
          transitions++;
          waitMs = offlineAfterMs;
          if (silence?.marked) await deliver(input, 'offline', settings);
        }
      } else {
        online = false;
        transitions++;
        await announce(input, 'offline', settings);
      }
    } else {
      await condition(() => heard);
      online = true;
      transitions++;
      await announce(input, 'online', settings);
    }
    if (signals >= signalsPerRun || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof vmsCameraWatch>(input, { online, settings });
    }
  }
}

/** Records the camera's new status and, when it changed, sends its webhook. */
async function announce(input: VmsCameraWatchInput, status: 'online' | 'offline', settings: WorkerJobSettings): Promise<void> {
  if (!(await vmsSteps.setVmsCameraStatus({ accountId: input.accountId, cameraId: input.cameraId, status }))) return;
  await deliver(input, status, settings);
}

/** Sends the webhook of a status the camera just took. */
async function deliver(input: VmsCameraWatchInput, status: 'online' | 'offline', settings: WorkerJobSettings): Promise<void> {
  const deliveryId = uuid4();
  if (!(await vmsSteps.prepareVmsCameraDelivery({ accountId: input.accountId, cameraId: input.cameraId, deliveryId, status, sequence: Date.now() }))) return;
  await sendDelivery({ accountId: input.accountId, deliveryId }, settings.webhookDelivery);
}
