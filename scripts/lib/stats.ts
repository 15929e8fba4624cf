/** Nearest-rank percentile: the smallest value with at least p % of `sorted` (ascending, non-empty) at or below it. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no values');
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The given percentiles and the maximum of `values`, rounded to whole units; null when there are none. */
export function summarise<P extends number>(values: readonly number[], percentiles: readonly P[]): (Record<`p${P}`, number> & { max: number }) | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const summary = Object.fromEntries(percentiles.map((p) => [`p${p}`, Math.round(percentile(sorted, p))]));
  return { ...summary, max: Math.round(sorted.at(-1)!) } as Record<`p${P}`, number> & { max: number };
}
