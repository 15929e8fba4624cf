import { sql, type InferResult } from 'kysely';
import type { Box } from '../../domain/types.js';
import type { Db } from '../database.js';
import type { AlarmRequest, AlarmServerResult, MediaType } from '../schema.js';
import { accountCameras, cameraIdOf, type CameraRef } from './tenancy.js';

/**
 * Detections as the detections API sees them: what was seen, kept for the decision or set aside as parked
 * (a detection a filter found not to be believed is evidence for the decision, not a detection), always
 * scoped by account, newest first.
 */

export interface DetectionFilters {
  camera?: CameraRef;
  /** An object type (`car`) or a category (`vehicle`). */
  objectType?: string;
  from?: Date;
  to?: Date;
  minConfidence?: number;
}

/** Where the previous page ended, in the list order (detected_at desc, id desc). */
export interface DetectionPosition {
  detectedAt: Date;
  id: number;
}

export interface StoredFrameRef {
  mediaKey: string;
  format: string;
  width: number;
  height: number;
}

export interface DetectionRecord {
  /** The id the API shows. */
  id: number;
  /** The row's key: the images drawn for the detection are stored under it. */
  rowId: string;
  jobId: string | null;
  frameIndex: number;
  category: string;
  objectType: string;
  score: number;
  box: Box;
  detectedAt: Date;
  mediaType: MediaType;
  filePath: string | null;
  fileType: string | null;
  labels: string[];
  /** A vehicle set aside as parked: seen, not counted by its alarm's decision. */
  parked: boolean;
  /** Null for a detection of an uploaded video: no camera behind it. */
  camera: CameraRef | null;
  /** The alarm frame it was found in; null for detections created through the API. */
  frame: StoredFrameRef | null;
  /** The video it was found in, for detections of uploaded videos. */
  video: { durationS: number | null; codec: string | null; width: number | null; height: number | null } | null;
}

export interface RankedDetection extends DetectionRecord {
  relevance: number;
}

export interface DetectionStats {
  total: number;
  averageConfidence: number | null;
  byObjectType: { objectType: string; count: number }[];
  /** Per UTC day, oldest first. */
  daily: { dayStart: Date; count: number }[];
}

/** What the alarm behind a detection knows, for enrichment. */
export interface DetectionEvent {
  jobId: string;
  request: AlarmRequest;
  result: AlarmServerResult | null;
  vendorTime: string | null;
  siteTimezone: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  frameCount: number;
  framesWithPerson: number;
}

export interface NewApiDetection {
  cameraId: string;
  objectType: string;
  category: string;
  score: number;
  box: Box;
  detectedAt: Date;
  mediaType: MediaType;
  filePath: string | null;
  fileType: string | null;
  labels: string[];
}

export interface DetectionPatch {
  objectType?: { label: string; category: string };
  score?: number;
  bboxX?: number;
  bboxY?: number;
  bboxWidth?: number;
  bboxHeight?: number;
}

export interface DetectionKey {
  id: number;
  rowId: string;
  jobId: string | null;
}

/** The same predicate as the partial indexes of the served rows (migration 20261202T1527), so they are used. */
const served = sql<boolean>`(d.kept OR d.parked)`;
const servedRow = sql<boolean>`(kept OR parked)`;

/** Served detections of one account: kept, or parked. */
function visibleDetections(db: Db, accountId: string) {
  return db.selectFrom('detections as d').where('d.account_id', '=', accountId).where(served);
}
type VisibleQuery = ReturnType<typeof visibleDetections>;

export class DetectionRepository {
  constructor(private readonly db: Db) {}

