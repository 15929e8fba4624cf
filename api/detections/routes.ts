import { createHash } from 'node:crypto';
import { Router } from '@koa/router';
import type { Context, Next } from 'koa';
import type { AccountRepository } from '../../db/repositories/accounts.js';
import type { Db } from '../../db/database.js';
import {
  DetectionRepository,
  type DetectionEvent,
  type DetectionFilters,
  type DetectionRecord,
  type StoredFrameRef,
} from '../../db/repositories/detections.js';
import { RateLimitRepository, type RateLimit } from '../../db/repositories/rate-limits.js';
import { createDetections, type DetectionItem } from '../../commands/create-detections.js';
import { categoryOfObjectType } from '../../domain/object-types.js';
import type { DetectionCategory } from '../../domain/types.js';
import { renderDetectionOverlay, renderDetectionThumbnail } from '../../media/detection-image.js';
import { jobMediaPrefix, type MediaStore } from '../../media/store.js';
import { extractJpeg } from '../../media/video/frames.js';
import { ensureBrowserCopy, playableInBrowsers } from '../../media/video/transcode.js';
import { VideoRepository } from '../../db/repositories/videos.js';
import type { Logger } from '../../logging/logger.js';
import { authenticate, authenticateRequest, presentedToken } from '../auth.js';
import { ApiError, notFound } from '../errors.js';
import { idempotencyKeyOf, refusalError } from '../job-options.js';
import { jsonBody } from '../json-body.js';
import { bufferMedia, sendMedia, storedMedia, type ServableMedia } from '../media-response.js';
import { enforceRateLimit } from '../rate-limit.js';
import { firstIssue, parseInput } from '../validate.js';
import { encodeCursor } from './cursor.js';
import { enrichmentDocument } from './enrichment.js';
import { visualEnrichment, type VisualModels } from './visual-enrichment.js';
import { pickFields } from './fields.js';
import { presentBulkResults, presentCreatedItem, presentDetection, presentSearchResult, presentStats, type BulkItemResult } from './presenter.js';
import {
  bulkCreateItem,
  bulkDeleteBody,
  bulkDeleteItem,
  bulkDetectionsBody,
  bulkUpdateItem,
  detectionParams,
  imageQuery,
  listQuery,
  searchQuery,
  statsQuery,
} from './schema.js';

export interface DetectionRouteDeps {
  db: Db;
  accounts: AccountRepository;
  media: MediaStore;
  logger: Logger;
  rateLimits: { media: RateLimit; bulk: RateLimit };
  /** Faces and plates for enrichment; without them those stay null. */
  visual?: VisualModels;
}

/** Private: every response depends on the token. An hour, as the detections API asks of images. */
const mediaCacheControl = 'private, max-age=3600';
/** Bump when the drawing changes, so cached thumbnails and overlays are drawn again. */
const renderingVersion = 'v1';

const offsetDeprecation = 'offset is deprecated: pass pagination.next_cursor as ?cursor= to get the next page.';

