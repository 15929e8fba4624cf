import { sql } from 'kysely';
import { endedJobStatuses } from '../../domain/job-kinds.js';
import type { FrameDetections } from '../../domain/types.js';
import type { Db } from '../database.js';
import { activeTokenQuery, type AuthenticatedToken } from './accounts.js';
import type { AlarmServerResult, DocumentedJobKind, Frame, Job, JobDocuments, JobError, NewFrame, TypedJob } from '../schema.js';

export interface NewJob<K extends DocumentedJobKind> {
  id: string;
  kind: K;
  accountId: string;
  /** For kinds raised by a camera, with the sender's event id (unique per camera). */
  cameraId?: string;
  vendorEventId?: string;
  request: JobDocuments[K]['request'];
}

/** What a job's status answer shows of it: no request or result documents. */
export type JobStatusRow = Pick<Job, 'id' | 'status' | 'stage' | 'created_at' | 'finished_at' | 'error'>;

/** An alarm job with the names of its group, site and camera, as its export shows them. */
export interface JobWithNames extends TypedJob<'alarm'> {
  group_name: string;
  site_name: string;
  camera_name: string;
  site_category: string;
}

export interface StoredDetection {
  frameIndex: number;
  category: string;
  label: string;
  score: number;
  box: [number, number, number, number];
  kept: boolean;
  filteredBy: string | null;
  /** Set aside by a relevance filter (a parked vehicle): not counted by the decision, still reported as seen. */
  parked: boolean;
}

/** A stored detection as its `detections` row, in the frame and camera it was found in. */
export function detectionRow(d: StoredDetection, where: { accountId: string; jobId: string; frameId: string; cameraId: string }) {
  return {
    account_id: where.accountId,
    job_id: where.jobId,
    frame_id: where.frameId,
    camera_id: where.cameraId,
    frame_index: d.frameIndex,
    category: d.category,
    label: d.label,
    score: d.score,
    x1: d.box[0],
    y1: d.box[1],
    x2: d.box[2],
    y2: d.box[3],
    kept: d.kept,
    filtered_by: d.filteredBy,
    parked: d.parked,
  };
}

export class JobRepository {
  constructor(private readonly db: Db) {}

  async findByVendorEvent(accountId: string, cameraId: string, vendorEventId: string): Promise<Job | undefined> {
    return this.db
      .selectFrom('jobs')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('camera_id', '=', cameraId)
      .where('vendor_event_id', '=', vendorEventId)
      .executeTakeFirst();
  }

  /**
   * Inserts a job and its frames. Call inside the submission's transaction: the advisory lock it takes
   * is held until that transaction ends, so `markRunning` waits for the commit instead of missing the row.
   */
  async insert<K extends DocumentedJobKind>(job: NewJob<K>, frames: Omit<NewFrame, 'job_id' | 'account_id'>[]): Promise<void> {
    await sql`select pg_advisory_xact_lock(hashtext(${job.id}))`.execute(this.db);
    await this.db
      .insertInto('jobs')
      .values({
        id: job.id,
        kind: job.kind,
        account_id: job.accountId,
        camera_id: job.cameraId ?? null,
        status: 'queued',
        stage: 'queued',
        vendor_event_id: job.vendorEventId ?? null,
        request: JSON.stringify(job.request),
      })
      .execute();
    if (frames.length === 0) return;
    await this.db
      .insertInto('frames')
      .values(frames.map((frame) => ({ ...frame, job_id: job.id, account_id: job.accountId })))
      .execute();
  }

  async get(accountId: string, jobId: string): Promise<Job | undefined> {
    return this.db
      .selectFrom('jobs')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('id', '=', jobId)
      .executeTakeFirst();
  }

  /**
   * For a status request, in one query: the active token whose hash is `tokenHash` (undefined when there is none) and
   * its account's job `jobId` if it is of `kind` (`job` undefined otherwise), without its documents. A running job is
   * polled many times a second under load: one round trip and a few columns instead of two queries and the job's JSON.
   */
  async statusForToken(tokenHash: string, jobId: string, kind: DocumentedJobKind): Promise<{ auth: AuthenticatedToken; job: JobStatusRow | undefined } | undefined> {
    const row = await activeTokenQuery(this.db, tokenHash)
      .leftJoin('jobs', (join) => join.onRef('jobs.account_id', '=', 'accounts.id').on('jobs.id', '=', jobId).on('jobs.kind', '=', kind))
      .select(['jobs.id', 'jobs.status', 'jobs.stage', 'jobs.created_at', 'jobs.finished_at', 'jobs.error'])
      .executeTakeFirst();
    if (!row) return undefined;
    const { tokenId, accountId, accountName, role, ...job } = row;
    // The left join's columns are all null or, a job matched, as its row has them.
    return { auth: { tokenId, accountId, accountName, role }, job: job.id === null ? undefined : (job as JobStatusRow) };
  }

