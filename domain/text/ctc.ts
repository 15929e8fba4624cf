/**
 * Greedy CTC decoding of a recognition model's per-step class probabilities: the best class of each
 * step, repeats collapsed, the blank (class 0) dropped. Confidence is the mean probability of the kept
 * characters, as PaddleOCR's `CTCLabelDecode` reports it.
 */
export interface DecodedText {
  text: string;
  confidence: number;
}

/**
 * A gap between two characters' steps this many times the line's typical character pitch is read as a
 * space: the Chinese-trained recogniser often leaves out the narrow spaces of overlays ("2019-10-24 09:06:10").
 */
export const SPACE_GAP_FACTOR = 1.8;

/**
 * `probabilities` holds `steps` rows of `classes` values; `characters[k]` is class k's text
 * (`characters[0]` the blank, never emitted).
 */
export function ctcGreedyDecode(probabilities: Float32Array, steps: number, classes: number, characters: readonly string[], offset = 0): DecodedText {
  const kept: { character: string; step: number; probability: number }[] = [];
  let previous = -1;
  for (let step = 0; step < steps; step++) {
    const row = offset + step * classes;
    let best = 0;
    let bestProbability = probabilities[row]!;
    for (let k = 1; k < classes; k++) {
      const p = probabilities[row + k]!;
      if (p > bestProbability) {
        bestProbability = p;
        best = k;
      }
    }
    if (best !== 0 && best !== previous) kept.push({ character: characters[best] ?? '', step, probability: bestProbability });
    previous = best;
  }
  const confidence = kept.length > 0 ? kept.reduce((sum, k) => sum + k.probability, 0) / kept.length : 0;
  return { text: withGapSpaces(kept), confidence };
}

/** The characters joined, with a space where the steps between two of them leave room for one. */
function withGapSpaces(kept: readonly { character: string; step: number }[]): string {
  const gaps = kept.slice(1).map((k, i) => k.step - kept[i]!.step);
  // Too few characters to know the pitch.
  if (gaps.length < 3) return kept.map((k) => k.character).join('');
  const pitch = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
  let text = kept[0]!.character;
  for (let i = 1; i < kept.length; i++) {
    const spaced = kept[i]!.character === ' ' || kept[i - 1]!.character === ' ';
    if (!spaced && gaps[i - 1]! >= SPACE_GAP_FACTOR * pitch) text += ' ';
    text += kept[i]!.character;
  }
  return text;
}

/** PaddleOCR's dictionary as the model indexes it: the blank first, then the file's lines, then the space. */
export function ctcCharacters(dictionary: string): string[] {
  const lines = dictionary.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return ['', ...lines, ' '];
}
