import type { Context } from 'koa';
import type { AccountRepository, AuthenticatedToken } from '../../db/repositories/accounts.js';
import type { JobRepository } from '../../db/repositories/jobs.js';
import type { Job } from '../../db/schema.js';
import { authenticateRequest } from '../auth.js';
import { notFound } from '../errors.js';
import { parseInput } from '../validate.js';
import { jobIdParams } from './schema.js';

/** The job named by the path, for an authenticated request; another account's job is a 404, like one that does not exist. */
export async function ownedJob(ctx: Context, accounts: AccountRepository, jobs: JobRepository): Promise<{ auth: AuthenticatedToken; job: Job }> {
  const auth = await authenticateRequest(accounts, ctx);
  const { job_id } = parseInput(jobIdParams, ctx.params);
  const job = await jobs.get(auth.accountId, job_id);
  if (!job) throw notFound('Job');
  return { auth, job };
}
