import type { Client } from '@temporalio/client';
import { VigilStage } from '../../temporal/search-attributes.js';

/** How long a status request waits for the workflow's live stage before falling back to the stored one. */
const deadlineMs = 1500;
/** How long one answer stands for every status request about the same job. */
const stageMaxAgeMs = 200;

/**
 * The live stage of running jobs: the `VigilStage` search attribute each stage sets (workflows/job-lifecycle.ts), as
 * Temporal describes the workflow, at most once per job every 200 ms. A description is read from the server's own
 * record of the workflow; the `progress` query it replaces was a task on the analysis worker too, and a client
 * polling its running alarms cost the stack, per alarm, CPU that the alarms being verified needed (BENCHMARKS,
 * "Detection cut by a fifth": the load's status polls). A job's status and end come from its row, never from here, so an ended job is seen at once.
 */
export function liveStageReader(temporal: Client): (jobId: string) => Promise<string | undefined> {
  return recentAnswers(async (jobId) => {
    try {
      const description = await temporal.withDeadline(Date.now() + deadlineMs, () => temporal.workflow.getHandle(jobId).describe());
      return description.typedSearchAttributes.get(VigilStage);
    } catch {
      return undefined;
    }
  }, stageMaxAgeMs);
}

/**
 * `ask`, with each key's answer shared by every call from when it is asked until `maxAgeMs` after it came:
 * calls while it is under way wait for the same answer. Only keys asked about lately are kept.
 */
export function recentAnswers<T>(ask: (key: string) => Promise<T>, maxAgeMs: number, now: () => number = Date.now): (key: string) => Promise<T> {
  const answers = new Map<string, { answer: Promise<T>; expiresAt: number }>();
  return (key) => {
    const at = now();
    const known = answers.get(key);
    if (known && known.expiresAt > at) return known.answer;
    for (const [other, entry] of answers) if (entry.expiresAt <= at) answers.delete(other);
    const entry = { answer: ask(key), expiresAt: Number.POSITIVE_INFINITY };
    answers.set(key, entry);
    const expire = () => (entry.expiresAt = now() + maxAgeMs);
    entry.answer.then(expire, expire);
    return entry.answer;
  };
}
