/**
 * Nuisance filters (sensitivity 2): drop detections that are too weak, too small or too
 * large, oddly shaped, made by something on the lens, parked vehicles, or seen only once, and say
 * which filter removed what. Defaults per site category, each value overridable (`FILTER_OVERRIDES`).
 * Most filters remove false detections; a relevance filter (`relevanceFilters`) sets aside something
 * really there, which then counts for nothing in the decision but is still reported as seen.
 * Pure: no I/O.
 */
import { z } from 'zod';
import { area, intersectionArea, iou } from './boxes.js';
import { defaultFrameQualitySettings, qualityIndicators, type FrameQualitySettings, type QualityIndicator } from './frame-quality.js';
import { detectionCategories, filtersRunAt, siteCategories } from './types.js';
import type { Box, Detection, DetectionCategory, FrameDetections, Sensitivity, SiteCategory } from './types.js';

/** The indicators the filters add, each when it removed at least one detection. */
export const filterIndicators = [
  { indicator: 'filtered_low_score', meaning: 'a detection scored below its class minimum' },
  { indicator: 'filtered_small_object', meaning: 'a box covered less of the frame than its class minimum' },
  { indicator: 'filtered_large_object', meaning: 'a box covered more of the frame than the maximum' },
  { indicator: 'filtered_aspect_ratio', meaning: 'a whole box (not cut by the frame edge) had a shape its class cannot have' },
  {
    indicator: 'filtered_lens_obstruction',
    meaning: 'a large box reached two of the top, left and right edges: a hand or insect on the lens, not a person standing in the scene',
  },
  {
    indicator: 'filtered_stationary_vehicle',
    meaning:
      "a vehicle stood in the same place from the first frame to the last, or where the camera's previous event saw one: " +
      'it is reported as seen (has_vehicle, its boxes), parked, and does not count for the decision',
  },
  { indicator: 'filtered_not_persistent', meaning: 'a detection had no match near the same place in enough frames' },
] as const;
export type FilterIndicator = (typeof filterIndicators)[number]['indicator'];

/**
 * Filters that judge relevance rather than truth: what they set aside was really there (a parked vehicle),
 * so it stays in what the event reports as seen and leaves only the decision. Every other filter removes a
 * detection that is not to be believed, from everything.
 */
export const relevanceFilters: readonly FilterIndicator[] = ['filtered_stationary_vehicle'];
const filterIndicatorNames = filterIndicators.map(({ indicator }) => indicator) as [FilterIndicator, ...FilterIndicator[]];
const qualityIndicatorNames = qualityIndicators.map(({ indicator }) => indicator);

/** Height divided by width. */
export interface AspectRange {
  min: number;
  max: number;
}

export interface FilterSettings {
  minScore: Record<DetectionCategory, number>;
  /** Smallest box area, as a fraction of the frame area. */
  minAreaFraction: Record<DetectionCategory, number>;
  /** Largest box area, as a fraction of the frame area: bigger boxes are lens dirt, insects, glare. */
  maxAreaFraction: number;
  /** Shapes each class can have; null: any. Boxes cut by the frame edge are not judged. */
  aspectRatio: Record<DetectionCategory, AspectRange | null>;
  lensObstruction: {
    /** What a hand or insect on the lens is taken for. */
    categories: readonly DetectionCategory[];
    /** Boxes from this fraction of the frame area that reach two of the top, left and right edges. */
    minAreaFraction: number;
  };
  stationaryVehicle: {
    /** Overlap (IoU) of one parked vehicle's boxes in two frames of an event: detector jitter stays above it. */
    minIoU: number;
    /** A box of the camera's previous event is the same parked vehicle when the areas differ by at most this fraction… */
    previousEventMaxAreaChange: number;
    /** …and the boxes overlap at least this much. */
    previousEventMinIoU: number;
  };
  /** Frames (its own included) a detection must appear in; events of 4 frames or fewer ask for 1 at most. */
  minPersistenceFrames: number;
  /** Categories the persistence rule applies to. */
  persistentCategories: readonly DetectionCategory[];
  quality: FrameQualitySettings;
  /** Filters and quality flags switched off, by indicator. */
  disabled: readonly (FilterIndicator | QualityIndicator)[];
}

