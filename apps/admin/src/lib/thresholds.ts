// The dashboard's threshold arithmetic, on hits the API already returned: cutting a result list
// at a slider's value, verdicts under other thresholds, and what new settings would change.
// Every comparison goes through @lookalike/search, the one convention the API uses too.
import {
  isLooserThreshold,
  passesThreshold,
  validateThreshold,
  validateThresholds,
  verdict,
  type Metric,
} from '@lookalike/search';
import {
  METRICS,
  type Hit,
  type MatchVerdict,
  type ModelDefault,
  type PrPoint,
  type SearchSettings,
  type SimilarityMetric,
} from './types';

export function metricOf(metric: SimilarityMetric): Metric {
  return metric === 'COSINE' ? 'cosine' : 'euclidean';
}

/**
 * Thresholds that let every hit through, to fetch once and cut locally: the lowest similarity,
 * and a distance no embedding pair reaches (unit vectors are at most 2 apart; 1e6 leaves room
 * for unnormalised models).
 */
export const LOOSEST: Readonly<Record<SimilarityMetric, number>> = { COSINE: -1, EUCLIDEAN: 1e6 };

/** The API's cap on similarProducts(first:). */
export const MAX_HITS = 100;

export interface Thresholds {
  metric: SimilarityMetric;
  searchThreshold: number;
  matchThreshold: number;
}

export interface CutHit extends Hit {
  /** Passes the search threshold: the API would return it. */
  kept: boolean;
  /** The verdict under these thresholds; null when cut. */
  judged: MatchVerdict | null;
}

/**
 * Each hit with what these thresholds make of it. A hit the API called EXACT (same bytes, or
 * distance ~ 0) stays EXACT wherever it passes; the rest are judged as the API would judge them.
 */
export function cutHits(hits: readonly Hit[], t: Thresholds): CutHit[] {
  const metric = metricOf(t.metric);
  return hits.map((hit) => {
    const kept = passesThreshold(metric, hit, t.searchThreshold);
    if (!kept) return { ...hit, kept, judged: null };
    if (hit.verdict === 'EXACT') return { ...hit, kept, judged: 'EXACT' };
    const judged = verdict({
      metric,
      score: hit.score,
      distance: hit.distance,
      searchThreshold: t.searchThreshold,
      matchThreshold: t.matchThreshold,
    });
    return { ...hit, kept, judged };
  });
}

/** A threshold off its metric's scale (then nothing can be cut); null when both are on it. */
export function thresholdValueProblem(t: Thresholds): string | null {
  const metric = metricOf(t.metric);
  return (
    (
      validateThreshold(metric, t.searchThreshold, 'searchThreshold') ??
      validateThreshold(metric, t.matchThreshold, 'matchThreshold')
    )?.message ?? null
  );
}

/** A problem with a pair of thresholds, in words for a form; null when they are valid. */
export function thresholdProblem(t: Thresholds): string | null {
  return validateThresholds(metricOf(t.metric), t)?.message ?? null;
}

export function isLooser(metric: SimilarityMetric, a: number, b: number): boolean {
  return isLooserThreshold(metricOf(metric), a, b);
}

/**
 * The thresholds in force for a metric: the saved ones for the saved metric, the model's
 * defaults for the other (what the API applies when a search names another metric).
 */
export function thresholdsFor(
  metric: SimilarityMetric,
  settings: SearchSettings,
  defaults: readonly ModelDefault[],
): Thresholds {
  if (metric === settings.metric)
    return {
      metric,
      searchThreshold: settings.searchThreshold,
      matchThreshold: settings.matchThreshold,
    };
  const d = defaults.find((x) => x.metric === metric);
  return d
    ? { metric, searchThreshold: d.searchThreshold, matchThreshold: d.matchThreshold }
    : {
        metric,
        searchThreshold: LOOSEST[metric],
        matchThreshold: metric === 'COSINE' ? 0.99 : 0.1,
      };
}

/** The thresholds in force for every metric, as thresholdsFor gives each. */
export function savedThresholds(
  settings: SearchSettings,
  defaults: readonly ModelDefault[],
): Record<SimilarityMetric, Thresholds> {
  return Object.fromEntries(
    METRICS.map((m) => [m, thresholdsFor(m, settings, defaults)]),
  ) as Record<SimilarityMetric, Thresholds>;
}

