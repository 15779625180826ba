import { SearchInputError, show, type InputProblem } from './errors.js';
import { cosineSimilarity, euclideanDistance } from './vector.js';

/**
 * The two metrics and the one convention for scores, distances and thresholds that the API, the
 * dashboard, the SDK and the docs all share (README.md, "Conventions"):
 *
 * | metric      | score                        | distance                     | threshold        |
 * | ----------- | ---------------------------- | ---------------------------- | ---------------- |
 * | `cosine`    | cosine similarity in [-1, 1] | 1 - score (pgvector `<=>`)   | minimum score    |
 * | `euclidean` | 1 / (1 + distance) in (0, 1] | L2 distance (pgvector `<->`) | maximum distance |
 *
 * A threshold is always on the metric's native scale (similarity for cosine, distance for
 * euclidean), so it means the same number to the merchant as the one pgvector filters on.
 */
export type Metric = 'cosine' | 'euclidean';

export const METRICS: readonly Metric[] = ['cosine', 'euclidean'];

/** How close two embeddings are, in both of the forms every result carries. */
export interface Similarity {
  /** Higher is more similar: cosine similarity, or 1 / (1 + L2 distance). */
  readonly score: number;
  /** Lower is more similar: 1 - cosine similarity, or L2 distance. */
  readonly distance: number;
}

/**
 * Slack for values a rounding error away from their range. pgvector clamps cosine similarity to
 * [-1, 1] before it returns `<=>`, but similarities computed elsewhere from float32 embeddings can
 * be off by ~1e-7; anything further out is a real mistake (a distance passed as a score, say) and
 * is rejected rather than clamped.
 */
const ROUNDING_TOLERANCE = 1e-6;

export function assertMetric(metric: unknown): asserts metric is Metric {
  if (metric !== 'cosine' && metric !== 'euclidean') {
    throw new SearchInputError(
      'metric',
      `metric must be "cosine" or "euclidean" (got ${show(metric)})`,
    );
  }
}

function assertFiniteNumber(value: unknown, field: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new SearchInputError(field, `${field} must be a finite number (got ${show(value)})`);
  }
}

/** Clamps a value that is within ROUNDING_TOLERANCE of [lo, hi]; throws further out. */
function withinRange(value: number, lo: number, hi: number, field: string, what: string): number {
  if (value < lo - ROUNDING_TOLERANCE || value > hi + ROUNDING_TOLERANCE) {
    throw new SearchInputError(field, `${field} must be ${what} (got ${value})`);
  }
  return Math.min(hi, Math.max(lo, value));
}

/** The score for a distance: 1 - distance (cosine, distance in [0, 2]) or 1 / (1 + distance). */
export function toScore(metric: Metric, distance: number): number {
  assertMetric(metric);
  assertFiniteNumber(distance, 'distance');
  if (metric === 'cosine') {
    return 1 - withinRange(distance, 0, 2, 'distance', 'a cosine distance in [0, 2]');
  }
  if (distance < 0) {
    throw new SearchInputError(
      'distance',
      `distance must be a Euclidean distance >= 0 (got ${distance})`,
    );
  }
  return 1 / (1 + distance);
}

/**
 * The distance for a score: 1 - score (cosine, score in [-1, 1]) or 1 / score - 1 (euclidean,
 * score in (0, 1]). Euclidean scores squeeze large distances towards 0, so this inverse loses
 * precision there: results keep the distance pgvector returned rather than rebuild it from a score.
 */
export function toDistance(metric: Metric, score: number): number {
  assertMetric(metric);
  assertFiniteNumber(score, 'score');
  if (metric === 'cosine') {
    return 1 - withinRange(score, -1, 1, 'score', 'a cosine similarity in [-1, 1]');
  }
  if (!(score > 0 && score <= 1)) {
    throw new SearchInputError('score', `score must be a Euclidean score in (0, 1] (got ${score})`);
  }
  return 1 / score - 1;
}

/** Score and distance of two embeddings under `metric`. */
export function measure(metric: Metric, a: ArrayLike<number>, b: ArrayLike<number>): Similarity {
  assertMetric(metric);
  if (metric === 'cosine') {
    const score = cosineSimilarity(a, b);
    return { score, distance: 1 - score };
  }
  const distance = euclideanDistance(a, b);
  return { score: 1 / (1 + distance), distance };
}

