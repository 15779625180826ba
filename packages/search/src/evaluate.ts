import { SearchInputError, show } from './errors.js';
import {
  assertMetric,
  keyToThreshold,
  rankKey,
  thresholdToKey,
  validateThreshold,
  type Metric,
  type Similarity,
} from './metric.js';
import { scoreHistogram, type ScoreHistogram } from './histogram.js';
import { averagePrecision, hitAtK, tieGroups } from './ranking.js';
import { buildSweep, pointAtKey, prPoint, recommend, type PrPoint } from './sweep.js';

/**
 * Retrieval evaluation of a catalog against itself: every query is a catalog image, its results
 * are its nearest neighbours from the same catalog (the image itself excluded) as the API fetched
 * them, each marked relevant or not (same product, or same category, as the caller chose).
 * Definitions and formulas: README.md, "Evaluation".
 */

export interface RankedResult extends Similarity {
  /** Whether this result is relevant to the query (same product, or same category). */
  readonly relevant: boolean;
}

export interface EvaluationQuery {
  /** Identifies the query image in the per-query report; unique. */
  readonly id: string;
  /**
   * Relevant items in the whole corpus for this query (the query itself excluded), fetched or
   * not. Recall and AP divide by it, so relevant items beyond the fetched depth count as missed.
   */
  readonly relevantTotal: number;
  /** The fetched neighbours. Order does not matter: they are ranked by score here. */
  readonly results: readonly RankedResult[];
}

/** Set when the queries are a sample of the catalog's images rather than all of them. */
export interface SampleInfo {
  /** Images the catalog holds, of which `queries` are a sample. */
  readonly population: number;
  /** Echoed into the report so a run can be reproduced. */
  readonly seed?: string | number;
}

export interface EvaluationInput {
  readonly metric: Metric;
  readonly queries: readonly EvaluationQuery[];
  /** Cut-offs for mAP@k and Recall@k. Default [1, 5, 10]. */
  readonly ks?: readonly number[];
  /**
   * The PR curve's thresholds (native scale). An array: exactly those, and the recommendations
   * are chosen among them. `{ steps }`: that many evenly spaced thresholds across the observed
   * range, plus the recommended ones, which are then chosen exactly among every observed value.
   * Default `{ steps: 100 }`.
   */
  readonly thresholds?: readonly number[] | { readonly steps: number };
  /** Precision the `atTargetPrecision` recommendation must reach, in (0, 1]. Default 0.9. */
  readonly targetPrecision?: number;
  /** Bins of the score histograms. Default 20. */
  readonly histogramBins?: number;
  readonly sampled?: SampleInfo;
}

export interface MetricAtK {
  readonly k: number;
  /** Null when no query has a relevant item. */
  readonly value: number | null;
}

export interface QueryEvaluation {
  readonly id: string;
  readonly relevantTotal: number;
  /** Results fetched for this query. */
  readonly fetched: number;
  /** Fetched results marked relevant. */
  readonly relevantFetched: number;
  /** AP over the fetched ranking; null when relevantTotal is 0. */
  readonly averagePrecision: number | null;
  /** AP cut at rank R = relevantTotal (the per-query term of mAP@R); null when R is 0. */
  readonly averagePrecisionAtR: number | null;
}

export interface EvaluationCounts {
  readonly queries: number;
  /** Queries with relevantTotal > 0: the denominator of every mean over queries. */
  readonly queriesWithRelevant: number;
  /** Fetched (query, result) pairs. */
  readonly pairs: number;
  /** Fetched pairs marked relevant. */
  readonly relevantPairs: number;
  /** Σ relevantTotal: relevant pairs in the corpus, the denominator of recall. */
  readonly relevantTotal: number;
  /** Fewest and most results fetched for a query (0 and 0 with no queries). */
  readonly fetched: { readonly min: number; readonly max: number };
}

export interface ThresholdRecommendations {
  /** The threshold with the highest F1; null when no threshold finds a relevant pair. */
  readonly bestF1: PrPoint | null;
  readonly targetPrecision: number;
  /** The loosest threshold with precision >= targetPrecision; null when none reaches it. */
  readonly atTargetPrecision: PrPoint | null;
}

export interface SampleSummary {
  readonly queries: number;
  readonly population: number;
  /** queries / population. */
  readonly fraction: number;
  readonly seed?: string | number;
  /**
   * Standard error of mAP as an estimate of the whole catalog's mAP: s / √m · √(1 - fraction),
   * s the sample standard deviation of AP over the m queries with relevant items (finite
   * population correction by the query fraction). Null when m < 2.
   */
  readonly mapStandardError: number | null;
}

