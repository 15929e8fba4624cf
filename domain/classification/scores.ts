/**
 * The 13 scores of a clip classification, each from a real signal: the detectors' people and vehicles after the
 * alarm pipeline's nuisance filters, the alarm pipeline's decision rules (intrusion), the ImageNet classifier's
 * groups (animal, plant, spider, web, flag), the text detector, and the clip's motion statistics (wind, rain,
 * other, NOTHING). Pure: no I/O, so a camera's clip and its alarm frames are judged by the same rules.
 */
import { decideLocally, defaultBusinessHours, type BusinessHours, type LocalDecision } from '../decision.js';
import { applyFilters, defaultFilterSettings, type FilterOutcome, type FilterSettings } from '../filters.js';
import type { DetectionCategory, FrameDetections, SiteCategory } from '../types.js';
import type { MotionSignals } from './motion-signals.js';

export const classificationClasses = [
  'intrusion',
  'person',
  'vehicule',
  'animal',
  'plant',
  'wind',
  'rain',
  'spider',
  'web',
  'flag',
  'text',
  'other',
  'NOTHING',
] as const;
export type ClassificationClass = (typeof classificationClasses)[number];
export type ClassificationScores = Record<ClassificationClass, number>;

/** The classes the ImageNet classifier's groups give, each the highest probability over the frames and regions it saw. */
export const classifierClasses = ['animal', 'plant', 'spider', 'web', 'flag'] as const;
export type ClassifierClass = (typeof classifierClasses)[number];
export type ClassifierEvidence = Partial<Record<ClassifierClass, number>>;

export interface ClassificationInput {
  /** Frames of the clip that were detected (the detections may list fewer). */
  frameCount: number;
  /** What the detectors reported per frame, before any filter. */
  detections: FrameDetections[];
  motion: MotionSignals;
  /** null: no classifier ran, its classes score 0. */
  classifier: ClassifierEvidence | null;
  /** The text detector's confidence that the frames show text (0–1); null: no text detector ran. */
  text: number | null;
  /** The clip's local time, 'YYYY-MM-DD HH:MM:SS', for the decision rules' clock. */
  clipTime: string;
  filterSettings?: FilterSettings;
}

export interface Classification {
  scores: ClassificationScores;
  /** The alarm pipeline's decision on the clip, with its indicators (why intrusion scored as it did). */
  decision: LocalDecision;
  filters: Pick<FilterOutcome, 'indicators'>;
}

/**
 * A clip is sent because an armed system raised an alarm: the site counts as closed at any hour, so the
 * decision rules treat every person as after hours. (`within` never holds for open = close = 0.)
 */
const armedSite = Object.fromEntries(Object.keys(defaultBusinessHours).map((category) => [category, { open: 0, close: 0 }])) as Record<
  SiteCategory,
  BusinessHours
>;

/** Each frame's detection counts for this much of a certainty, so persistence over frames is what makes a score high. */
const perFrameWeight = 0.6;
/** Change of this share of the frame in some pair counts as fully moving. */
const fullActivity = 0.05;
/** Flicker over this share of the grid's cells counts as fully flickering (foliage filling most of the view). */
const fullFlicker = 0.7;
/** Change of this share of the frame in some pair is no leaf's: something changed the picture wholesale. */
const wholesaleActivity = 0.1;

const clamp = (value: number) => Math.min(1, Math.max(0, value));
const round4 = (value: number) => Math.round(clamp(value) * 10_000) / 10_000;

/**
 * How sure the clip holds an object of `category`: the frames' best scores combined as independent evidence
 * (1 − Π(1 − 0.6·score)), so one frame at 0.9 gives 0.54 and eight frames at 0.5 give 0.94.
 */
function persistentScore(frames: readonly FrameDetections[], category: DetectionCategory): number {
  let doubt = 1;
  for (const frame of frames) {
    const best = Math.max(0, ...frame.detections.filter((d) => d.category === category).map((d) => d.score));
    doubt *= 1 - perFrameWeight * best;
  }
  return 1 - doubt;
}

/**
 * The alarm decision as an intrusion score: Yes 0.8–0.99, Maybe 0.2–0.8, No under 0.2, placed by the evidence.
 * Never 1: a camera whose thresholds ask for more than the rules can be sure of is never an intrusion.
 */