/** A slider's range for hits of one metric: covers every hit and the thresholds given. */
export function sliderRange(
  metric: SimilarityMetric,
  hits: readonly Hit[],
  ...thresholds: number[]
): { min: number; max: number; step: number } {
  if (metric === 'COSINE') {
    const lows = [...hits.map((h) => h.score), ...thresholds];
    const min = Math.max(-1, Math.floor(Math.min(1, ...lows) * 100) / 100);
    return { min, max: 1, step: 0.001 };
  }
  const highs = [
    ...hits.map((h) => h.distance),
    ...thresholds.filter((t) => t < LOOSEST.EUCLIDEAN),
  ];
  const max = Math.max(0.01, Math.ceil(Math.max(0, ...highs) * 100) / 100);
  return { min: 0, max, step: max > 10 ? 0.01 : 0.001 };
}

// ---------------------------------------------------------------------------------------------
// Dry run: sample queries, each fetched once per metric with the loosest threshold; any settings
// are then applied locally and compared.

export interface SampleQuery {
  /** What the sample photo is of (its product), for the table. */
  label: string;
  hits: Record<SimilarityMetric, Hit[]>;
}

export interface QueryChange {
  label: string;
  before: number;
  after: number;
  added: number;
  dropped: number;
  matchesBefore: number;
  matchesAfter: number;
  /** The API's cap of 100 hits was reached: beyond it, counts are lower bounds. */
  capped: boolean;
}

export interface DryRun {
  queries: QueryChange[];
  added: number;
  dropped: number;
  matchesAdded: number;
  matchesDropped: number;
  resultsBefore: number;
  resultsAfter: number;
  capped: boolean;
}

function passing(
  query: SampleQuery,
  t: Thresholds,
): { results: Set<string>; matches: Set<string>; capped: boolean } {
  const hits = query.hits[t.metric];
  const cut = cutHits(hits, t);
  const kept = cut.filter((h) => h.kept);
  return {
    results: new Set(kept.map((h) => h.productId)),
    matches: new Set(
      kept.filter((h) => h.judged === 'EXACT' || h.judged === 'MATCH').map((h) => h.productId),
    ),
    // All the fetched hits pass, and there were as many as the API gives: more may lie beyond.
    capped: hits.length >= MAX_HITS && kept.length === hits.length,
  };
}

const minus = (a: Set<string>, b: Set<string>) => [...a].filter((x) => !b.has(x)).length;

/** What changing `before` into `after` does to each sample query's results and matches. */
export function dryRun(
  queries: readonly SampleQuery[],
  before: Thresholds,
  after: Thresholds,
): DryRun {
  const rows = queries.map((q) => {
    const a = passing(q, before);
    const b = passing(q, after);
    return {
      label: q.label,
      before: a.results.size,
      after: b.results.size,
      added: minus(b.results, a.results),
      dropped: minus(a.results, b.results),
      matchesBefore: a.matches.size,
      matchesAfter: b.matches.size,
      matchesAdded: minus(b.matches, a.matches),
      matchesDropped: minus(a.matches, b.matches),
      capped: a.capped || b.capped,
    };
  });
  const sum = (f: (r: (typeof rows)[number]) => number) => rows.reduce((s, r) => s + f(r), 0);
  return {
    queries: rows.map(({ matchesAdded: _a, matchesDropped: _d, ...row }) => row),
    added: sum((r) => r.added),
    dropped: sum((r) => r.dropped),
    matchesAdded: sum((r) => r.matchesAdded),
    matchesDropped: sum((r) => r.matchesDropped),
    resultsBefore: sum((r) => r.before),
    resultsAfter: sum((r) => r.after),
    capped: rows.some((r) => r.capped),
  };
}

// ---------------------------------------------------------------------------------------------
// The tuning studio's sliders move along the evaluation's PR curve: precision, recall and F1 are
// measured exactly at its points (they only change at observed values), never interpolated.

/** The index of the curve point nearest to `threshold` (ties: the stricter point). */
export function nearestPoint(curve: readonly PrPoint[], threshold: number): number {
  let best = 0;
  let bestGap = Infinity;
  curve.forEach((p, i) => {
    const gap = Math.abs(p.threshold - threshold);
    if (gap < bestGap) {
      best = i;
      bestGap = gap;
    }
  });
  return best;
}