/**
 * Checks a threshold for `metric`; returns null when it is valid, otherwise a problem whose
 * message names `field` and can be shown to the user as is (GraphQL BAD_USER_INPUT).
 */
export function validateThreshold(
  metric: Metric,
  threshold: number,
  field = 'threshold',
): InputProblem | null {
  assertMetric(metric);
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) {
    return { field, message: `${field} must be a finite number (got ${show(threshold)})` };
  }
  if (metric === 'cosine' && (threshold < -1 || threshold > 1)) {
    return {
      field,
      message: `${field} is a minimum cosine similarity and must lie in [-1, 1] (got ${threshold})`,
    };
  }
  if (metric === 'euclidean' && threshold < 0) {
    return {
      field,
      message: `${field} is a maximum Euclidean distance and must be >= 0 (got ${threshold})`,
    };
  }
  return null;
}

/** Like validateThreshold, but throws the problem as a SearchInputError. */
export function assertThreshold(metric: Metric, threshold: number, field = 'threshold'): void {
  const problem = validateThreshold(metric, threshold, field);
  if (problem) throw new SearchInputError(problem.field, problem.message);
}

/** A merchant's pair of thresholds (SearchSettings). */
export interface ThresholdSettings {
  /** Results must pass this to be returned at all (verdict SIMILAR or better). */
  readonly searchThreshold: number;
  /** Results passing this are the same product (verdict MATCH). */
  readonly matchThreshold: number;
}

/**
 * Checks both thresholds and that matchThreshold is at least as strict as searchThreshold: a
 * MATCH is a SIMILAR result that also passes the stricter bar, so a looser match threshold is a
 * settings mistake the merchant should hear about when saving, not at search time.
 */
export function validateThresholds(
  metric: Metric,
  settings: ThresholdSettings,
): InputProblem | null {
  const problem =
    validateThreshold(metric, settings.searchThreshold, 'searchThreshold') ??
    validateThreshold(metric, settings.matchThreshold, 'matchThreshold');
  if (problem) return problem;
  if (isLooserThreshold(metric, settings.matchThreshold, settings.searchThreshold)) {
    const rule =
      metric === 'cosine'
        ? 'a minimum similarity, so it must be >= searchThreshold'
        : 'a maximum distance, so it must be <= searchThreshold';
    return {
      field: 'matchThreshold',
      message: `matchThreshold (${settings.matchThreshold}) must be at least as strict as searchThreshold (${settings.searchThreshold}); for the ${metric} metric it is ${rule}`,
    };
  }
  return null;
}

/**
 * Whether threshold `a` is strictly looser than `b` under `metric`, i.e. lets strictly more
 * results through: a lower minimum similarity (cosine) or a higher maximum distance (euclidean).
 */
export function isLooserThreshold(metric: Metric, a: number, b: number): boolean {
  assertThreshold(metric, a, 'a');
  assertThreshold(metric, b, 'b');
  return metric === 'cosine' ? a < b : a > b;
}

/**
 * Whether a result passes `threshold`: score >= threshold (cosine), distance <= threshold
 * (euclidean). The comparison is on the native quantity only, so the boundary is inclusive and
 * exact; the other field is not consulted.
 */
export function passesThreshold(
  metric: Metric,
  similarity: Similarity,
  threshold: number,
): boolean {
  assertThreshold(metric, threshold);
  if (metric === 'cosine') {
    assertFiniteNumber(similarity.score, 'score');
    return similarity.score >= threshold;
  }
  assertFiniteNumber(similarity.distance, 'distance');
  return similarity.distance <= threshold;
}

/**
 * Internal ranking key, lower is better for both metrics: -score (cosine) or distance
 * (euclidean). A result passes threshold t exactly when key <= thresholdKey(t), so the evaluation
 * code can sort and sweep once without branching on the metric.
 */
export function rankKey(metric: Metric, similarity: Similarity): number {
  return metric === 'cosine' ? -similarity.score : similarity.distance;
}

/** The threshold (native scale) whose key is `key`; inverse of rankKey. Never returns -0. */
export function keyToThreshold(metric: Metric, key: number): number {
  const t = metric === 'cosine' ? -key : key;
  return t === 0 ? 0 : t;
}

export function thresholdToKey(metric: Metric, threshold: number): number {
  return metric === 'cosine' ? -threshold : threshold;
}
