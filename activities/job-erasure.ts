import type { Db } from '../db/database.js';
import { JobErasureRepository } from '../db/repositories/job-erasure.js';
import { jobMediaPrefix, type MediaStore } from '../media/store.js';

export interface JobErasureDeps {
  db: Db;
  media: MediaStore;
}

/**
 * Erases one job of an account: its rows in one transaction, and every file under its media prefix
 * (frames, and the detection images drawn from them). What `DELETE /api/v1/jobs/{job_id}` and the
 * retention sweep both call. Returns false when the account has no such job.
 */
export function eraseJob({ db, media }: JobErasureDeps, accountId: string, jobId: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const kind = await new JobErasureRepository(trx).erase(accountId, jobId);
    if (!kind) return false;
    // Before the commit: when the files cannot be removed the rows stay, and the next attempt finds the job again.
    await media.remove(jobMediaPrefix(kind, jobId));
    return true;
  });
}
