/** Box geometry shared by the detector's duplicate suppression, the nuisance filters and the decision rules. Pure. */
import type { Box } from './types.js';

/** Zero for a box with no width or height. */
export function area([x1, y1, x2, y2]: Box): number {
  return Math.max(x2 - x1, 0) * Math.max(y2 - y1, 0);
}

export function intersectionArea(a: Box, b: Box): number {
  return area([Math.max(a[0], b[0]), Math.max(a[1], b[1]), Math.min(a[2], b[2]), Math.min(a[3], b[3])]);
}

/** Intersection over union; 0 for boxes that do not overlap. */
export function iou(a: Box, b: Box): number {
  const overlap = intersectionArea(a, b);
  const union = area(a) + area(b) - overlap;
  return union > 0 ? overlap / union : 0;
}
