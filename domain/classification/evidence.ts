/**
 * The classifier's and the text reader's findings as classification evidence. Pure: no I/O.
 *
 * The ImageNet classifier answers, per image, its most probable class groups (`imagenet_groups.json`); a class of
 * the classification takes the highest probability its groups reach in any image it saw (the sampled frames and
 * the crop of where the clip moved most). Text takes the best confidence of a line of at least 3 characters.
 */
import type { ClassifierClass, ClassifierEvidence } from './scores.js';

export const classifierGroupsOf: Record<ClassifierClass, readonly string[]> = {
  spider: ['spider'],
  web: ['spider_web'],
  flag: ['flagpole'],
  plant: ['flower_or_plant', 'plant_container', 'fungus'],
  animal: [
    'bird', 'fish', 'amphibian', 'reptile', 'dog', 'wolf_fox_wild_dog', 'domestic_cat', 'big_cat', 'bear', 'small_mammal',
    'hoofed_mammal', 'primate', 'elephant', 'panda', 'marsupial_monotreme', 'marine_mammal',
  ],
};

/** How many of ImageNet's 1000 classes each group holds (imagenet_groups.json). */
const groupClassCounts: Readonly<Record<string, number>> = {
  spider: 6, spider_web: 1, flagpole: 1, flower_or_plant: 8, plant_container: 2, fungus: 7,
  bird: 59, fish: 16, amphibian: 8, reptile: 35, dog: 118, wolf_fox_wild_dog: 12, domestic_cat: 5, big_cat: 8, bear: 4,
  small_mammal: 20, hoofed_mammal: 17, primate: 20, elephant: 3, panda: 2, marsupial_monotreme: 5, marine_mammal: 4,
};

export interface ImageGroups {
  groups: readonly { group: string; probability: number }[];
}

/**
 * Per class, the most probable image: the sum of its groups' probabilities there, counted above what a classifier
 * that knows nothing would give them (their share of the 1000 classes), so a third of ImageNet being animals does
 * not make every blurred scene one.
 */
export function classifierEvidence(images: readonly ImageGroups[]): ClassifierEvidence {
  const evidence: ClassifierEvidence = {};
  for (const [name, groups] of Object.entries(classifierGroupsOf) as [ClassifierClass, readonly string[]][]) {
    const prior = groups.reduce((sum, group) => sum + (groupClassCounts[group] ?? 0), 0) / 1000;
    const perImage = images.map((image) => {
      const mass = Math.min(1, image.groups.filter((g) => groups.includes(g.group)).reduce((sum, g) => sum + g.probability, 0));
      return Math.max(0, (mass - prior) / (1 - prior));
    });
    evidence[name] = Math.round(Math.max(0, ...perImage) * 10_000) / 10_000;
  }
  return evidence;
}

/** Shorter lines are as often texture read as letters as they are text. */
const minTextCharacters = 3;

/** The best confidence of a line of text worth the name, 0 when none. */
export function textEvidence(lines: readonly { text: string; confidence: number }[]): number {
  const confident = lines.filter((line) => line.text.replace(/\s/g, '').length >= minTextCharacters).map((line) => line.confidence);
  return Math.round(Math.max(0, ...confident) * 10_000) / 10_000;
}
