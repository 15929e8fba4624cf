import type { Db } from '../db/database.js';
import { JobErasureRepository } from '../db/repositories/job-erasure.js';
import type { Logger } from '../logging/logger.js';
import type { MediaStore } from '../media/store.js';
import { eraseEndedJob } from '../commands/erase-job.js';

export interface RetentionActivityDeps {
  db: Db;
  media: MediaStore;
  logger: Logger;
}

export interface ExpiredJobsBatch {
  retentionDays: number;
  limit: number;
}

export function createRetentionActivities({ db, media, logger }: RetentionActivityDeps) {
  const erasure = new JobErasureRepository(db);

  return {
    /**
     * Erases up to `limit` jobs that ended more than `retentionDays` ago, one at a time. Returns how many
     * were found: fewer than `limit` means none is left. A retry starts over from what is still there.
     */
    async eraseExpiredJobs({ retentionDays, limit }: ExpiredJobsBatch): Promise<number> {
      const expired = await erasure.endedBefore(retentionDays, limit);
      for (const { accountId, jobId } of expired) {
        // False only when a DELETE erased it in the meantime.
        if (await eraseEndedJob({ db, media }, accountId, jobId)) logger.info({ jobId, accountId, retentionDays }, 'expired job erased');
      }
      return expired.length;
    },
  };
}

export type RetentionActivities = ReturnType<typeof createRetentionActivities>;