  async list(
    accountId: string,
    filters: DetectionFilters,
    page: { limit: number; after?: DetectionPosition; offset?: number },
  ): Promise<{ items: DetectionRecord[]; hasMore: boolean; total: number }> {
    let query = withColumns(this.visible(accountId, filters));
    if (page.after) {
      const { detectedAt, id } = page.after;
      query = query.where(({ eb, refTuple, tuple }) => eb(refTuple('d.detected_at', 'd.public_id'), '<', tuple(detectedAt, id)));
    }
    const [rows, total] = await Promise.all([
      query
        .orderBy('d.detected_at', 'desc')
        .orderBy('d.public_id', 'desc')
        .offset(page.offset ?? 0)
        .limit(page.limit + 1)
        .execute(),
      count(this.visible(accountId, filters)),
    ]);
    return { items: rows.slice(0, page.limit).map(toRecord), hasMore: rows.length > page.limit, total };
  }

  /** Full text over object type, camera and site names and the event's text; `labels` must all be present. */
  async search(
    accountId: string,
    text: string,
    filters: DetectionFilters & { labels?: string[] },
    page: { limit: number; offset: number },
  ): Promise<{ items: RankedDetection[]; total: number }> {
    const query = sql`websearch_to_tsquery('english', ${text})`;
    const matching = (q: VisibleQuery) => {
      let narrowed = q.where(sql<boolean>`d.search @@ ${query}`);
      if (filters.labels?.length) narrowed = narrowed.where(sql<boolean>`d.labels @> ${sql.val(filters.labels)}::text[]`);
      return narrowed;
    };
    const [rows, total] = await Promise.all([
      withColumns(matching(this.visible(accountId, filters)))
        .select(sql<number>`ts_rank(d.search, ${query})`.as('relevance'))
        .orderBy('relevance', 'desc')
        .orderBy('d.detected_at', 'desc')
        .orderBy('d.public_id', 'desc')
        .offset(page.offset)
        .limit(page.limit)
        .execute(),
      count(matching(this.visible(accountId, filters))),
    ]);
    return { items: rows.map((row) => ({ ...toRecord(row), relevance: row.relevance })), total };
  }

  async stats(accountId: string, filters: DetectionFilters): Promise<DetectionStats> {
    const base = this.visible(accountId, filters);
    const [summary, byObjectType, daily] = await Promise.all([
      base
        .select((eb) => [eb.fn.countAll<number>().as('total'), eb.fn.avg<number | null>('d.score').as('average')])
        .executeTakeFirstOrThrow(),
      base
        .select((eb) => ['d.label', eb.fn.countAll<number>().as('n')])
        .groupBy('d.label')
        .orderBy('n', 'desc')
        .orderBy('d.label')
        .execute(),
      base
        .select((eb) => [sql<Date>`date_trunc('day', d.detected_at, 'UTC')`.as('day'), eb.fn.countAll<number>().as('n')])
        .groupBy('day')
        .orderBy('day')
        .execute(),
    ]);
    return {
      total: Number(summary.total),
      averageConfidence: summary.average === null ? null : Number(summary.average),
      byObjectType: byObjectType.map((r) => ({ objectType: r.label, count: Number(r.n) })),
      daily: daily.map((r) => ({ dayStart: r.day, count: Number(r.n) })),
    };
  }

  async labelCounts(accountId: string): Promise<{ label: string; count: number }[]> {
    const labels = visibleDetections(this.db, accountId).select(sql<string>`unnest(d.labels)`.as('label')).as('l');
    const counted = await this.db
      .selectFrom(labels)
      .select((eb) => ['l.label', eb.fn.countAll<number>().as('n')])
      .groupBy('l.label')
      .orderBy('n', 'desc')
      .orderBy('l.label')
      .execute();
    return counted.map((r) => ({ label: r.label, count: Number(r.n) }));
  }

  async get(accountId: string, id: number): Promise<DetectionRecord | undefined> {
    const row = await withColumns(this.visible(accountId, {})).where('d.public_id', '=', id).executeTakeFirst();
    return row && toRecord(row);
  }

