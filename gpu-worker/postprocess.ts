import { iou } from '../domain/boxes.js';
import type { Box, Detection, DetectionCategory } from '../domain/types.js';

/** One decoded model output in the original image's pixel coordinates, before filtering. */
export interface Candidate {
  /** COCO-80 class index. */
  classId: number;
  score: number;
  box: Box;
}

export const NMS_IOU_THRESHOLD = 0.45;
/** Knives and bats are rare and costly to get wrong, so they need more confidence than the base threshold. */
export const WEAPON_MIN_SCORE = 0.5;

interface ClassRule {
  label: string;
  category: DetectionCategory;
  minScore: number;
}

const rules: ReadonlyMap<number, ClassRule> = new Map([
  [0, { label: 'person', category: 'person', minScore: 0 }],
  [1, { label: 'bicycle', category: 'vehicle', minScore: 0 }],
  [2, { label: 'car', category: 'vehicle', minScore: 0 }],
  [3, { label: 'motorcycle', category: 'vehicle', minScore: 0 }],
  [5, { label: 'bus', category: 'vehicle', minScore: 0 }],
  [7, { label: 'truck', category: 'vehicle', minScore: 0 }],
  [34, { label: 'baseball bat', category: 'weapon', minScore: WEAPON_MIN_SCORE }],
  [43, { label: 'knife', category: 'weapon', minScore: WEAPON_MIN_SCORE }],
]);

/** Greedy NMS: highest score first; a box is dropped when it overlaps a kept box of the same group by more than the threshold. */
export function nms<T extends { score: number; box: Box }>(
  items: readonly T[],
  iouThreshold: number,
  groupOf: (item: T) => string,
): T[] {
  const kept: T[] = [];
  for (const item of [...items].sort((a, b) => b.score - a.score)) {
    const group = groupOf(item);
    if (!kept.some((k) => groupOf(k) === group && iou(k.box, item.box) > iouThreshold)) kept.push(item);
  }
  return kept;
}

/**
 * Keeps person, vehicle and weapon classes above their thresholds, clips to the image and suppresses
 * duplicates: per class for people and weapons, across all vehicle classes (a van reported as both car
 * and truck is one vehicle). Sorted by score, highest first.
 */
export function toDetections(
  candidates: readonly Candidate[],
  scoreThreshold: number,
  imageWidth: number,
  imageHeight: number,
): Detection[] {
  const detections: Detection[] = [];
  for (const { classId, score, box } of candidates) {
    const rule = rules.get(classId);
    if (!rule || score < Math.max(scoreThreshold, rule.minScore)) continue;
    const clipped: Box = [
      clamp(box[0], imageWidth),
      clamp(box[1], imageHeight),
      clamp(box[2], imageWidth),
      clamp(box[3], imageHeight),
    ];
    if (clipped[2] <= clipped[0] || clipped[3] <= clipped[1]) continue;
    detections.push({ category: rule.category, label: rule.label, score, box: clipped });
  }
  return suppressDuplicates(detections).map((d) => ({
    ...d,
    score: Math.round(d.score * 1000) / 1000,
    box: [round1(d.box[0]), round1(d.box[1]), round1(d.box[2]), round1(d.box[3])],
  }));
}

/** NMS per class for people and weapons, across all vehicle classes; highest score first. */
export function suppressDuplicates(detections: readonly Detection[]): Detection[] {
  return nms(detections, NMS_IOU_THRESHOLD, (d) => (d.category === 'vehicle' ? 'vehicle' : d.label));
}

function clamp(value: number, max: number): number {
  return Math.min(Math.max(value, 0), max);
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
