/** How well lines read from an image match the lines a person reads there (OCR benchmarks and tests). */

export interface ExpectedLine {
  text: string;
  /** Other readings that count as the same line (glyphs that look alike, a line split in two). */
  accept?: readonly string[];
}

export interface LineScore {
  expected: string;
  /** The read line closest to it, or null when nothing was read. */
  closest: string | null;
  exact: boolean;
  /** Edits from the closest reading (or its accepted variants) to the line, and the line's length. */
  edits: number;
  length: number;
}

/** Levenshtein distance over code points. */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[y.length]!;
}

/** Each expected line against every read line: exact when one of them equals it or an accepted reading. */
export function scoreLines(expected: readonly ExpectedLine[], read: readonly string[]): LineScore[] {
  return expected.map((line) => {
    const variants = [line.text, ...(line.accept ?? [])];
    let best: { closest: string | null; edits: number } = { closest: null, edits: [...line.text].length };
    for (const candidate of read) {
      for (const variant of variants) {
        const edits = Math.min(editDistance(candidate, variant), [...line.text].length);
        if (edits < best.edits || (best.closest === null && edits <= best.edits)) best = { closest: candidate, edits };
      }
    }
    return { expected: line.text, closest: best.closest, exact: best.edits === 0 && best.closest !== null, edits: best.edits, length: [...line.text].length };
  });
}

/** Share of lines read exactly, and character error rate (edits over expected characters). */
export function summariseScores(scores: readonly LineScore[]): { lines: number; exact: number; exactShare: number; characterErrorRate: number } {
  const exact = scores.filter((s) => s.exact).length;
  const edits = scores.reduce((sum, s) => sum + s.edits, 0);
  const length = scores.reduce((sum, s) => sum + s.length, 0);
  return { lines: scores.length, exact, exactShare: scores.length ? exact / scores.length : 0, characterErrorRate: length ? edits / length : 0 };
}
