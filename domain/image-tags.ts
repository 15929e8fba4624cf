import type { ImageSignals } from '../workflows/contracts/image-batch-analysis.js';
import { tagCalibration, type FamilyCalibration, type Platt } from './image-tag-calibration.js';

/** One tag of an image, as image batches answer it. */
export interface ImageTag {
  tag: string;
  /** Calibrated where the fixtures allow (person, vehicle, animal, and the detector's kinds of them): 0.5 is even odds. */
  probability: number;
  is_critical: boolean;
}

/** The families whose probabilities are calibrated on labelled pictures (scripts/calibrate-tags.ts). */
export const tagFamilies = ['person', 'vehicle', 'animal'] as const;
export type TagFamily = (typeof tagFamilies)[number];

/** What a COCO class of the detector tags, and the family whose calibration its score takes. */
const objectTags: Record<string, { tag: string; family: TagFamily | null }> = {
  person: { tag: 'person', family: 'person' },
  bicycle: { tag: 'bicycle', family: 'vehicle' },
  car: { tag: 'car', family: 'vehicle' },
  motorcycle: { tag: 'motorcycle', family: 'vehicle' },
  bus: { tag: 'bus', family: 'vehicle' },
  truck: { tag: 'truck', family: 'vehicle' },
  bird: { tag: 'bird', family: 'animal' },
  cat: { tag: 'cat', family: 'animal' },
  dog: { tag: 'dog', family: 'animal' },
  horse: { tag: 'horse', family: 'animal' },
  sheep: { tag: 'sheep', family: 'animal' },
  cow: { tag: 'cow', family: 'animal' },
  elephant: { tag: 'elephant', family: 'animal' },
  bear: { tag: 'bear', family: 'animal' },
  zebra: { tag: 'zebra', family: 'animal' },
  giraffe: { tag: 'giraffe', family: 'animal' },
  knife: { tag: 'weapon', family: null },
  'baseball bat': { tag: 'weapon', family: null },
  umbrella: { tag: 'umbrella', family: null },
};

/** What an ImageNet group (imagenet_groups.json) tags, and the family whose calibration its probability takes. */
const groupTags: Record<string, { tag: string; family: TagFamily | null }> = {
  spider: { tag: 'spider', family: null },
  spider_web: { tag: 'spider_web', family: null },
  insect: { tag: 'insect', family: null },
  other_arachnid_or_arthropod: { tag: 'insect', family: null },
  flagpole: { tag: 'flagpole', family: null },
  bird: { tag: 'bird', family: 'animal' },
  fish: { tag: 'fish', family: 'animal' },
  amphibian: { tag: 'amphibian', family: 'animal' },
  reptile: { tag: 'reptile', family: 'animal' },
  dog: { tag: 'dog', family: 'animal' },
  wolf_fox_wild_dog: { tag: 'wild_dog', family: 'animal' },
  domestic_cat: { tag: 'cat', family: 'animal' },
  big_cat: { tag: 'big_cat', family: 'animal' },
  bear: { tag: 'bear', family: 'animal' },
  small_mammal: { tag: 'small_mammal', family: 'animal' },
  hoofed_mammal: { tag: 'hoofed_animal', family: 'animal' },
  primate: { tag: 'primate', family: 'animal' },
  elephant: { tag: 'elephant', family: 'animal' },
  panda: { tag: 'panda', family: 'animal' },
  marsupial_monotreme: { tag: 'marsupial', family: 'animal' },
  marine_invertebrate: { tag: 'marine_animal', family: null },
  marine_mammal: { tag: 'marine_animal', family: 'animal' },
  flower_or_plant: { tag: 'plant', family: null },
  fungus: { tag: 'fungus', family: null },
  plant_container: { tag: 'plant_pot', family: null },
  umbrella: { tag: 'umbrella', family: null },
  road_vehicle: { tag: 'vehicle', family: 'vehicle' },
  two_wheeler: { tag: 'two_wheeler', family: 'vehicle' },
};