export function detectionRoutes(deps: DetectionRouteDeps): Router {
  const router = new Router({ prefix: '/api/detections' });
  const detections = new DetectionRepository(deps.db);
  const limits = new RateLimitRepository(deps.db);
  const videos = new VideoRepository(deps.db);

  const eventsOf = async (accountId: string, records: DetectionRecord[]) =>
    detections.events(accountId, records.flatMap((d) => (d.jobId ? [d.jobId] : [])));
  const eventOf = (events: Map<string, DetectionEvent>, detection: DetectionRecord) =>
    detection.jobId ? events.get(detection.jobId) : undefined;

  /** The detection named by the path, of the given account; another account's is a 404, like one that does not exist. */
  const ownedDetection = async (ctx: Context, accountId: string) => {
    const { detection_id } = parseInput(detectionParams, ctx.params);
    const detection = await detections.get(accountId, detection_id);
    if (!detection) throw notFound('Detection');
    return detection;
  };

  /** A media request: authenticated, counted against the token's media limit, for a detection of its account. */
  const mediaDetection = async (ctx: Context) => {
    const auth = await authenticateRequest(deps.accounts, ctx);
    await enforceRateLimit(limits, 'media', deps.rateLimits.media, auth.tokenId);
    return ownedDetection(ctx, auth.accountId);
  };

  /** Bulk routes: the token from the Authorization header, then the bulk limit, and only then the body. */
  const bulkRequest = async (ctx: Context, next: Next) => {
    ctx.state.auth = await authenticate(deps.accounts, presentedToken(ctx, undefined));
    await enforceRateLimit(limits, 'bulk', deps.rateLimits.bulk, ctx.state.auth.tokenId);
    await next();
  };

  router.get('/', async (ctx) => {
    const auth = await authenticateRequest(deps.accounts, ctx);
    const query = parseInput(listQuery, ctx.query);
    const page = await detections.list(auth.accountId, filtersOf(query), { limit: query.limit, after: query.cursor, offset: query.offset });
    const events = !query.fields || query.fields.includes('enrichment_data') ? await eventsOf(auth.accountId, page.items) : new Map();
    const last = page.items.at(-1);
    ctx.body = {
      items: page.items.map((d) => pickFields(presentDetection(d, eventOf(events, d)), query.fields)),
      pagination: {
        total: page.total,
        limit: query.limit,
        offset: query.offset ?? 0,
        next_cursor: page.hasMore && last ? encodeCursor({ detectedAt: last.detectedAt, id: last.id }) : null,
        has_more: page.hasMore,
      },
      deprecation_warning: query.offset === undefined ? null : offsetDeprecation,
    };
  });

  router.get('/stats', async (ctx) => {
    const auth = await authenticateRequest(deps.accounts, ctx);
    const query = parseInput(statsQuery, ctx.query);
    ctx.body = presentStats(await detections.stats(auth.accountId, { camera: query.camera_id }));
  });

  router.get('/search', async (ctx) => {
    const auth = await authenticateRequest(deps.accounts, ctx);
    const query = parseInput(searchQuery, ctx.query);
    const found = await detections.search(auth.accountId, query.q, { ...filtersOf(query), labels: query.labels }, query);
    const events = await eventsOf(auth.accountId, found.items);
    ctx.body = {
      results: found.items.map((d) => presentSearchResult(d, eventOf(events, d))),
      total_count: found.total,
      limit: query.limit,
      offset: query.offset,
    };
  });

  router.get('/labels', async (ctx) => {
    const auth = await authenticateRequest(deps.accounts, ctx);
    ctx.body = { labels: await detections.labelCounts(auth.accountId) };
  });

  router.post('/bulk', bulkRequest, jsonBody(), async (ctx) => {
    const { detections: items } = parseInput(bulkDetectionsBody, ctx.request.body);
    const result = await createDetections(deps.db, {
      accountId: ctx.state.auth.accountId,
      items: items.map(detectionItemOf),
      idempotencyKey: idempotencyKeyOf(ctx),
    });
    if (result.outcome === 'refused') throw refusalError(result.refusal);
    ctx.status = 207;
    ctx.body = presentBulkResults(result.items.map(presentCreatedItem));
  });

  router.patch('/bulk', bulkRequest, jsonBody(), async (ctx) => {
    const { accountId } = ctx.state.auth;
    const { detections: items } = parseInput(bulkDetectionsBody, ctx.request.body);
    const firstIndexOf = new Map<number, number>();
    const results: BulkItemResult[] = [];
    for (const [index, raw] of items.entries()) {
      const item = bulkUpdateItem.safeParse(raw, { reportInput: true });
      if (!item.success) {
        results.push({ index, status: 'failed', id: null, error: firstIssue(item.error, 'item').message });
        continue;
      }
      const { id, object_type } = item.data;
      const earlier = firstIndexOf.get(id);
      if (earlier !== undefined) {
        results.push({ index, status: 'skipped', id, error: `Detection ${id} is already updated by item ${earlier}.` });
        continue;
      }
      firstIndexOf.set(id, index);
      const updated = await detections.update(accountId, id, {
        objectType: object_type ? { label: object_type, category: categoryOfObjectType(object_type)! } : undefined,
        score: item.data.confidence,
        bboxX: item.data.bbox_x,
        bboxY: item.data.bbox_y,
        bboxWidth: item.data.bbox_width,
        bboxHeight: item.data.bbox_height,
      });
      if (!updated) {
        results.push({ index, status: 'failed', id, error: `Detection not found: ${id}` });
        continue;
      }
      await forgetRenderedImages(updated);
      results.push({ index, status: 'success', id, error: null });
    }
    ctx.status = 207;
    ctx.body = presentBulkResults(results);
  });

  /** Deletion is permanent: the rows go, and so do the thumbnails and overlays drawn for them. */
  router.delete('/bulk', bulkRequest, jsonBody(), async (ctx) => {
    const { accountId } = ctx.state.auth;
    const { detection_ids: items } = parseInput(bulkDeleteBody, ctx.request.body);
    const firstIndexOf = new Map<number, number>();
    const outcomes = items.map((raw, index): BulkItemResult | { index: number; id: number } => {
      const id = bulkDeleteItem.safeParse(raw, { reportInput: true });
      if (!id.success) return { index, status: 'failed', id: null, error: firstIssue(id.error, 'item').message };
      const earlier = firstIndexOf.get(id.data);
      if (earlier !== undefined) return { index, status: 'skipped', id: id.data, error: `Detection ${id.data} is already deleted by item ${earlier}.` };
      firstIndexOf.set(id.data, index);
      return { index, id: id.data };
    });
    const deleted = await detections.delete(accountId, [...firstIndexOf.keys()]);
    await Promise.all(deleted.map(forgetRenderedImages));
    const deletedIds = new Set(deleted.map((d) => d.id));
    ctx.status = 207;
    ctx.body = presentBulkResults(
      outcomes.map((outcome): BulkItemResult => {
        if ('status' in outcome) return outcome;
        return deletedIds.has(outcome.id)
          ? { index: outcome.index, status: 'success', id: outcome.id, error: null }
          : { index: outcome.index, status: 'failed', id: outcome.id, error: `Detection not found: ${outcome.id}` };
      }),
    );
  });

  router.get('/:detection_id', async (ctx) => {
    const auth = await authenticateRequest(deps.accounts, ctx);
    const detection = await ownedDetection(ctx, auth.accountId);
    const events = await eventsOf(auth.accountId, [detection]);
    ctx.body = presentDetection(detection, eventOf(events, detection));
  });

  router.get('/:detection_id/enrichment', async (ctx) => {
    const auth = await authenticateRequest(deps.accounts, ctx);
    const detection = await ownedDetection(ctx, auth.accountId);
    const events = await eventsOf(auth.accountId, [detection]);
    const visual = deps.visual ? await visualEnrichment(detection, deps.media, deps.visual) : undefined;
    ctx.body = enrichmentDocument(detection, eventOf(events, detection), visual);
  });

  router.get('/:detection_id/thumbnail', async (ctx) => {
    const detection = await mediaDetection(ctx);
    sendMedia(ctx, await renderedImage(detection, 'thumbnail'), { cacheControl: mediaCacheControl });
  });

  router.get('/:detection_id/image', async (ctx) => {
    const detection = await mediaDetection(ctx);
    const { full } = parseInput(imageQuery, ctx.query);
    if (!full) {
      sendMedia(ctx, await renderedImage(detection, 'image'), { cacheControl: mediaCacheControl });
      return;
    }
    const frame = storedFrameOf(detection);
    const original = await storedMedia(deps.media, frame.mediaKey, `image/${frame.format}`);
    if (!original) throw notFound('Image');
    sendMedia(ctx, original, { cacheControl: mediaCacheControl });
  });

  router.get('/:detection_id/video', async (ctx) => {
    const found = await videoDetection(ctx);
    const key = playableInBrowsers(found) ? found.mediaKey : `${jobMediaPrefix('video', found.jobId)}/browser.mp4`;
    if (key !== found.mediaKey) {
      await ensureBrowserCopy(deps.media, found.mediaKey, key).catch((error: unknown) => {
        deps.logger.error({ err: error, jobId: found.jobId }, 'the video could not be transcoded for browsers');
        throw new ApiError(500, 'MEDIA_GENERATION_FAILED', 'The video could not be prepared for playback.');
      });
    }
    const video = await storedMedia(deps.media, key, 'video/mp4');
    if (!video) throw notFound('Video');
    sendMedia(ctx, video, { cacheControl: mediaCacheControl });
  });

  router.get('/:detection_id/video/thumbnail', async (ctx) => {
    const found = await videoDetection(ctx);
    const key = `${jobMediaPrefix('video', found.jobId)}/detections/${found.detectionId}.jpg`;
    if (!(await deps.media.stat(key))) {
      const jpeg = await deps.media.withLocalFile(found.mediaKey, (file) => extractJpeg(file, found.timestampS, 640));
      await deps.media.put(key, jpeg);
    }
    const thumbnail = await storedMedia(deps.media, key, 'image/jpeg');
    if (!thumbnail) throw notFound('Thumbnail');
    sendMedia(ctx, thumbnail, { cacheControl: mediaCacheControl });
  });

  /** The video behind a detection of a video: authenticated and counted as a media request; 400 NOT_A_VIDEO for an image's. */
  async function videoDetection(ctx: Context) {
    const auth = await authenticateRequest(deps.accounts, ctx);
    await enforceRateLimit(limits, 'media', deps.rateLimits.media, auth.tokenId);
    const { detection_id } = parseInput(detectionParams, ctx.params);
    const found = await videos.detectionMedia(auth.accountId, detection_id);
    if (found) return { ...found, detectionId: detection_id };
    await ownedDetection(ctx, auth.accountId);
    throw new ApiError(400, 'NOT_A_VIDEO', 'This detection was found in an image, not a video.');
  }

  /**
   * The detection's frame with its box drawn (`image`) or a crop around it (`thumbnail`): drawn on
   * the first request, then served from the media store. The key holds a fingerprint of what is
   * drawn, so an edited detection is never served a stale picture.
   */
  async function renderedImage(detection: DetectionRecord, kind: 'image' | 'thumbnail'): Promise<ServableMedia> {
    const frame = storedFrameOf(detection);
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([renderingVersion, kind, detection.box, detection.category, detection.score]))
      .digest('hex')
      .slice(0, 20);
    const key = `${renderedImagesPrefix(detection.jobId!, detection.rowId)}/${kind}-${fingerprint}.jpg`;
    const etag = `"${fingerprint}"`;
    const cached = await storedMedia(deps.media, key, 'image/jpeg', etag);
    if (cached) return cached;
    if (!(await deps.media.stat(frame.mediaKey))) throw notFound('Image');
    const drawn = { category: detection.category as DetectionCategory, box: detection.box, score: detection.score };
    let bytes: Buffer;
    try {
      const frameBytes = await deps.media.get(frame.mediaKey);
      bytes = kind === 'thumbnail' ? await renderDetectionThumbnail(frameBytes, drawn) : await renderDetectionOverlay(frameBytes, drawn);
    } catch (error) {
      deps.logger.error({ err: error, detectionId: detection.id, kind }, 'drawing a detection image failed');
      throw new ApiError(500, 'MEDIA_GENERATION_FAILED', `The ${kind} of this detection could not be drawn.`);
    }
    await deps.media.put(key, bytes);
    return bufferMedia(bytes, 'image/jpeg', etag);
  }

  async function forgetRenderedImages(detection: { id: number; rowId: string; jobId: string | null }): Promise<void> {
    if (!detection.jobId) return;
    await deps.media.remove(renderedImagesPrefix(detection.jobId, detection.rowId)).catch((error: unknown) => {
      deps.logger.warn({ err: error, detectionId: detection.id }, 'removing the drawn images of a detection failed');
    });
  }

  return router;
}

