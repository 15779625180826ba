/** The value at quantile `p` of ascending `sorted` (nearest rank, rounding down); NaN when empty. */
export function quantile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

/** Ascending copy. */
export const ascending = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);