  /** The account's job if it is of `kind`, typed with that kind's documents; undefined otherwise. */
  async getOfKind<K extends DocumentedJobKind>(accountId: string, jobId: string, kind: K): Promise<TypedJob<K> | undefined> {
    const job = await this.get(accountId, jobId);
    return job?.kind === kind ? (job as TypedJob<K>) : undefined;
  }

  async getWithNames(accountId: string, jobId: string): Promise<JobWithNames | undefined> {
    return this.db
      .selectFrom('jobs')
      .innerJoin('cameras', 'cameras.id', 'jobs.camera_id')
      .innerJoin('sites', 'sites.id', 'cameras.site_id')
      .innerJoin('user_groups', 'user_groups.id', 'sites.group_id')
      .selectAll('jobs')
      .select([
        'user_groups.name as group_name',
        'sites.name as site_name',
        'cameras.name as camera_name',
        'sites.category as site_category',
      ])
      .where('jobs.account_id', '=', accountId)
      .where('jobs.id', '=', jobId)
      .where('jobs.kind', '=', 'alarm')
      .executeTakeFirst() as Promise<JobWithNames | undefined>;
  }

  async frames(accountId: string, jobId: string): Promise<Frame[]> {
    return this.db
      .selectFrom('frames')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('job_id', '=', jobId)
      .orderBy('frame_index')
      .execute();
  }

  /** What the job saw: the detections kept for the decision and those set aside as parked. */
  async seenDetections(accountId: string, jobId: string): Promise<StoredDetection[]> {
    const rows = await this.db
      .selectFrom('detections')
      .select(['frame_index', 'category', 'label', 'score', 'x1', 'y1', 'x2', 'y2', 'kept', 'filtered_by', 'parked'])
      .where('account_id', '=', accountId)
      .where('job_id', '=', jobId)
      .where((eb) => eb.or([eb('kept', '=', true), eb('parked', '=', true)]))
      .orderBy('frame_index')
      .orderBy('score', 'desc')
      .execute();
    return rows.map((r) => ({
      frameIndex: r.frame_index,
      category: r.category,
      label: r.label,
      score: r.score,
      box: [r.x1, r.y1, r.x2, r.y2],
      kept: r.kept,
      filteredBy: r.filtered_by,
      parked: r.parked,
    }));
  }

