import type { DetectionItemOutcome } from '../../commands/create-detections.js';
import type { DetectionEvent, DetectionRecord, DetectionStats, RankedDetection } from '../../db/repositories/detections.js';
import { formatCameraId } from './camera-id.js';
import { enrichmentSummary } from './enrichment.js';
import { roundScore, type DetectionField } from './fields.js';

const thumbnailPath = (id: number) => `/api/detections/${id}/thumbnail`;

export function presentDetection(detection: DetectionRecord, event: DetectionEvent | undefined): Record<DetectionField, unknown> {
  const [x1, y1, x2, y2] = detection.box;
  return {
    id: detection.id,
    camera_id: detection.camera ? formatCameraId(detection.camera) : null,
    file_path: detection.filePath,
    file_type: detection.fileType,
    detected_at: detection.detectedAt.toISOString(),
    object_type: detection.objectType,
    confidence: roundScore(detection.score),
    bbox_x: Math.round(x1),
    bbox_y: Math.round(y1),
    bbox_width: Math.round(x2 - x1),
    bbox_height: Math.round(y2 - y1),
    thumbnail_path: detection.frame ? thumbnailPath(detection.id) : null,
    media_type: detection.mediaType,
    duration: detection.video?.durationS ?? null,
    video_codec: detection.video?.codec ?? null,
    video_width: detection.video?.width ?? null,
    video_height: detection.video?.height ?? null,
    enrichment_data: enrichmentSummary(detection, event),
  };
}

export function presentSearchResult(detection: RankedDetection, event: DetectionEvent | undefined) {
  const full = presentDetection(detection, event);
  return {
    id: full.id,
    camera_id: full.camera_id,
    object_type: full.object_type,
    confidence: full.confidence,
    detected_at: full.detected_at,
    file_path: full.file_path,
    thumbnail_path: full.thumbnail_path,
    relevance_score: Number(detection.relevance.toFixed(6)),
    labels: detection.labels,
    bbox_x: full.bbox_x,
    bbox_y: full.bbox_y,
    bbox_width: full.bbox_width,
    bbox_height: full.bbox_height,
    enrichment_data: full.enrichment_data,
  };
}

export function presentStats(stats: DetectionStats) {
  return {
    total_detections: stats.total,
    detections_by_class: Object.fromEntries(stats.byObjectType.map(({ objectType, count }) => [objectType, count])),
    object_class_distribution: stats.byObjectType.map(({ objectType, count }) => ({ object_class: objectType, count })),
    average_confidence: stats.averageConfidence === null ? null : roundScore(stats.averageConfidence),
    // Epoch milliseconds of each UTC day, as Grafana's JSON data source expects.
    trends: stats.daily.map(({ dayStart, count }) => ({ timestamp: dayStart.getTime(), detection_count: count })),
  };
}

export type BulkItemResult =
  | { index: number; status: 'success'; id: number; error: null }
  | { index: number; status: 'failed' | 'skipped'; id: number | null; error: string };

export function presentBulkResults(results: BulkItemResult[]) {
  return {
    total: results.length,
    succeeded: results.filter((r) => r.status === 'success').length,
    failed: results.filter((r) => r.status === 'failed').length,
    skipped: results.filter((r) => r.status === 'skipped').length,
    results,
  };
}

/** One item of a bulk creation: the detection created, or why none was. */
export function presentCreatedItem(outcome: DetectionItemOutcome, index: number): BulkItemResult {
  if ('id' in outcome) return { index, status: 'success', id: outcome.id, error: null };
  const error = 'invalid' in outcome ? outcome.invalid : `Camera not found: ${formatCameraId(outcome.cameraNotFound)}`;
  return { index, status: 'failed', id: null, error };
}
