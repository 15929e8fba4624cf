/** Face descriptors compared: distance, same-or-different verification, and identification by nearest face. */

export function euclidean(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(sum);
}

export interface LabelledDescriptor {
  identity: string;
  descriptor: ArrayLike<number>;
}

export interface PairDistance {
  same: boolean;
  distance: number;
}

/** A pair of labelled faces: whose they are, and how far apart. */
export interface LabelledPair extends PairDistance {
  people: readonly [string, string];
}

export function pairDistances(faces: readonly LabelledDescriptor[]): LabelledPair[] {
  const pairs: LabelledPair[] = [];
  for (let i = 0; i < faces.length; i++) {
    for (let j = i + 1; j < faces.length; j++) {
      const [a, b] = [faces[i]!, faces[j]!];
      pairs.push({ same: a.identity === b.identity, distance: euclidean(a.descriptor, b.descriptor), people: [a.identity, b.identity] });
    }
  }
  return pairs;
}

interface Judgement {
  same: boolean;
  right: boolean;
}

/** A pair judged at `threshold`: the same person when closer. */
const judged = (pair: PairDistance, threshold: number): Judgement => ({ same: pair.same, right: (pair.distance < threshold) === pair.same });

/** Share judged right, same-person and different-person pairs weighted equally, since there are many more of the latter. */
function balancedAccuracy(judgements: readonly Judgement[]): number {
  const rate = (same: boolean) => {
    const list = judgements.filter((j) => j.same === same);
    return list.length ? list.filter((j) => j.right).length / list.length : 1;
  };
  return (rate(true) + rate(false)) / 2;
}

/** Balanced share of pairs judged right at `threshold` (same person when closer). */
export function verificationAccuracy(pairs: readonly PairDistance[], threshold: number): number {
  return balancedAccuracy(pairs.map((pair) => judged(pair, threshold)));
}

/** Share of all pairs judged right at `threshold`, unweighted (different-person pairs dominate). */
export function pairAccuracy(pairs: readonly PairDistance[], threshold: number): number {
  return pairs.length ? pairs.filter((p) => (p.distance < threshold) === p.same).length / pairs.length : 0;
}

/**
 * The threshold with the best balanced accuracy: the middle of the lowest run of candidate thresholds
 * (midway between two observed distances) that all reach it, so as far from the pairs on either side as it can be.
 */
export function bestThreshold(pairs: readonly PairDistance[]): { threshold: number; accuracy: number } {
  const distances = [...new Set(pairs.map((p) => p.distance))].sort((a, b) => a - b);
  const candidates = distances.slice(1).map((distance, i) => {
    const threshold = (distances[i]! + distance) / 2;
    return { threshold, accuracy: verificationAccuracy(pairs, threshold) };
  });
  const accuracy = Math.max(-1, ...candidates.map((c) => c.accuracy));
  const first = candidates.findIndex((c) => c.accuracy === accuracy);
  if (first < 0) return { threshold: 0, accuracy };
  let last = first;
  while (candidates[last + 1]?.accuracy === accuracy) last++;
  return { threshold: (candidates[first]!.threshold + candidates[last]!.threshold) / 2, accuracy };
}

/** Leave-one-out: the share of faces whose nearest other face is of the same person. */
export function rankOneAccuracy(faces: readonly LabelledDescriptor[]): number {
  let right = 0;
  for (const [i, face] of faces.entries()) {
    let nearest: LabelledDescriptor | null = null;
    let nearestDistance = Infinity;
    for (const [j, other] of faces.entries()) {
      if (i === j) continue;
      const distance = euclidean(face.descriptor, other.descriptor);
      if (distance < nearestDistance) {
        nearestDistance = distance;
        nearest = other;
      }
    }
    if (nearest?.identity === face.identity) right++;
  }
  return faces.length ? right / faces.length : 0;
}

/**
 * How well a threshold chosen on this kind of set carries over to people it was not chosen on: for each
 * person, the best threshold on the pairs without them judges the pairs with them; balanced accuracy
 * over all those judgements (each pair is judged once per person in it).
 */
export function leaveOnePersonOutAccuracy(faces: readonly LabelledDescriptor[]): { accuracy: number; thresholds: number[] } {
  return leaveOnePersonOutPairAccuracy(pairDistances(faces));
}

/** The same from the pairs alone (for distances that are not one descriptor's, e.g. two descriptors' summed). */
export function leaveOnePersonOutPairAccuracy(pairs: readonly LabelledPair[]): { accuracy: number; thresholds: number[] } {
  const judgements: Judgement[] = [];
  const thresholds: number[] = [];
  for (const person of new Set(pairs.flatMap((pair) => pair.people))) {
    const withPerson = (pair: LabelledPair) => pair.people.includes(person);
    const { threshold } = bestThreshold(pairs.filter((pair) => !withPerson(pair)));
    thresholds.push(threshold);
    judgements.push(...pairs.filter(withPerson).map((pair) => judged(pair, threshold)));
  }
  return { accuracy: balancedAccuracy(judgements), thresholds };
}
