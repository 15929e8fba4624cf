import type { Context } from 'koa';
import { z } from 'zod';
import type { AccountRepository, AuthenticatedToken } from '../db/repositories/accounts.js';
import type { JobRepository, JobStatusRow } from '../db/repositories/jobs.js';
import type { DocumentedJobKind, Job, TypedJob } from '../db/schema.js';
import { authenticateRequest, authenticateWith, presentedToken } from './auth.js';
import { notFound } from './errors.js';
import { parseInput } from './validate.js';

export const jobIdParams = z.object({ job_id: z.string().min(1).max(300) });

/**
 * The job named by the path, for an authenticated request; another account's job is a 404, like one that does
 * not exist. With `kind`, a job of another kind is a 404 too: each family's routes see only their own jobs.
 */
export async function ownedJob(ctx: Context, accounts: AccountRepository, jobs: JobRepository): Promise<{ auth: AuthenticatedToken; job: Job }>;
export async function ownedJob<K extends DocumentedJobKind>(
  ctx: Context,
  accounts: AccountRepository,
  jobs: JobRepository,
  kind: K,
): Promise<{ auth: AuthenticatedToken; job: TypedJob<K> }>;
export async function ownedJob(ctx: Context, accounts: AccountRepository, jobs: JobRepository, kind?: DocumentedJobKind) {
  const auth = await authenticateRequest(accounts, ctx);
  const { job_id } = parseInput(jobIdParams, ctx.params);
  const job = kind ? await jobs.getOfKind(auth.accountId, job_id, kind) : await jobs.get(auth.accountId, job_id);
  if (!job) throw notFound('Job');
  return { auth, job };
}

/**
 * What a status answer shows of the job named by the path, for an authenticated request, checked and answered as
 * `ownedJob` does (401, then 400, then 404) in one query (JobRepository.statusForToken).
 */
export async function ownedJobStatus(ctx: Context, jobs: JobRepository, kind: DocumentedJobKind): Promise<JobStatusRow> {
  // The id is checked after the query that authenticates: a request without a valid token is a 401 whatever its path.
  const { job } = await authenticateWith(presentedToken(ctx, ctx.query.token), (hash) => jobs.statusForToken(hash, String(ctx.params.job_id), kind));
  parseInput(jobIdParams, ctx.params);
  if (!job) throw notFound('Job');
  return job;
}