export interface EvaluationReport {
  readonly metric: Metric;
  readonly counts: EvaluationCounts;
  /** Mean AP over queries with relevantTotal > 0; null when there are none. */
  readonly map: number | null;
  /** Mean of AP cut at rank R per query (Musgrave et al. 2020); null when no query has R > 0. */
  readonly mapAtR: number | null;
  /** mAP@k for each k, ascending. */
  readonly mapAtK: readonly MetricAtK[];
  /** Fraction of queries with a relevant result in their top k, for each k, ascending. */
  readonly recallAtK: readonly MetricAtK[];
  readonly perQuery: readonly QueryEvaluation[];
  /** Ordered strict to loose: cosine from high to low similarity, euclidean from small to large distance. */
  readonly prCurve: readonly PrPoint[];
  readonly histogram: ScoreHistogram;
  readonly recommended: ThresholdRecommendations;
  readonly sampled: SampleSummary | null;
}

export const DEFAULT_KS: readonly number[] = [1, 5, 10];
/**
 * 100 points draw a smooth curve across a dashboard chart's width while keeping the response
 * small; MAX_CURVE_POINTS bounds what one request can ask for, since more points than pixels
 * only make the response larger.
 */
export const DEFAULT_STEPS = 100;
export const MAX_CURVE_POINTS = 1000;
export const DEFAULT_TARGET_PRECISION = 0.9;
/** 20 bins keep each bin populated for a catalog of a few hundred images. */
export const DEFAULT_HISTOGRAM_BINS = 20;
const MAX_HISTOGRAM_BINS = 1000;
/** Each k adds a pass over every query; a request's worth of cut-offs is a handful. */
const MAX_KS = 100;

/** How far a result's score may sit from the score its distance implies (rounding only). */
const CONSISTENCY_TOLERANCE = 1e-6;

function fail(field: string, message: string): never {
  throw new SearchInputError(field, `${field} ${message}`);
}

/**
 * `Array.isArray` narrows to `any[]`, which would switch off type checking downstream; these
 * checks guard values typed as arrays against JavaScript callers, so they need no narrowing.
 */
function isList(value: unknown): boolean {
  return Array.isArray(value);
}

function isThresholdList(
  t: readonly number[] | { readonly steps: number },
): t is readonly number[] {
  return Array.isArray(t);
}

