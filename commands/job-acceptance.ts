import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { SearchAttributePair, Workflow } from '@temporalio/common';
import type { Db } from '../db/database.js';
import { IdempotencyKeyRepository } from '../db/repositories/idempotency-keys.js';
import type { JobKind, JobStatus } from '../domain/job-kinds.js';
import type { MediaStore } from '../media/store.js';
import type { Logger } from '../logging/logger.js';
import { VigilAccount, VigilJobKind, VigilStage } from '../temporal/search-attributes.js';

/** What accepting a job of any kind needs; nothing of HTTP, nothing of the workers' settings. */
export interface AcceptanceDeps {
  db: Db;
  media: MediaStore;
  temporal: Client;
  logger: Logger;
  analysisTaskQueue: string;
}

/** What a submitter may be answered instead of a new job: the job an earlier submission of the same request made. */
export interface ExistingJob {
  jobId: string;
  status: JobStatus;
}

/** A submission refused for a reason its sender can act on. `code` is stable; each command adds its own. */
export interface Refusal<Code extends string = string> {
  code: Code;
  message: string;
  field?: string;
  retryAfterSeconds?: number;
}

export type AcceptanceResult<Code extends string> =
  | { outcome: 'accepted'; jobId: string }
  | { outcome: 'existing'; existing: ExistingJob }
  | { outcome: 'refused'; refusal: Refusal<Code> };

export const idempotencyKeyReused = (): Refusal<'IDEMPOTENCY_KEY_REUSED'> => ({
  code: 'IDEMPOTENCY_KEY_REUSED',
  message: 'This Idempotency-Key was used with a different request in the last 24 hours; send a new key.',
  field: 'Idempotency-Key',
});

/** Inside the acceptance transaction: media written and the workflow started, both taken back if it rolls back. */
export interface Acceptance {
  trx: Db;
  /** Stores `bytes` as `name` under the job's media prefix; returns its key. */
  putJobMedia(prefix: string, name: string, bytes: Uint8Array): Promise<string>;
  /** Starts the job's workflow (id = job id) with the lifecycle's search attributes and the kind's own. */
  startJobWorkflow<W extends Workflow>(
    workflow: W,
    job: { jobId: string; kind: JobKind; accountName: string; input: Parameters<W>[0]; searchAttributes?: SearchAttributePair[] },
  ): Promise<void>;
  /** `existing` when a live claim of the key names a job for the same request; a refusal when for another. */
  checkIdempotencyKey(accountId: string, key: string | undefined, requestHash: string): Promise<ExistingJob | Refusal<'IDEMPOTENCY_KEY_REUSED'> | undefined>;
  claimIdempotencyKey(accountId: string, key: string | undefined, requestHash: string, jobId: string): Promise<void>;
}

/** Thrown inside the transaction to roll it back and answer with `result`. */
class RolledBack<R> extends Error {
  constructor(readonly result: R) {
    super('submission rolled back');
  }
}

/**
 * Accepts a job all or nothing: `accept` writes rows, media and starts the workflow in one transaction that
 * commits only after the workflow has started, so an accepted job always has a workflow behind it. When it
 * throws, or answers through `refuse`, every row is rolled back, every file removed and the workflow ended.
 */
export async function acceptJob<R>(
  deps: AcceptanceDeps,
  accept: (acceptance: Acceptance, refuse: (result: R) => never) => Promise<R>,
): Promise<R> {
  const writtenPrefixes = new Set<string>();
  let startedWorkflowId: string | undefined;
  try {
    return await deps.db.transaction().execute(async (trx) => {
      const acceptance: Acceptance = {
        trx,
        async putJobMedia(prefix, name, bytes) {
          writtenPrefixes.add(prefix);
          const key = `${prefix}/${name}`;
          await deps.media.put(key, bytes);
          return key;
        },
        async startJobWorkflow(workflow, { jobId, kind, accountName, input, searchAttributes = [] }) {
          // A job workflow takes its input first; the rest (pinned settings) stay for the worker to fill.
          await deps.temporal.workflow.start(workflow as Workflow, {
            workflowId: jobId,
            taskQueue: deps.analysisTaskQueue,
            workflowIdConflictPolicy: 'FAIL',
            args: [input],
            typedSearchAttributes: [
              { key: VigilJobKind, value: kind },
              { key: VigilAccount, value: accountName },
              ...searchAttributes,
              { key: VigilStage, value: 'queued' },
            ],
          });
          startedWorkflowId = jobId;
        },
        async checkIdempotencyKey(accountId, key, requestHash) {
          if (key === undefined) return undefined;
          const found = await new IdempotencyKeyRepository(trx).lookUp(accountId, key, requestHash);
          if (!found.found) return undefined;
          if (!found.sameRequest || !('jobId' in found.claimed)) return idempotencyKeyReused();
          return { jobId: found.claimed.jobId, status: found.claimed.status };
        },
        async claimIdempotencyKey(accountId, key, requestHash, jobId) {
          if (key !== undefined) await new IdempotencyKeyRepository(trx).claim(accountId, key, requestHash, { jobId });
        },
      };
      return accept(acceptance, (result) => {
        throw new RolledBack(result);
      });
    });
  } catch (error) {
    await undoAcceptance(deps, startedWorkflowId, [...writtenPrefixes]);
    if (error instanceof RolledBack) return error.result as R;
    throw error;
  }
}

/** Takes back what a failed acceptance left: its files and, if the commit failed after the start, its workflow. */
async function undoAcceptance(deps: AcceptanceDeps, workflowId: string | undefined, mediaPrefixes: string[]): Promise<void> {
  if (workflowId) {
    await deps.temporal.workflow
      .getHandle(workflowId)
      .terminate('submission was not committed')
      .catch((error: unknown) => deps.logger.error({ err: error, workflowId }, 'could not terminate the workflow of a failed submission'));
  }
  // The store may be what failed: the submission's own error is the answer, and what stays behind is logged.
  await Promise.all(
    mediaPrefixes.map((prefix) =>
      deps.media.remove(prefix).catch((error: unknown) => deps.logger.error({ err: error, prefix }, 'could not remove the media of a failed submission')),
    ),
  );
}

/** sha256 over a submission's fields and content, to tell a retried request from a different one under the same key. */
export function requestHash(fields: unknown, contents: Uint8Array[] = []): string {
  const hash = createHash('sha256').update(JSON.stringify(fields));
  for (const content of contents) hash.update(createHash('sha256').update(content).digest());
  return hash.digest('hex');
}