  async events(accountId: string, jobIds: string[]): Promise<Map<string, DetectionEvent>> {
    if (jobIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('jobs as j')
      .select((eb) => [
        'j.id',
        'j.request',
        'j.result',
        'j.vendor_time',
        'j.site_timezone',
        'j.started_at',
        'j.finished_at',
        eb.selectFrom('frames').select((sub) => sub.fn.countAll<number>().as('n')).whereRef('frames.job_id', '=', 'j.id').as('frame_count'),
        eb
          .selectFrom('detections')
          .select(sql<number>`count(DISTINCT frame_index)`.as('n'))
          .whereRef('detections.job_id', '=', 'j.id')
          .where('detections.kept', '=', true)
          .where('detections.category', '=', 'person')
          .as('person_frames'),
      ])
      .where('j.account_id', '=', accountId)
      .where('j.id', 'in', [...new Set(jobIds)])
      // Detections with an event are alarms' (their frames); other kinds keep theirs elsewhere.
      .where('j.kind', '=', 'alarm')
      .execute();
    return new Map(
      rows.map((r) => [
        r.id,
        {
          jobId: r.id,
          request: r.request as AlarmRequest,
          result: r.result as AlarmServerResult | null,
          vendorTime: r.vendor_time,
          siteTimezone: r.site_timezone,
          startedAt: r.started_at,
          finishedAt: r.finished_at,
          frameCount: Number(r.frame_count ?? 0),
          framesWithPerson: Number(r.person_frames ?? 0),
        },
      ]),
    );
  }

  /** The account's cameras among `refs`, with their database ids; refs of no camera of the account are left out. */
  async findCameras(accountId: string, refs: CameraRef[]): Promise<{ ref: CameraRef; id: string }[]> {
    if (refs.length === 0) return [];
    const rows = await accountCameras(this.db, accountId)
      .select(['cameras.id', 'user_groups.external_id as group_ref', 'sites.external_id as site_ref', 'cameras.external_id as zone_ref'])
      .where(({ eb, refTuple, tuple }) =>
        eb(
          refTuple('user_groups.external_id', 'sites.external_id', 'cameras.external_id'),
          'in',
          refs.map((ref) => tuple(ref.groupId, ref.siteId, ref.zoneId)),
        ),
      )
      .execute();
    return rows.map((r) => ({ ref: { groupId: r.group_ref, siteId: r.site_ref, zoneId: r.zone_ref }, id: r.id }));
  }

  /** Inserts every detection in one statement, all or none; returns their ids in the order given. */
  async createMany(accountId: string, detections: NewApiDetection[]): Promise<number[]> {
    if (detections.length === 0) return [];
    const rows = detections.map((detection) => {
      const [x1, y1, x2, y2] = detection.box;
      return {
        account_id: accountId,
        camera_id: detection.cameraId,
        // A single image is its own frame 0.
        frame_index: 0,
        category: detection.category,
        label: detection.objectType,
        score: detection.score,
        x1,
        y1,
        x2,
        y2,
        kept: true,
        detected_at: detection.detectedAt,
        media_type: detection.mediaType,
        file_path: detection.filePath,
        file_type: detection.fileType,
        labels: detection.labels,
      };
    });
    // PostgreSQL numbers a multi-row VALUES in its order; sorting the returned ids keeps that order regardless of RETURNING's.
    const inserted = await this.db.insertInto('detections').values(rows).returning('public_id').execute();
    return inserted.map((row) => row.public_id).sort((a, b) => a - b);
  }

  /** Applies the given fields; a box field left out keeps its value (a moved box keeps its size). */
  async update(accountId: string, id: number, patch: DetectionPatch): Promise<DetectionKey | undefined> {
    const x1 = patch.bboxX ?? sql<number>`x1`;
    const y1 = patch.bboxY ?? sql<number>`y1`;
    const row = await this.db
      .updateTable('detections')
      .set({
        ...(patch.objectType ? { label: patch.objectType.label, category: patch.objectType.category } : {}),
        ...(patch.score !== undefined ? { score: patch.score } : {}),
        x1,
        y1,
        x2: sql<number>`${x1} + ${patch.bboxWidth ?? sql`x2 - x1`}`,
        y2: sql<number>`${y1} + ${patch.bboxHeight ?? sql`y2 - y1`}`,
      })
      .where('account_id', '=', accountId)
      .where('public_id', '=', id)
      .where(servedRow)
      .returning(['public_id', 'id', 'job_id'])
      .executeTakeFirst();
    return row && { id: row.public_id, rowId: row.id, jobId: row.job_id };
  }

  async delete(accountId: string, ids: number[]): Promise<DetectionKey[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .deleteFrom('detections')
      .where('account_id', '=', accountId)
      .where('public_id', 'in', ids)
      .where(servedRow)
      .returning(['public_id', 'id', 'job_id'])
      .execute();
    return rows.map((r) => ({ id: r.public_id, rowId: r.id, jobId: r.job_id }));
  }

  private visible(accountId: string, filters: DetectionFilters): VisibleQuery {
    let query = visibleDetections(this.db, accountId);
    const { camera, objectType, from, to, minConfidence } = filters;
    if (camera) {
      query = query.where('d.camera_id', '=', cameraIdOf(this.db, accountId, camera));
    }
    if (objectType) query = query.where((eb) => eb.or([eb('d.label', '=', objectType), eb('d.category', '=', objectType)]));
    if (from) query = query.where('d.detected_at', '>=', from);
    if (to) query = query.where('d.detected_at', '<=', to);
    if (minConfidence !== undefined) query = query.where('d.score', '>=', minConfidence);
    return query;
  }
}

async function count(query: VisibleQuery): Promise<number> {
  const row = await query.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Joins what a detection is presented with: its camera, site and group (none for a video's), its frame (alarm
 * detections only) and its video's job (video detections only, for the picture size).
 */
function withColumns(query: VisibleQuery) {
  return query
    .leftJoin('cameras as c', 'c.id', 'd.camera_id')
    .leftJoin('sites as s', 's.id', 'c.site_id')
    .leftJoin('user_groups as g', 'g.id', 's.group_id')
    .leftJoin('frames as f', 'f.id', 'd.frame_id')
    .leftJoin('jobs as j', (join) => join.onRef('j.id', '=', 'd.job_id').onRef('j.account_id', '=', 'd.account_id').on('d.media_type', '=', 'video'))
    .select([
      'd.public_id',
      'd.id',
      'd.job_id',
      'd.frame_index',
      'd.category',
      'd.label',
      'd.score',
      'd.x1',
      'd.y1',
      'd.x2',
      'd.y2',
      'd.detected_at',
      'd.media_type',
      'd.labels',
      'd.parked',
      sql<string | null>`coalesce(d.file_path, f.media_key)`.as('file_path'),
      sql<string | null>`coalesce(d.file_type, 'image/' || f.format)`.as('file_type'),
      'f.media_key',
      'f.format',
      'f.width',
      'f.height',
      'g.external_id as group_ref',
      's.external_id as site_ref',
      'c.external_id as zone_ref',
      'd.video_duration_s',
      'd.video_codec',
      sql<number | null>`(j.request->>'width')::int`.as('video_width'),
      sql<number | null>`(j.request->>'height')::int`.as('video_height'),
    ]);
}

type JoinedRow = InferResult<ReturnType<typeof withColumns>>[number];

function toRecord(row: JoinedRow): DetectionRecord {
  return {
    id: row.public_id,
    rowId: row.id,
    jobId: row.job_id,
    frameIndex: row.frame_index,
    category: row.category,
    objectType: row.label,
    score: row.score,
    box: [row.x1, row.y1, row.x2, row.y2],
    detectedAt: row.detected_at,
    mediaType: row.media_type,
    filePath: row.file_path,
    fileType: row.file_type,
    labels: row.labels,
    parked: row.parked,
    camera: row.group_ref !== null && row.site_ref !== null && row.zone_ref !== null ? { groupId: row.group_ref, siteId: row.site_ref, zoneId: row.zone_ref } : null,
    frame:
      row.media_key !== null && row.format !== null && row.width !== null && row.height !== null
        ? { mediaKey: row.media_key, format: row.format, width: row.width, height: row.height }
        : null,
    video: row.media_type === 'video' ? { durationS: row.video_duration_s, codec: row.video_codec, width: row.video_width, height: row.video_height } : null,
  };
}
