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

export function pairDistances(faces: readonly LabelledDescriptor[]): PairDistance[] {
  const pairs: PairDistance[] = [];
  for (let i = 0; i < faces.length; i++) {
    for (let j = i + 1; j < faces.length; j++) {
      pairs.push({ same: faces[i]!.identity === faces[j]!.identity, distance: euclidean(faces[i]!.descriptor, faces[j]!.descriptor) });
    }
  }
  return pairs;
}

/**
 * Share of pairs judged right at `threshold` (same person when closer), with same-person and
 * different-person pairs weighted equally, since there are many more of the latter.
 */
export function verificationAccuracy(pairs: readonly PairDistance[], threshold: number): number {
  const same = pairs.filter((p) => p.same);
  const different = pairs.filter((p) => !p.same);
  const rate = (list: readonly PairDistance[], right: (p: PairDistance) => boolean) => (list.length ? list.filter(right).length / list.length : 1);
  return (rate(same, (p) => p.distance < threshold) + rate(different, (p) => p.distance >= threshold)) / 2;
}

/** Share of all pairs judged right at `threshold`, unweighted (different-person pairs dominate). */
export function pairAccuracy(pairs: readonly PairDistance[], threshold: number): number {
  return pairs.length ? pairs.filter((p) => (p.distance < threshold) === p.same).length / pairs.length : 0;
}

/** The threshold (midway between two observed distances) with the best balanced accuracy; the lowest such. */
export function bestThreshold(pairs: readonly PairDistance[]): { threshold: number; accuracy: number } {
  const distances = [...new Set(pairs.map((p) => p.distance))].sort((a, b) => a - b);
  let best = { threshold: 0, accuracy: -1 };
  for (let i = 0; i + 1 < distances.length; i++) {
    const threshold = (distances[i]! + distances[i + 1]!) / 2;
    const accuracy = verificationAccuracy(pairs, threshold);
    if (accuracy > best.accuracy) best = { threshold, accuracy };
  }
  return best;
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
