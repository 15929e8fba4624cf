import { allHandlersFinished, condition, continueAsNew, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import type { WorkerJobSettings } from './contracts/job.js';
import { vmsCameraHeardSignal, vmsCameraStateQuery, type VmsCameraWatchCarry, type VmsCameraWatchInput } from './contracts/vms-incident.js';
import { lifecycleSteps, vmsSteps } from './short-steps.js';
import { sendDelivery } from './webhook-delivery.js';

/** Signals one run takes before it continues as new (a camera heard every few seconds would grow its history without end). */
const signalsPerRun = 500;

/**
 * One VMS camera's health: every message from it signals this workflow; silence for `offlineAfterSeconds` makes
 * it offline (one `camera.offline` webhook) and the next message online again (one `camera.online`). A durable
 * timer reset by signals, not a loop polling the database.
 */
export async function vmsCameraWatch(input: VmsCameraWatchInput, carried?: VmsCameraWatchCarry): Promise<void> {
  let heard = false;
  let signals = 0;
  let online = carried?.online ?? true;
  let transitions = 0;
  setHandler(vmsCameraHeardSignal, () => {
    heard = true;
    signals++;
  });
  setHandler(vmsCameraStateQuery, () => ({ online, transitions }));
  const settings = carried?.settings ?? (await lifecycleSteps.workerSettings());

  for (;;) {
    if (online) {
      heard = false;
      if (!(await condition(() => heard, input.offlineAfterSeconds * 1000))) {
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
  const scope = { accountId: input.accountId, cameraId: input.cameraId };
  if (!(await vmsSteps.setVmsCameraStatus({ ...scope, status }))) return;
  const deliveryId = uuid4();
  if (!(await vmsSteps.prepareVmsCameraDelivery({ ...scope, deliveryId, status, sequence: Date.now() }))) return;
  await sendDelivery({ accountId: input.accountId, deliveryId }, settings.webhookDelivery);
}
