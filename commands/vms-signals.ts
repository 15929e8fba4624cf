import type { Client } from '@temporalio/client';
import type { Db } from '../db/database.js';
import { VmsRepository, type OwedSignal } from '../db/repositories/vms.js';
import type { Logger } from '../logging/logger.js';
import { VigilAccount, VigilJobKind, VigilStage } from '../temporal/search-attributes.js';
import { vmsCameraHeardSignal, vmsCameraWatchId, vmsIncidentCloseSignal, vmsIncidentUpdatedSignal } from '../workflows/contracts/vms-incident.js';
import { vmsCameraWatch, vmsIncident } from '../workflows/index.js';

/** What telling the VMS workflows needs. */
export interface VmsSignalDeps {
  db: Db;
  temporal: Client;
  logger: Logger;
  analysisTaskQueue: string;
  vms: { reverifySeconds: number; offlineAfterSeconds: number };
}

export interface SignalledAccount {
  accountId: string;
  accountName: string;
}

/** How often the API sends again the signals it owes, and how old an owed signal must be to be sent again. */
const owedSignalSweepSeconds = 30;
/** Signals sent again per account and sweep; the rest wait for the next sweep. */
const sweepBatch = 500;

/**
 * Sends signals that committed events owe (`vms_owed_signals`) and forgets those Temporal took. A signal that
 * does not get through stays owed for the sweep; sending one twice is harmless (an incident told twice of new
 * snapshots reads its window once, a close closes once, a camera heard twice is online once). An incident's
 * updates go before its close, so the close verifies what they announced. Never throws.
 */
export async function sendOwedSignals(deps: VmsSignalDeps, account: SignalledAccount, owed: OwedSignal[]): Promise<void> {
  const byKey = new Map<string, OwedSignal[]>();
  for (const signal of owed) {
    const key = `${signal.signal}:${signal.subjectId}`;
    byKey.set(key, [...(byKey.get(key) ?? []), signal]);
  }
  const groups = [...byKey.values()];
  const sent: number[] = [];
  for (const batch of [groups.filter(([first]) => first!.signal !== 'vmsIncidentClose'), groups.filter(([first]) => first!.signal === 'vmsIncidentClose')]) {
    await Promise.all(
      batch.map(async (group) => {
        const { subjectId, signal } = group[0]!;
        try {
          await signalWorkflow(deps, account, group[0]!);
          sent.push(...group.map((s) => s.id));
        } catch (error) {
          deps.logger.warn({ err: error, accountId: account.accountId, subjectId, signal }, 'vms signal not sent; the sweep sends it again');
        }
      }),
    );
  }
  try {
    await new VmsRepository(deps.db).forgetOwedSignals(sent);
  } catch (error) {
    // Still owed: the sweep sends them again, which is harmless.
    deps.logger.warn({ err: error }, 'vms signals sent but not forgotten');
  }
}

/**
 * The sweep: sends again every signal owed for `owedSignalSweepSeconds` or more, those an API killed between its
 * commit and its signal left behind (any account). Returns how many it found.
 */
export async function resendOwedSignals(deps: VmsSignalDeps): Promise<number> {
  const stale = await new VmsRepository(deps.db).staleOwedSignals(owedSignalSweepSeconds, sweepBatch);
  const byAccount = new Map<string, { account: SignalledAccount; owed: OwedSignal[] }>();
  for (const row of stale) {
    const entry = byAccount.get(row.account_id) ?? { account: { accountId: row.account_id, accountName: row.account_name }, owed: [] };
    entry.owed.push({ id: row.id, subjectId: row.subject_id, signal: row.signal });
    byAccount.set(row.account_id, entry);
  }
  for (const { account, owed } of byAccount.values()) await sendOwedSignals(deps, account, owed);
  if (stale.length > 0) deps.logger.info({ signals: stale.length }, 'owed vms signals sent again');
  return stale.length;
}

/** Runs the sweep every `owedSignalSweepSeconds` (a run at a time) until the returned stop is called. */
export function startOwedSignalSweep(deps: VmsSignalDeps): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(() => resendOwedSignals(deps)).catch((error: unknown) => deps.logger.warn({ err: error }, 'owed vms signal sweep failed'));
  }, owedSignalSweepSeconds * 1000);
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/** Signal-with-start: the workflow is started when it is not running (a new incident or camera, or one that ended). */
async function signalWorkflow(deps: VmsSignalDeps, account: SignalledAccount, owed: OwedSignal): Promise<void> {
  if (owed.signal === 'vmsCameraHeard') {
    await deps.temporal.workflow.signalWithStart(vmsCameraWatch, {
      workflowId: vmsCameraWatchId(owed.subjectId),
      taskQueue: deps.analysisTaskQueue,
      args: [{ accountId: account.accountId, cameraId: owed.subjectId, offlineAfterSeconds: deps.vms.offlineAfterSeconds }],
      signal: vmsCameraHeardSignal,
      signalArgs: [],
      typedSearchAttributes: [{ key: VigilAccount, value: account.accountName }],
    });
    return;
  }
  await deps.temporal.workflow.signalWithStart(vmsIncident, {
    workflowId: owed.subjectId,
    taskQueue: deps.analysisTaskQueue,
    args: [{ jobId: owed.subjectId, accountId: account.accountId, maxProcessingSeconds: 0, hasWebhook: true, reverifySeconds: deps.vms.reverifySeconds }],
    signal: owed.signal === 'vmsIncidentClose' ? vmsIncidentCloseSignal : vmsIncidentUpdatedSignal,
    signalArgs: [],
    typedSearchAttributes: [
      { key: VigilJobKind, value: 'vms_incident' },
      { key: VigilAccount, value: account.accountName },
      { key: VigilStage, value: 'queued' },
    ],
  });
}
