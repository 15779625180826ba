/**
 * Rank metrics for one query's ranked results, with ties handled by expectation.
 *
 * Results with exactly the same score are genuinely unordered: pgvector returns them in whatever
 * order the index walk met them, and duplicates in a catalog (one photo on two products) tie by
 * construction. Rather than let that arbitrary order move the numbers, every metric here is the
 * expected value over all orders of each group of tied results, each order equally likely
 * (McSherry & Najork, "Computing Information Retrieval Performance Measures Efficiently in the
 * Presence of Tied Scores", ECIR 2008). Without ties this is the ordinary definition, and it costs
 * one pass.
 */

/** A run of results with equal scores, in rank order: `size` results, `relevant` of them relevant. */
export interface TieGroup {
  readonly size: number;
  readonly relevant: number;
}

/**
 * Groups results into ties. `keys` must be sorted ascending (best first); equal keys tie.
 */
export function tieGroups(keys: readonly number[], relevant: readonly boolean[]): TieGroup[] {
  const groups: TieGroup[] = [];
  let i = 0;
  while (i < keys.length) {
    let j = i;
    let hits = 0;
    while (j < keys.length && keys[j] === keys[i]) {
      if (relevant[j] === true) hits++;
      j++;
    }
    groups.push({ size: j - i, relevant: hits });
    i = j;
  }
  return groups;
}

/**
 * Average precision of the ranking cut at `cutoff` (Infinity for none):
 *
 *   AP@k = (1 / min(R, k)) · Σ_{i ≤ k, result i relevant} precision@i
 *
 * where R = relevantTotal, the relevant items in the whole corpus, so relevant items the ranking
 * never reached add nothing and pull AP down. Null when R = 0 (AP is undefined).
 *
 * Ties: in a group of n results with r relevant, starting after s results of which c are
 * relevant, the result at group position j is relevant with probability r/n and, given that, has
 * c + 1 + (j-1)(r-1)/(n-1) relevant results at or above it in expectation, so the group adds
 *   Σ_j (r/n) · (c + 1 + (j-1)(r-1)/(n-1)) / (s + j).
 */
export function averagePrecision(
  groups: readonly TieGroup[],
  relevantTotal: number,
  cutoff = Infinity,
): number | null {
  if (relevantTotal === 0) return null;
  let before = 0;
  let hitsBefore = 0;
  let sum = 0;
  for (const { size, relevant } of groups) {
    if (before >= cutoff) break;
    if (relevant > 0) {
      const p = relevant / size;
      const q = size > 1 ? (relevant - 1) / (size - 1) : 0;
      const m = Math.min(size, cutoff - before);
      for (let j = 1; j <= m; j++) sum += (p * (hitsBefore + 1 + (j - 1) * q)) / (before + j);
    }
    before += size;
    hitsBefore += relevant;
  }
  return sum / Math.min(relevantTotal, cutoff);
}

/**
 * Probability that at least one of the top k results is relevant (1 or 0 without ties).
 * A tie group straddling rank k contributes m = k - s of its n places; none of them is relevant
 * with probability C(n-r, m) / C(n, m) = Π_{i<m} (n-r-i) / (n-i).
 */
export function hitAtK(groups: readonly TieGroup[], k: number): number {
  let before = 0;
  for (const { size, relevant } of groups) {
    if (before >= k) break;
    if (relevant > 0) {
      const m = Math.min(size, k - before);
      let none = 1;
      for (let i = 0; i < m && none > 0; i++) none *= Math.max(0, size - relevant - i) / (size - i);
      return 1 - none;
    }
    before += size;
  }
  return 0;
}