  /**
   * The vehicles of the camera's last finished job created before `jobId`, per frame with the frame's
   * size: those kept, and those removed only by one of `stillCountedFilters` (a parked vehicle is still
   * there). Empty when the camera has no earlier finished job.
   */
  async previousEventVehicles(
    accountId: string,
    cameraId: string,
    jobId: string,
    stillCountedFilters: readonly string[],
  ): Promise<FrameDetections[]> {
    const previous = await this.db
      .selectFrom('jobs')
      .select('id')
      .where('account_id', '=', accountId)
      .where('camera_id', '=', cameraId)
      .where('status', '=', 'finished')
      .where('id', '<>', jobId)
      .where('created_at', '<', (eb) =>
        eb.selectFrom('jobs').select('created_at').where('account_id', '=', accountId).where('id', '=', jobId),
      )
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!previous) return [];
    const rows = await this.db
      .selectFrom('detections')
      .innerJoin('frames', 'frames.id', 'detections.frame_id')
      .select(['detections.frame_index', 'frames.width', 'frames.height', 'detections.label', 'detections.score'])
      .select(['detections.x1', 'detections.y1', 'detections.x2', 'detections.y2'])
      .where('detections.account_id', '=', accountId)
      .where('frames.account_id', '=', accountId)
      .where('detections.job_id', '=', previous.id)
      .where('detections.category', '=', 'vehicle')
      .where((eb) =>
        stillCountedFilters.length > 0
          ? eb.or([eb('detections.kept', '=', true), eb('detections.filtered_by', 'in', stillCountedFilters)])
          : eb('detections.kept', '=', true),
      )
      .orderBy('detections.frame_index')
      .execute();
    const frames = new Map<number, FrameDetections>();
    for (const row of rows) {
      let frame = frames.get(row.frame_index);
      if (!frame) {
        frame = { frameIndex: row.frame_index, width: row.width, height: row.height, detections: [] };
        frames.set(row.frame_index, frame);
      }
      frame.detections.push({ category: 'vehicle', label: row.label, score: row.score, box: [row.x1, row.y1, row.x2, row.y2] });
    }
    return [...frames.values()];
  }

  /**
   * Moves a queued job to running (a no-op for one already running, as on an activity retry), its row showing
   * `stage` from now on (a kind whose steps keep the stage current names its first).
   * Returns undefined when the job does not exist: its submission was rolled back.
   */
  async markRunning(accountId: string, jobId: string, stage = 'running'): Promise<Job | undefined> {
    return this.db.transaction().execute(async (trx) => {
      // Waits while the submitting transaction is still open (see `insert`).
      await sql`select pg_advisory_xact_lock_shared(hashtext(${jobId}))`.execute(trx);
      return trx
        .updateTable('jobs')
        .set({ status: 'running', stage, started_at: sql`coalesce(started_at, now())` })
        .where('account_id', '=', accountId)
        .where('id', '=', jobId)
        .where('status', 'in', ['queued', 'running'])
        .returningAll()
        .executeTakeFirst();
    });
  }

  /** The alarm's site time, and the stage it enters next (`stage`, shown by its status). */
  async setSiteTime(accountId: string, jobId: string, { vendorTime, siteTimezone, stage }: { vendorTime: string; siteTimezone: string | null; stage: string }): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ vendor_time: vendorTime, site_timezone: siteTimezone, stage })
      .where('account_id', '=', accountId)
      .where('id', '=', jobId)
      .execute();
  }

  /**
   * Stores the verdict, the per-frame motion and every detection in one transaction.
   * Detections are replaced, not appended, so a retried activity cannot duplicate them.
   */
  async finish(
    accountId: string,
    jobId: string,
    outcome: { result: AlarmServerResult; activityDiffs: number[]; detections: StoredDetection[] },
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const job = await trx
        .selectFrom('jobs')
        .select(['camera_id', 'status'])
        .where('account_id', '=', accountId)
        .where('id', '=', jobId)
        .forUpdate()
        .executeTakeFirstOrThrow();
      if ((endedJobStatuses as readonly string[]).includes(job.status)) return;
      const cameraId = job.camera_id;
      if (cameraId === null && outcome.detections.length > 0) throw new Error(`job ${jobId} has detections but no camera`);
      const frames = await trx
        .selectFrom('frames')
        .select(['id', 'frame_index'])
        .where('job_id', '=', jobId)
        .execute();
      const frameIdByIndex = new Map(frames.map((f) => [f.frame_index, f.id]));
      if (outcome.activityDiffs.length > 0) {
        // diffs[i] compares frame i with frame i + 1 and is stored on the later frame: as PostgreSQL
        // arrays count from 1, frame f takes element f.
        await trx
          .updateTable('frames')
          .set({ activity_diff: sql<number>`(${outcome.activityDiffs}::real[])[frame_index]` })
          .where('job_id', '=', jobId)
          .where('frame_index', '>=', 1)
          .where('frame_index', '<=', outcome.activityDiffs.length)
          .execute();
      }
      await trx.deleteFrom('detections').where('job_id', '=', jobId).execute();
      // The result first: the detections' insert trigger reads the job's labels and description from it,
      // where setting it after the insert would rewrite every detection row once more.
      await trx
        .updateTable('jobs')
        .set({ status: 'finished', stage: 'finished', result: JSON.stringify(outcome.result), finished_at: sql`now()` })
        .where('id', '=', jobId)
        .execute();
      if (outcome.detections.length > 0) {
        // The event's labels and its part of the search document, built once for all its rows; each row adds its
        // object type (as the indexing trigger would, which then leaves these rows alone).
        await trx
          .with('event_labels', (db) => db.selectNoFrom(sql<string[]>`detection_event_labels(${jobId})`.as('labels')))
          .with('event', (db) =>
            db.selectFrom('event_labels').select(['labels', sql<string>`detection_event_document(${cameraId}::uuid, ${jobId}, labels)`.as('document')]),
          )
          .insertInto('detections')
          .values(
            outcome.detections.map((d) => {
              const frameId = frameIdByIndex.get(d.frameIndex);
              if (!frameId) throw new Error(`job ${jobId} has no frame ${d.frameIndex}`);
              return {
                ...detectionRow(d, { accountId, jobId, frameId, cameraId: cameraId! }),
                labels: sql<string[]>`(SELECT labels FROM event)`,
                search: sql<string>`setweight(to_tsvector('english', ${`${d.category} ${d.label}`}), 'A') || (SELECT document FROM event)`,
              };
            }),
          )
          .execute();
      }
    });
  }

  /** The stage a running job's status shows; a job that has ended keeps its own. */
  async setStage(accountId: string, jobId: string, stage: string): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ stage })
      .where('account_id', '=', accountId)
      .where('id', '=', jobId)
      .where('status', '=', 'running')
      .execute();
  }

  /** Ends a job that has not ended yet; returns false when it had already ended. */
  async fail(accountId: string, jobId: string, error: JobError, status: 'failed' | 'cancelled' = 'failed'): Promise<boolean> {
    const result = await this.db
      .updateTable('jobs')
      .set({ status, stage: status, error: JSON.stringify(error), finished_at: sql`now()` })
      .where('account_id', '=', accountId)
      .where('id', '=', jobId)
      .where('status', 'not in', endedJobStatuses)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