function isInteger(value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

interface ScoredPair {
  readonly key: number;
  readonly value: number;
  readonly relevant: boolean;
}

/** Validates one result and returns its rank key and native value. */
function readResult(metric: Metric, result: RankedResult, path: string): ScoredPair {
  const { score, distance, relevant } = result;
  if (typeof score !== 'number' || !Number.isFinite(score)) {
    fail(`${path}.score`, `must be a finite number (got ${show(score)})`);
  }
  if (typeof distance !== 'number' || !Number.isFinite(distance)) {
    fail(`${path}.distance`, `must be a finite number (got ${show(distance)})`);
  }
  if (typeof relevant !== 'boolean') {
    fail(`${path}.relevant`, `must be a boolean (got ${show(relevant)})`);
  }
  let expectedScore: number;
  if (metric === 'cosine') {
    if (score < -1 - CONSISTENCY_TOLERANCE || score > 1 + CONSISTENCY_TOLERANCE) {
      fail(`${path}.score`, `must be a cosine similarity in [-1, 1] (got ${score})`);
    }
    expectedScore = 1 - distance;
  } else {
    if (distance < 0)
      fail(`${path}.distance`, `must be a Euclidean distance >= 0 (got ${distance})`);
    expectedScore = 1 / (1 + distance);
  }
  // Catches swapped fields or the wrong metric's numbers, which would otherwise yield a
  // plausible-looking but meaningless report.
  if (Math.abs(score - expectedScore) > CONSISTENCY_TOLERANCE) {
    fail(
      path,
      `has score ${score} but distance ${distance}, which under the ${metric} metric means score ${expectedScore}`,
    );
  }
  const similarity = { score, distance };
  return {
    key: rankKey(metric, similarity),
    value: metric === 'cosine' ? score : distance,
    relevant,
  };
}

function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function readKs(ks: readonly number[]): number[] {
  if (!isList(ks)) fail('ks', 'must be an array of positive integers');
  if (ks.length > MAX_KS) fail('ks', `may hold at most ${MAX_KS} values (got ${ks.length})`);
  ks.forEach((k, i) => {
    if (!isInteger(k, 1)) fail(`ks[${i}]`, `must be a positive integer (got ${show(k)})`);
  });
  return [...new Set(ks)].sort((a, b) => a - b);
}

function readOption(value: unknown, field: string, ok: boolean, rule: string): void {
  if (!ok) fail(field, `must be ${rule} (got ${show(value)})`);
}

/** Evaluates a catalog's retrieval quality; see README.md, "Evaluation", for every definition. */
export function evaluateRetrieval(input: EvaluationInput): EvaluationReport {
  const { metric, queries } = input;
  assertMetric(metric);
  if (!isList(queries)) fail('queries', 'must be an array');
  const ks = readKs(input.ks ?? DEFAULT_KS);
  const targetPrecision = input.targetPrecision ?? DEFAULT_TARGET_PRECISION;
  readOption(
    targetPrecision,
    'targetPrecision',
    typeof targetPrecision === 'number' && targetPrecision > 0 && targetPrecision <= 1,
    'a number in (0, 1]',
  );
  const bins = input.histogramBins ?? DEFAULT_HISTOGRAM_BINS;
  readOption(
    bins,
    'histogramBins',
    isInteger(bins, 1, MAX_HISTOGRAM_BINS),
    `an integer in [1, ${MAX_HISTOGRAM_BINS}]`,
  );
  const sampled = input.sampled;
  if (sampled !== undefined) {
    readOption(
      sampled.population,
      'sampled.population',
      isInteger(sampled.population, Math.max(1, queries.length)),
      `an integer >= the number of queries (${queries.length})`,
    );
  }

  const seen = new Set<string>();
  const pairs: ScoredPair[] = [];
  const perQuery: QueryEvaluation[] = [];
  const aps: number[] = [];
  const apsAtR: number[] = [];
  const apsAtK = ks.map(() => [] as number[]);
  const hitsAtK = ks.map(() => [] as number[]);
  let relevantPairs = 0;
  let relevantTotalSum = 0;
  let minFetched = Infinity;
  let maxFetched = 0;

  queries.forEach((query, qi) => {
    const path = `queries[${qi}]`;
    const { id, relevantTotal, results } = query;
    if (typeof id !== 'string') fail(`${path}.id`, `must be a string (got ${show(id)})`);
    if (seen.has(id)) fail(`${path}.id`, `${show(id)} appears twice; query ids must be unique`);
    seen.add(id);
    if (!isInteger(relevantTotal, 0)) {
      fail(`${path}.relevantTotal`, `must be an integer >= 0 (got ${show(relevantTotal)})`);
    }
    if (!isList(results)) fail(`${path}.results`, 'must be an array');

    const scored = results.map((r, ri) => readResult(metric, r, `${path}.results[${ri}]`));
    const relevantFetched = scored.filter((p) => p.relevant).length;
    if (relevantFetched > relevantTotal) {
      fail(
        `${path}.relevantTotal`,
        `is ${relevantTotal} but ${relevantFetched} of the query's results are marked relevant; it counts the relevant items in the whole corpus, so it cannot be smaller`,
      );
    }
    // Rank by score ourselves, so a caller's ordering cannot skew the metrics; ties are then
    // handled by expectation (ranking.ts).
    scored.sort((a, b) => a.key - b.key);
    const groups = tieGroups(
      scored.map((p) => p.key),
      scored.map((p) => p.relevant),
    );
    const ap = averagePrecision(groups, relevantTotal);
    const apAtR = averagePrecision(groups, relevantTotal, relevantTotal);
    if (ap !== null && apAtR !== null) {
      aps.push(ap);
      apsAtR.push(apAtR);
      ks.forEach((k, i) => {
        apsAtK[i]?.push(averagePrecision(groups, relevantTotal, k) ?? 0);
        hitsAtK[i]?.push(hitAtK(groups, k));
      });
    }
    perQuery.push({
      id,
      relevantTotal,
      fetched: scored.length,
      relevantFetched,
      averagePrecision: ap,
      averagePrecisionAtR: apAtR,
    });
    for (const p of scored) pairs.push(p);
    relevantPairs += relevantFetched;
    relevantTotalSum += relevantTotal;
    minFetched = Math.min(minFetched, scored.length);
    maxFetched = Math.max(maxFetched, scored.length);
  });

  pairs.sort((a, b) => a.key - b.key);
  const sweep = buildSweep(pairs, relevantTotalSum);
  const { prCurve, recommendations } = curveAndRecommendations(
    metric,
    sweep,
    input.thresholds ?? { steps: DEFAULT_STEPS },
    targetPrecision,
  );

  const map = mean(aps);
  return {
    metric,
    counts: {
      queries: queries.length,
      queriesWithRelevant: aps.length,
      pairs: pairs.length,
      relevantPairs,
      relevantTotal: relevantTotalSum,
      fetched: { min: queries.length > 0 ? minFetched : 0, max: maxFetched },
    },
    map,
    mapAtR: mean(apsAtR),
    mapAtK: ks.map((k, i) => ({ k, value: mean(apsAtK[i] ?? []) })),
    recallAtK: ks.map((k, i) => ({ k, value: mean(hitsAtK[i] ?? []) })),
    perQuery,
    prCurve,
    histogram: scoreHistogram(pairs, bins),
    recommended: { targetPrecision, ...recommendations },
    sampled:
      sampled === undefined
        ? null
        : {
            queries: queries.length,
            population: sampled.population,
            fraction: queries.length / sampled.population,
            ...(sampled.seed === undefined ? {} : { seed: sampled.seed }),
            mapStandardError: standardError(aps, map, queries.length / sampled.population),
          },
  };
}

function standardError(
  values: readonly number[],
  average: number | null,
  fraction: number,
): number | null {
  if (values.length < 2 || average === null) return null;
  let squares = 0;
  for (const v of values) squares += (v - average) ** 2;
  const sd = Math.sqrt(squares / (values.length - 1));
  return (sd / Math.sqrt(values.length)) * Math.sqrt(Math.max(0, 1 - fraction));
}

function curveAndRecommendations(
  metric: Metric,
  sweep: ReturnType<typeof buildSweep>,
  thresholds: readonly number[] | { readonly steps: number },
  targetPrecision: number,
): { prCurve: PrPoint[]; recommendations: ReturnType<typeof recommend> } {
  if (isThresholdList(thresholds)) {
    if (thresholds.length > MAX_CURVE_POINTS) {
      fail('thresholds', `may hold at most ${MAX_CURVE_POINTS} values (got ${thresholds.length})`);
    }
    thresholds.forEach((t, i) => {
      const problem = validateThreshold(metric, t, `thresholds[${i}]`);
      if (problem) throw new SearchInputError(problem.field, problem.message);
    });
    const keys = [...new Set(thresholds.map((t) => thresholdToKey(metric, t)))].sort(
      (a, b) => a - b,
    );
    const prCurve = keys.map((key) => pointAtKey(sweep, key, keyToThreshold(metric, key)));
    return { prCurve, recommendations: recommend(prCurve, targetPrecision) };
  }

  const { steps } = thresholds;
  readOption(
    steps,
    'thresholds.steps',
    isInteger(steps, 2, MAX_CURVE_POINTS),
    `an integer in [2, ${MAX_CURVE_POINTS}]`,
  );
  const { keys } = sweep;
  const best = keys[0];
  const worst = keys[keys.length - 1];
  if (best === undefined || worst === undefined) {
    return { prCurve: [], recommendations: { bestF1: null, atTargetPrecision: null } };
  }
  // Precision and recall only change at observed values, so choosing among every observed value
  // finds the exact optimum; the evenly spaced grid is for drawing.
  const candidates = keys.map((key, i) =>
    prPoint(
      keyToThreshold(metric, key),
      sweep.predicted[i] ?? 0,
      sweep.truePositives[i] ?? 0,
      sweep.relevantTotal,
    ),
  );
  const recommendations = recommend(candidates, targetPrecision);
  const n = best === worst ? 1 : steps;
  const gridKeys = Array.from({ length: n }, (_, i) =>
    i === n - 1 ? worst : best + ((worst - best) * i) / (n - 1),
  );
  const extra = [recommendations.bestF1, recommendations.atTargetPrecision]
    .filter((p) => p !== null)
    .map((p) => thresholdToKey(metric, p.threshold));
  const curveKeys = [...new Set([...gridKeys, ...extra])].sort((a, b) => a - b);
  const prCurve = curveKeys.map((key) => pointAtKey(sweep, key, keyToThreshold(metric, key)));
  return { prCurve, recommendations };
}