export const defaultFilterSettings: FilterSettings = {
  minScore: { person: 0.35, vehicle: 0.4, weapon: 0.55 },
  minAreaFraction: { person: 0.0004, vehicle: 0.001, weapon: 0.0002 },
  maxAreaFraction: 0.9,
  // People stand (about 2–3.5), sit, crouch or lie (down to about 0.3); a thin pole or a long kerb is not one.
  // Vehicles run from a bicycle seen head-on (about 2.5) to a bus side-on (about 0.25). Knives lie any way.
  aspectRatio: { person: { min: 0.3, max: 5 }, vehicle: { min: 0.2, max: 3.5 }, weapon: null },
  lensObstruction: { categories: ['person', 'weapon'], minAreaFraction: 0.15 },
  stationaryVehicle: { minIoU: 0.85, previousEventMaxAreaChange: 0.05, previousEventMinIoU: 0.8 },
  minPersistenceFrames: 2,
  // A car passing through in one frame is still a car; a one-frame "person" is usually a shadow.
  persistentCategories: ['person'],
  quality: defaultFrameQualitySettings,
  disabled: [],
};

const share = z.number().min(0).max(1);
const perCategory = <T extends z.ZodType>(value: T) =>
  z.object({ person: value.optional(), vehicle: value.optional(), weapon: value.optional() }).strict();
const aspectRange = z
  .object({ min: z.number().positive(), max: z.number().positive() })
  .strict()
  .refine(({ min, max }) => min <= max, 'min must not exceed max');

/** Any part of `FilterSettings`; what is left out keeps its value. */
export const filterSettingsOverrideSchema = z
  .object({
    minScore: perCategory(share),
    minAreaFraction: perCategory(share),
    maxAreaFraction: share,
    aspectRatio: perCategory(aspectRange.nullable()),
    lensObstruction: z.object({ categories: z.array(z.enum(detectionCategories)), minAreaFraction: share }).partial().strict(),
    stationaryVehicle: z
      .object({ minIoU: share, previousEventMaxAreaChange: share, previousEventMinIoU: share })
      .partial()
      .strict(),
    minPersistenceFrames: z.number().int().min(1).max(8),
    persistentCategories: z.array(z.enum(detectionCategories)),
    quality: z
      .object({
        darkLevel: z.number().int().min(0).max(255),
        tooDarkShare: share,
        maxBlurEffect: share,
        frozenPixelTolerance: z.number().int().min(0).max(255),
        frozenMaxChangedShare: share,
        lensBlocked: z
          .object({
            cellsAcross: z.number().int().min(2).max(64),
            maxCellBrightness: z.number().min(0).max(255),
            maxCellDeviation: z.number().min(0).max(255),
            minShare: share,
            minLitBrightness: z.number().min(0).max(255),
          })
          .partial()
          .strict(),
      })
      .partial()
      .strict(),
    disabled: z.array(z.enum([...filterIndicatorNames, ...qualityIndicatorNames])),
  })
  .partial()
  .strict();
export type FilterSettingsOverride = z.infer<typeof filterSettingsOverrideSchema>;

/** `FILTER_OVERRIDES`: `all` applies to every site, a site category's entry to its sites (after `all`). */
export const filterOverridesSchema = z.partialRecord(z.enum(['all', ...siteCategories]), filterSettingsOverrideSchema);
export type FilterOverrides = z.infer<typeof filterOverridesSchema>;

const vehicleYardDefaults: FilterSettingsOverride = {
  stationaryVehicle: { minIoU: 0.75, previousEventMaxAreaChange: 0.1, previousEventMinIoU: 0.7 },
};

