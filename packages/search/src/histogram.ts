/**
 * Score histograms of relevant and irrelevant pairs on shared bin edges, on the metric's native
 * scale (similarity for cosine, distance for euclidean), ascending. Where the two overlap is where
 * a threshold has to choose between precision and recall; the dashboard draws them on one axis.
 */
export interface ScoreHistogram {
  /**
   * bins + 1 ascending edges spanning the observed values. Bin i holds edges[i] <= v < edges[i+1];
   * the last bin also holds its upper edge. When every value is the same there is one bin [v, v];
   * with no values there are no bins.
   */
  readonly edges: readonly number[];
  /** Relevant pairs per bin. */
  readonly relevant: readonly number[];
  /** Irrelevant pairs per bin. */
  readonly irrelevant: readonly number[];
}

export function scoreHistogram(
  values: readonly { readonly value: number; readonly relevant: boolean }[],
  bins: number,
): ScoreHistogram {
  if (values.length === 0) return { edges: [], relevant: [], irrelevant: [] };
  let lo = Infinity;
  let hi = -Infinity;
  for (const { value } of values) {
    lo = Math.min(lo, value);
    hi = Math.max(hi, value);
  }
  const n = lo === hi ? 1 : bins;
  const edges = Array.from({ length: n + 1 }, (_, i) => (i === n ? hi : lo + ((hi - lo) * i) / n));
  const relevant = new Array<number>(n).fill(0);
  const irrelevant = new Array<number>(n).fill(0);
  for (const { value, relevant: isRelevant } of values) {
    // Assign by comparing with the very edges we report (binary search) rather than by
    // floor((v - lo) / width), whose rounding can put a value on an edge into the bin below it.
    let a = 0;
    let b = n;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if ((edges[mid] ?? Infinity) <= value) a = mid + 1;
      else b = mid;
    }
    const bin = Math.min(n - 1, a - 1);
    const counts = isRelevant ? relevant : irrelevant;
    counts[bin] = (counts[bin] ?? 0) + 1;
  }
  return { edges, relevant, irrelevant };
}
