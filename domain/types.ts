/**
 * Types shared by the API, the workflow, the activities and the detection worker.
 * Pure data only: this module is imported by workflow code.
 */

export const siteCategories = [
  'car_dealership',
  'car_wash',
  'construction',
  'gaming_slots',
  'gas_station',
  'hotel',
  'jewelry',
  'logistics_warehouse',
  'office',
  'other',
  'residence',
  'restaurant_bar',
  'retail',
  'storage',
] as const;
export type SiteCategory = (typeof siteCategories)[number];

export const detectionCategories = ['person', 'vehicle', 'weapon'] as const;
export type DetectionCategory = (typeof detectionCategories)[number];

/** Pixel box in the uploaded frame's coordinates (after EXIF orientation): x1, y1, x2, y2. */
export type Box = [number, number, number, number];

export interface Detection {
  category: DetectionCategory;
  /** COCO class name the model reported, e.g. "car" or "knife". */
  label: string;
  score: number;
  box: Box;
}

export interface FrameDetections {
  frameIndex: number;
  width: number;
  height: number;
  detections: Detection[];
}

export type Sensitivity = 0 | 1 | 2;

/** Sensitivity 2 runs the nuisance filters (persistence among them); 0 and 1 keep every detection, a person seen once included. */
export const filtersRunAt = (sensitivity: Sensitivity): boolean => sensitivity === 2;

export type Decision = 'No' | 'Maybe' | 'Yes';
export const crimeRateOf: Record<Decision, 0 | 1 | 2> = { No: 0, Maybe: 1, Yes: 2 };

export type DecisionMethod = 'Local' | 'C1' | 'C2' | 'C21' | 'Cbr';