/**
 * Where a site category departs from the defaults, and why. Homes and jewellers care most about a
 * person at night, so weaker person detections count. Trucks, trailers and machinery stand for days on
 * building sites and in yards and shift a little as they are loaded, so they still count as parked.
 */
export const siteCategoryFilterDefaults: Partial<Record<SiteCategory, FilterSettingsOverride>> = {
  residence: { minScore: { person: 0.3 } },
  jewelry: { minScore: { person: 0.3 } },
  construction: vehicleYardDefaults,
  logistics_warehouse: vehicleYardDefaults,
};

function withOverride(settings: FilterSettings, override: FilterSettingsOverride | undefined): FilterSettings {
  if (!override) return settings;
  return {
    ...settings,
    ...override,
    minScore: { ...settings.minScore, ...override.minScore },
    minAreaFraction: { ...settings.minAreaFraction, ...override.minAreaFraction },
    aspectRatio: { ...settings.aspectRatio, ...override.aspectRatio },
    lensObstruction: { ...settings.lensObstruction, ...override.lensObstruction },
    stationaryVehicle: { ...settings.stationaryVehicle, ...override.stationaryVehicle },
    quality: {
      ...settings.quality,
      ...override.quality,
      lensBlocked: { ...settings.quality.lensBlocked, ...override.quality?.lensBlocked },
    },
  };
}

/**
 * Defaults, then the site category's defaults, then the overrides for every site, then those for the
 * category. An unknown or missing category gets the defaults and the overrides for every site.
 */
export function filterSettingsFor(siteCategory: string | undefined, overrides: FilterOverrides = {}): FilterSettings {
  const category = (siteCategories as readonly (string | undefined)[]).includes(siteCategory) ? (siteCategory as SiteCategory) : undefined;
  const layers = category ? [siteCategoryFilterDefaults[category], overrides.all, overrides[category]] : [overrides.all];
  return layers.reduce(withOverride, defaultFilterSettings);
}

export interface FilterRemoval {
  frameIndex: number;
  detection: Detection;
  /** The indicator of the filter that removed it. */
  filter: FilterIndicator;
}

export interface FilterOutcome {
  /** The same frames, in order, holding only the detections that survived. */
  kept: FrameDetections[];
  removed: FilterRemoval[];
  /** One per filter that removed something, in vocabulary order. */
  indicators: FilterIndicator[];
}

export interface FilterOptions {
  settings?: FilterSettings;
  /** Vehicles the camera's previous finished event saw (parked ones included), for the stationary-vehicle filter. */
  previousEvent?: readonly FrameDetections[];
}

interface FilterContext {
  settings: FilterSettings;
  /** The event's frames as they stand before this step. */
  event: readonly FrameDetections[];
  /** The event's frames as detected, before any filter. */
  detected: readonly FrameDetections[];
  previousEvent: readonly FrameDetections[];
  minPersistenceFrames: number;
}

/** One filter: removes a detection when `rejects` says so. */
interface FilterStep {
  indicator: FilterIndicator;
  rejects(detection: Detection, frame: FrameDetections, context: FilterContext): boolean;
}

function clampedBox([x1, y1, x2, y2]: Box, frame: FrameDetections): Box {
  return [Math.max(x1, 0), Math.max(y1, 0), Math.min(x2, frame.width), Math.min(y2, frame.height)];
}

function areaFraction(box: Box, frame: FrameDetections): number {
  return area(clampedBox(box, frame)) / (frame.width * frame.height);
}

/** A box in another frame's pixel space, for events whose frames differ in resolution. */
export function scaledBox([x1, y1, x2, y2]: Box, from: FrameDetections, to: FrameDetections): Box {
  const sx = to.width / from.width;
  const sy = to.height / from.height;
  return [x1 * sx, y1 * sy, x2 * sx, y2 * sy];
}

type Edge = 'top' | 'bottom' | 'left' | 'right';

