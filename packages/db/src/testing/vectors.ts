import { seededRandom } from '@lookalike/search';
import type { Metric } from '../repositories/embedding.repository.js';

export { seededRandom };

/** Standard normal sample (Box–Muller). */
export function gaussian(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export interface ClusteredVectors {
  vectors: Float32Array[];
  /** Cluster of each vector. */
  labels: number[];
}

/**
 * Vectors scattered around `clusters` random centres, like embeddings of a catalog with a few
 * kinds of product. Values are rounded to float32, as pgvector stores them.
 */
export function clusteredVectors(options: {
  n: number;
  dims: number;
  clusters: number;
  spread: number;
  seed: number;
}): ClusteredVectors {
  const random = seededRandom(options.seed);
  const centres = Array.from({ length: options.clusters }, () =>
    Array.from({ length: options.dims }, () => gaussian(random)),
  );
  const vectors: Float32Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < options.n; i++) {
    const c = Math.floor(random() * options.clusters);
    const centre = centres[c] as number[];
    vectors.push(Float32Array.from(centre, (x) => x + options.spread * gaussian(random)));
    labels.push(c);
  }
  return { vectors, labels };
}

export function distance(metric: Metric, a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  let l2 = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
    l2 += (x - y) * (x - y);
  }
  return metric === 'cosine' ? 1 - dot / Math.sqrt(na * nb) : Math.sqrt(l2);
}

/** Exact k nearest by brute force, nearest first: the reference the database is held to. */
export function bruteForceNearest(
  metric: Metric,
  query: ArrayLike<number>,
  candidates: { id: string; vector: ArrayLike<number> }[],
  k: number,
): { id: string; distance: number }[] {
  return candidates
    .map((c) => ({ id: c.id, distance: distance(metric, query, c.vector) }))
    .sort((x, y) => x.distance - y.distance || (x.id < y.id ? -1 : 1))
    .slice(0, k);
}