/** A bulk creation item as the command takes it: parsed, or the first problem with it. */
function detectionItemOf(raw: unknown): DetectionItem {
  const item = bulkCreateItem.safeParse(raw, { reportInput: true });
  if (!item.success) return { invalid: firstIssue(item.error, 'item').message };
  const { camera_id, object_type, confidence, bbox_x, bbox_y, bbox_width, bbox_height } = item.data;
  return {
    draft: {
      camera: camera_id,
      objectType: object_type,
      score: confidence,
      box: [bbox_x, bbox_y, bbox_x + bbox_width, bbox_y + bbox_height],
      detectedAt: item.data.detected_at ?? null,
      filePath: item.data.file_path ?? null,
      fileType: item.data.file_type ?? null,
      labels: item.data.labels ?? [],
    },
  };
}

/** Under the row's key, not the API id: images drawn before detections had integer ids are still found. */
function renderedImagesPrefix(jobId: string, detectionRowId: string): string {
  return `${jobMediaPrefix('alarm', jobId)}/detections/${detectionRowId}`;
}

function storedFrameOf(detection: DetectionRecord): StoredFrameRef {
  if (!detection.frame) throw notFound('Image');
  return detection.frame;
}

function filtersOf(query: {
  camera_id?: DetectionFilters['camera'];
  object_type?: string;
  start_date?: Date;
  end_date?: Date;
  min_confidence?: number;
}): DetectionFilters {
  return {
    camera: query.camera_id,
    objectType: query.object_type,
    from: query.start_date,
    to: query.end_date,
    minConfidence: query.min_confidence,
  };
}