/** Edges a box reaches, within 1 % of the frame size (detectors rarely put a box exactly on the border). */
function touchedEdges([x1, y1, x2, y2]: Box, frame: FrameDetections): Set<Edge> {
  const marginX = frame.width * 0.01;
  const marginY = frame.height * 0.01;
  const edges = new Set<Edge>();
  if (y1 <= marginY) edges.add('top');
  if (y2 >= frame.height - marginY) edges.add('bottom');
  if (x1 <= marginX) edges.add('left');
  if (x2 >= frame.width - marginX) edges.add('right');
  return edges;
}

/**
 * Generous on purpose: alarm frames are often 0.5–1 s apart and people walk, so boxes that overlap
 * or whose centres lie within twice the larger box's diagonal are the same object.
 */
export function nearby(a: Box, b: Box): boolean {
  if (intersectionArea(a, b) > 0) return true;
  const diagonal = Math.max(Math.hypot(a[2] - a[0], a[3] - a[1]), Math.hypot(b[2] - b[0], b[3] - b[1]));
  const centreDistance = Math.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2);
  return centreDistance <= 2 * diagonal;
}

const vehiclesIn = (frame: FrameDetections) => frame.detections.filter((d) => d.category === 'vehicle');

const lowScore: FilterStep = {
  indicator: 'filtered_low_score',
  rejects: (detection, _frame, { settings }) => detection.score < settings.minScore[detection.category],
};

const smallObject: FilterStep = {
  indicator: 'filtered_small_object',
  rejects: (detection, frame, { settings }) => areaFraction(detection.box, frame) < settings.minAreaFraction[detection.category],
};

const largeObject: FilterStep = {
  indicator: 'filtered_large_object',
  rejects: (detection, frame, { settings }) => areaFraction(detection.box, frame) > settings.maxAreaFraction,
};

/** Only whole boxes: a person cut by the frame side is as thin as the part that shows. */
const oddShape: FilterStep = {
  indicator: 'filtered_aspect_ratio',
  rejects(detection, frame, { settings }) {
    const range = settings.aspectRatio[detection.category];
    if (!range || touchedEdges(detection.box, frame).size > 0) return false;
    const [x1, y1, x2, y2] = detection.box;
    const ratio = (y2 - y1) / Math.max(x2 - x1, Number.EPSILON);
    return ratio < range.min || ratio > range.max;
  },
};

/**
 * Something on the lens comes in from outside the picture and is huge: it reaches two of the top, left
 * and right edges. A person stands on the ground: cut by the bottom edge when close, by one side when
 * walking in or out, so at most one of those three.
 */
const lensObstruction: FilterStep = {
  indicator: 'filtered_lens_obstruction',
  rejects(detection, frame, { settings }) {
    const { categories, minAreaFraction } = settings.lensObstruction;
    if (!categories.includes(detection.category) || areaFraction(detection.box, frame) < minAreaFraction) return false;
    const edges = touchedEdges(detection.box, frame);
    edges.delete('bottom');
    return edges.size >= 2;
  },
};

/**
 * Parked vehicles: a box the detector reported from the first frame to the last (at any score, so one weak
 * frame does not make a parked car count), or one matching a vehicle of the camera's previous event.
 * Only vehicles: a person standing still is loitering, and thermal or snapshot cameras often send
 * near-identical frames of a real person.
 */
