import { SearchInputError, show } from './errors.js';
import {
  assertMetric,
  assertThreshold,
  passesThreshold,
  type Metric,
  type Similarity,
} from './metric.js';

/**
 * What a result is to the query, strongest first:
 * - EXACT: the same picture (same content hash, or a distance within EXACT_DISTANCE of 0);
 * - MATCH: passes the merchant's match threshold, so it is taken to be the same product;
 * - SIMILAR: passes only the search threshold.
 * A result that fails the search threshold gets no verdict (null).
 */
export type Verdict = 'EXACT' | 'MATCH' | 'SIMILAR';

/**
 * Distances at or below which two embeddings count as the same picture, per metric.
 *
 * They only absorb rounding noise: the same pixels embedded twice (CPU vs CUDA, another batch,
 * a float32 query against a stored `halfvec`) differ per component by at most ~5e-4 relative (2^-11,
 * half precision's rounding), a cosine distance of ~1e-7 and, for the unit-length embeddings our
 * models emit, an L2 distance of ~3e-4. A re-encoded JPEG changes pixels, so it should land
 * above this and be a MATCH (not yet measured on our bundled model; revisit once the model's
 * near-duplicate distances are in its manifest metrics). For unit vectors the two defaults agree:
 * L2² = 2 · cosine distance, and √(2 · 1e-6) ≈ 1.4e-3. Models with unnormalised Euclidean
 * embeddings have another scale; pass `exactDistance` for them.
 */
export const EXACT_DISTANCE: Readonly<Record<Metric, number>> = { cosine: 1e-6, euclidean: 1e-3 };

export interface VerdictInput extends Similarity {
  readonly metric: Metric;
  /** The query and the result have the same content hash (sha256 of the image bytes). */
  readonly sameContent?: boolean;
  readonly searchThreshold: number;
  readonly matchThreshold: number;
  /** Overrides EXACT_DISTANCE[metric]. */
  readonly exactDistance?: number;
}

/**
 * The verdict for one result. MATCH requires passing both thresholds, so a matchThreshold looser
 * than searchThreshold (which validateThresholds rejects when settings are saved) can never label
 * a result the search threshold would have dropped.
 */
export function verdict(input: VerdictInput): Verdict | null {
  const { metric, score, distance, searchThreshold, matchThreshold } = input;
  assertMetric(metric);
  assertThreshold(metric, searchThreshold, 'searchThreshold');
  assertThreshold(metric, matchThreshold, 'matchThreshold');
  const exactDistance = input.exactDistance ?? EXACT_DISTANCE[metric];
  if (
    typeof exactDistance !== 'number' ||
    !(exactDistance >= 0) ||
    !Number.isFinite(exactDistance)
  ) {
    throw new SearchInputError(
      'exactDistance',
      `exactDistance must be a finite number >= 0 (got ${show(exactDistance)})`,
    );
  }
  for (const [field, value] of [
    ['score', score],
    ['distance', distance],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new SearchInputError(field, `${field} must be a finite number (got ${show(value)})`);
    }
  }

  if (input.sameContent === true || distance <= exactDistance) return 'EXACT';
  if (!passesThreshold(metric, { score, distance }, searchThreshold)) return null;
  if (passesThreshold(metric, { score, distance }, matchThreshold)) return 'MATCH';
  return 'SIMILAR';
}
