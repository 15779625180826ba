/**
 * The threshold sweep behind the PR curve and the threshold recommendations.
 *
 * Every fetched (query, result) pair is a prediction: "passes the threshold" is a predicted
 * positive, `relevant` the truth. Counts are pooled over all queries (micro-averaging), so a query
 * with many results weighs more than one with few, as in the traffic a threshold will actually see.
 *
 * Pairs are sorted once by rank key (lower is better, see metric.ts); at each distinct key we keep
 * how many pairs and how many relevant pairs have a key at or below it. A threshold then costs a
 * binary search, and pairs tied with each other always fall on the same side of it.
 */

/** One point of the precision-recall curve. */
export interface PrPoint {
  /** On the metric's native scale: a minimum similarity (cosine) or a maximum distance (euclidean). */
  readonly threshold: number;
  /** Fetched pairs passing the threshold. */
  readonly predictedPositives: number;
  /** Passing pairs that are relevant. */
  readonly truePositives: number;
  /** truePositives / predictedPositives; null when nothing passes. */
  readonly precision: number | null;
  /** truePositives / Σ relevantTotal; null when no query has any relevant item. */
  readonly recall: number | null;
  /** 2·TP / (2·TP + FP + FN), the harmonic mean of precision and recall; null when both are. */
  readonly f1: number | null;
}

export interface Sweep {
  /** Distinct rank keys, ascending (best first). */
  readonly keys: readonly number[];
  /** predicted[i]: pairs with key <= keys[i]. */
  readonly predicted: readonly number[];
  /** truePositives[i]: relevant pairs with key <= keys[i]. */
  readonly truePositives: readonly number[];
  /** Σ relevantTotal over all queries: the denominator of recall. */
  readonly relevantTotal: number;
}

/** `pairs` must be sorted by key ascending. */
export function buildSweep(
  pairs: readonly { readonly key: number; readonly relevant: boolean }[],
  relevantTotal: number,
): Sweep {
  const keys: number[] = [];
  const predicted: number[] = [];
  const truePositives: number[] = [];
  let tp = 0;
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i];
    if (pair === undefined) break;
    if (pair.relevant) tp++;
    const next = pairs[i + 1];
    if (next === undefined || next.key !== pair.key) {
      keys.push(pair.key);
      predicted.push(i + 1);
      truePositives.push(tp);
    }
  }
  return { keys, predicted, truePositives, relevantTotal };
}

export function prPoint(
  threshold: number,
  predictedPositives: number,
  truePositives: number,
  relevantTotal: number,
): PrPoint {
  const falsePositives = predictedPositives - truePositives;
  const falseNegatives = relevantTotal - truePositives;
  const f1Denominator = 2 * truePositives + falsePositives + falseNegatives;
  return {
    threshold,
    predictedPositives,
    truePositives,
    precision: predictedPositives > 0 ? truePositives / predictedPositives : null,
    recall: relevantTotal > 0 ? truePositives / relevantTotal : null,
    f1: f1Denominator > 0 ? (2 * truePositives) / f1Denominator : null,
  };
}

/** The point at a threshold whose rank key is `key`: everything with key <= `key` passes. */
export function pointAtKey(sweep: Sweep, key: number, threshold: number): PrPoint {
  // Last index whose key is <= `key`, by binary search.
  let lo = 0;
  let hi = sweep.keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sweep.keys[mid] ?? Infinity) <= key) lo = mid + 1;
    else hi = mid;
  }
  const i = lo - 1;
  return prPoint(
    threshold,
    i >= 0 ? (sweep.predicted[i] ?? 0) : 0,
    i >= 0 ? (sweep.truePositives[i] ?? 0) : 0,
    sweep.relevantTotal,
  );
}

export interface Recommendations {
  /** The candidate with the highest F1 (the stricter one on a tie); null when no F1 is above 0. */
  readonly bestF1: PrPoint | null;
  /** The loosest candidate whose precision is >= the target; null when none reaches it. */
  readonly atTargetPrecision: PrPoint | null;
}

/** `candidates` must be ordered strict to loose. */
export function recommend(
  candidates: readonly PrPoint[],
  targetPrecision: number,
): Recommendations {
  let bestF1: PrPoint | null = null;
  let atTargetPrecision: PrPoint | null = null;
  for (const point of candidates) {
    // Strict `>`: on equal F1 the earlier, stricter threshold wins, as a false MATCH costs a
    // merchant more than a missed one.
    if (point.f1 !== null && point.f1 > (bestF1?.f1 ?? 0)) bestF1 = point;
    if (point.precision !== null && point.precision >= targetPrecision) atTargetPrecision = point;
  }
  return { bestF1, atTargetPrecision };
}