const stationaryVehicle: FilterStep = {
  indicator: 'filtered_stationary_vehicle',
  rejects(detection, frame, { settings, detected, previousEvent }) {
    if (detection.category !== 'vehicle') return false;
    const { minIoU, previousEventMaxAreaChange, previousEventMinIoU } = settings.stationaryVehicle;
    const sameBox = (other: FrameDetections, threshold: number, accept: (box: Box) => boolean = () => true) =>
      vehiclesIn(other).some((candidate) => {
        const box = scaledBox(candidate.box, other, frame);
        return iou(detection.box, box) >= threshold && accept(box);
      });
    // Parked: in this place in the first and the last frame and in at least half of all. Frames between
    // where the detector missed it (small and distant cars flicker) do not make it move; one that arrives
    // or leaves during the event is missing at the start or the end.
    const here = detected.map((other) => other.frameIndex === frame.frameIndex || sameBox(other, minIoU));
    const parked = here.length > 1 && here[0] && here.at(-1) && here.filter(Boolean).length * 2 >= here.length;
    if (parked) return true;
    const ownArea = area(detection.box);
    const similarArea = (box: Box) => Math.abs(area(box) - ownArea) <= previousEventMaxAreaChange * Math.max(area(box), ownArea);
    return previousEvent.some((other) => sameBox(other, previousEventMinIoU, similarArea));
  },
};

/** Standing still is no reason to drop a person (that is loitering): only absence from other frames is. */
const notPersistent: FilterStep = {
  indicator: 'filtered_not_persistent',
  rejects(detection, frame, { settings, event, minPersistenceFrames }) {
    if (!settings.persistentCategories.includes(detection.category)) return false;
    const framesSeen = event.filter(
      (other) =>
        other === frame ||
        other.detections.some(
          (candidate) => candidate.category === detection.category && nearby(detection.box, scaledBox(candidate.box, other, frame)),
        ),
    ).length;
    return framesSeen < minPersistenceFrames;
  },
};

/** In order: each step sees only what the steps before it kept. Add new filters here and to `filterIndicators`. */
const filterSteps: readonly FilterStep[] = [lowScore, smallObject, largeObject, oddShape, lensObstruction, stationaryVehicle, notPersistent];

/** Events of at most this many frames (snapshot cameras) keep a person seen in one frame: persistence asks for one there. */
export const FEW_FRAMES = 4;

/** Sensitivity 0 and 1 skip the filters; sensitivity 2 runs every one that is not disabled. */
export function applyFilters(
  frames: readonly FrameDetections[],
  sensitivity: Sensitivity,
  { settings = defaultFilterSettings, previousEvent = [] }: FilterOptions = {},
): FilterOutcome {
  let kept = frames.map((frame) => ({ ...frame, detections: [...frame.detections] }));
  if (!filtersRunAt(sensitivity)) return { kept, removed: [], indicators: [] };

  const minPersistenceFrames =
    frames.length <= FEW_FRAMES ? Math.min(settings.minPersistenceFrames, 1) : settings.minPersistenceFrames;
  const removed: FilterRemoval[] = [];
  for (const step of filterSteps) {
    if (settings.disabled.includes(step.indicator)) continue;
    const context: FilterContext = { settings, event: kept, detected: frames, previousEvent, minPersistenceFrames };
    kept = kept.map((frame) => ({
      ...frame,
      detections: frame.detections.filter((detection) => {
        const rejected = step.rejects(detection, frame, context);
        if (rejected) removed.push({ frameIndex: frame.frameIndex, detection, filter: step.indicator });
        return !rejected;
      }),
    }));
  }
  const indicators = filterIndicatorNames.filter((indicator) => removed.some((removal) => removal.filter === indicator));
  return { kept, removed, indicators };
}

/** A removal by a relevance filter: the detection was really there (see `relevanceFilters`). */
export const isSetAside = (removal: Pick<FilterRemoval, 'filter'>) => relevanceFilters.includes(removal.filter);

/**
 * What the event saw: per frame, in order, the kept detections and those a relevance filter set aside (a
 * parked vehicle). `has_person`, `has_vehicle` and the export's boxes come from this; the decision only
 * from `kept`.
 */
export function seenDetections(outcome: Pick<FilterOutcome, 'kept' | 'removed'>): FrameDetections[] {
  return outcome.kept.map((frame) => ({
    ...frame,
    detections: [
      ...frame.detections,
      ...outcome.removed.filter((removal) => removal.frameIndex === frame.frameIndex && isSetAside(removal)).map((removal) => removal.detection),
    ],
  }));
}