/** Knives and bats need this raw score before they are a `weapon` tag, as in alarm detection (postprocess.ts). */
const WEAPON_MIN_SCORE = 0.5;
/**
 * A kind (car, dog, …) needs at least the detector's alarm threshold: the family calibration says how likely a
 * family member is there given a score, and weak guesses at the kind are mostly the wrong member.
 */
const KIND_MIN_SCORE = 0.25;

/** Tags that are critical whatever the light. */
const alwaysCritical = new Set(['weapon']);
/** Tags that are critical in a low-light picture (night, IR). */
const criticalInLowLight = new Set(['person']);

/** A score the models never give, for "not seen": logits need an open interval. */
const FLOOR = 0.01;
const CEILING = 0.999;

export function logit(p: number): number {
  const q = Math.min(CEILING, Math.max(FLOOR, p));
  return Math.log(q / (1 - q));
}

export const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export const applyPlatt = ({ a, b }: Platt, raw: number) => sigmoid(a * logit(raw) + b);

/** The evidence of each family in an image: the detector's best score over the family's classes, and the classifier's summed groups. */
export function familyEvidence(signals: ImageSignals): Record<TagFamily, { detector: number; classifier: number }> {
  const evidence = Object.fromEntries(tagFamilies.map((family) => [family, { detector: 0, classifier: 0 }])) as Record<TagFamily, { detector: number; classifier: number }>;
  for (const { label, score } of signals.objects) {
    const family = objectTags[label]?.family;
    if (family) evidence[family].detector = Math.max(evidence[family].detector, score);
  }
  for (const { group, probability } of signals.groups) {
    const family = groupTags[group]?.family;
    if (family) evidence[family].classifier += probability;
  }
  return evidence;
}

/** The family tag's probability from both models: a logistic regression over their logits. */
export function familyProbability(calibration: FamilyCalibration, evidence: { detector: number; classifier: number }): number {
  const [bias, detectorWeight, classifierWeight] = calibration.joint;
  return sigmoid(bias + detectorWeight * logit(evidence.detector) + classifierWeight * logit(evidence.classifier));
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

/**
 * An image's tags from what the models saw: the family tags (person, vehicle, animal) from both models together;
 * each kind (car, dog, spider, …) from the model that names it, the detector's with its family's calibration, the
 * classifier's as its group probability; a tag named by both takes the higher probability.
 * Tags under `minProbability` are left out; most probable first.
 */
export function imageTags(signals: ImageSignals, minProbability: number): ImageTag[] {
  const probabilities = new Map<string, number>();
  const offer = (tag: string, probability: number) => probabilities.set(tag, Math.max(probabilities.get(tag) ?? 0, probability));

  const evidence = familyEvidence(signals);
  for (const family of tagFamilies) offer(family, familyProbability(tagCalibration[family], evidence[family]));
  for (const { label, score } of signals.objects) {
    const mapped = objectTags[label];
    if (!mapped || mapped.tag === 'person') continue;
    if (score < (mapped.tag === 'weapon' ? WEAPON_MIN_SCORE : KIND_MIN_SCORE)) continue;
    offer(mapped.tag, mapped.family ? applyPlatt(tagCalibration[mapped.family].detector, score) : score);
  }
  // The fixtures label no ImageNet kind: these are the classifier's own group probabilities.
  for (const { group, probability } of signals.groups) {
    const mapped = groupTags[group];
    if (mapped && !(tagFamilies as readonly string[]).includes(mapped.tag)) offer(mapped.tag, probability);
  }

  return [...probabilities]
    .filter(([, probability]) => probability >= minProbability)
    .sort((a, b) => b[1] - a[1])
    .map(([tag, probability]) => ({
      tag,
      probability: round3(probability),
      is_critical: alwaysCritical.has(tag) || (signals.lowLight && criticalInLowLight.has(tag)),
    }));
}

/** The tag table, for the README and tests. */
export const tagSources = { objectTags, groupTags };