function intrusionScore(decision: LocalDecision, evidence: number): number {
  if (decision.decision === 'Yes') return 0.8 + 0.19 * evidence;
  if (decision.decision === 'Maybe') return 0.2 + 0.6 * evidence;
  return 0.19 * evidence;
}

export function classifyClip(input: ClassificationInput): Classification {
  const { motion } = input;
  const settings = input.filterSettings ?? defaultFilterSettings;
  const filtered = applyFilters(input.detections, 2, { settings });
  const decision = decideLocally(
    { sensitivity: 2, siteCategory: 'other', vendorTime: input.clipTime, frames: filtered.kept, hasMotion: motion.hasMotion, frameCount: input.frameCount },
    armedSite,
  );

  // A parked vehicle is still a vehicle in the scene; it only does not raise an intrusion.
  const vehicleFrames = filtered.kept.map((frame) => ({
    ...frame,
    detections: [
      ...frame.detections,
      ...filtered.removed.filter((r) => r.frameIndex === frame.frameIndex && r.filter === 'filtered_stationary_vehicle').map((r) => r.detection),
    ],
  }));
  const person = persistentScore(filtered.kept, 'person');
  const weapon = persistentScore(filtered.kept, 'weapon');
  const vehicule = persistentScore(vehicleFrames, 'vehicle');
  const movingVehicle = persistentScore(filtered.kept, 'vehicle');
  const rawPerson = persistentScore(input.detections, 'person');
  const intrusion =
    decision.decision === 'No' ? intrusionScore(decision, rawPerson) : intrusionScore(decision, Math.max(person, weapon, movingVehicle));

  const classifier = input.classifier ?? {};
  const animal = classifier.animal ?? 0;
  const plant = classifier.plant ?? 0;
  const spider = classifier.spider ?? 0;
  const web = classifier.web ?? 0;
  const flag = classifier.flag ?? 0;
  const text = input.text ?? 0;

  const activity = motion.hasMotion ? clamp(motion.peakActivity / fullActivity) : 0;
  const objects = Math.max(person, vehicule, weapon, animal);
  // Foliage sways in place: clear change spread over several cells that stay the same from pair to pair, nothing
  // compact moving on. Faint change everywhere is rain's, not leaves'.
  const swaying = clamp(motion.steadiness * 1.5) * clamp(motion.spread * 4) * (1 - motion.concentration * 0.5) * (1 - 0.7 * motion.faintness);
  // ImageNet knows few trees: plants seen by the classifier confirm wind, their absence only tempers it.
  const swayingWind = activity * swaying * (1 - objects) * (input.classifier ? 0.8 + 0.2 * plant : 1);
  // Rain and snow: faint, sparse change over most of the frame.
  const rain = activity * clamp((motion.spread - 0.4) / 0.4) * motion.faintness * (1 - clamp(motion.density * 4)) * (1 - objects);
  // Leaves flicker: faint change that goes and comes back over a wide patch, often under the motion threshold. It is
  // wind unless the detectors found what moves, the picture changed wholesale (a hand on the lens, a car) or the
  // flicker is rain's, everywhere and sparse.
  const flicker = clamp((motion.flicker ?? 0) / fullFlicker);
  const flickerWind = flicker * (1 - Math.max(person, vehicule, weapon)) * (1 - clamp(motion.peakActivity / wholesaleActivity)) * (1 - rain);
  const wind = Math.max(swayingWind, flickerWind);
  const explained = Math.max(objects, wind, rain, spider, web, flag);
  const other = activity * (1 - explained);
  // Text is left out: most cameras print their name and the time on every frame.
  const found = Math.max(objects, spider, web, flag);
  const nothing = (1 - Math.max(activity, flicker)) * (1 - found);

  const scores: ClassificationScores = {
    intrusion: round4(intrusion),
    person: round4(person),
    vehicule: round4(vehicule),
    animal: round4(animal),
    plant: round4(plant),
    wind: round4(wind),
    rain: round4(rain),
    spider: round4(spider),
    web: round4(web),
    flag: round4(flag),
    text: round4(text),
    other: round4(other),
    NOTHING: round4(nothing),
  };
  return { scores, decision, filters: { indicators: filtered.indicators } };
}
