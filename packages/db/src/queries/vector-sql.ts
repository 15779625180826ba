import { InvalidArgumentError } from '../errors.js';
import { assertInt } from '../repositories/validate.js';

/**
 * pgvector indexes `vector` up to 2000 dimensions and `halfvec` up to 4000: larger models
 * (ResNet-50's 2048-d) are indexed and searched as half precision (docs/architecture.md).
 */
export const MAX_VECTOR_INDEX_DIMS = 2000;
export const MAX_HALFVEC_INDEX_DIMS = 4000;

/**
 * Model ids end up in index names and in the SQL type cast of the index expression, where
 * Postgres takes no parameters; this pattern keeps them to plain identifiers.
 */
const MODEL_ID = /^[a-z0-9][a-z0-9-]{0,48}$/;

export function assertModelId(id: string): void {
  if (!MODEL_ID.test(id)) {
    throw new InvalidArgumentError(
      `embedding model id "${id}" must match ${String(MODEL_ID)} (lowercase letters, digits, dashes)`,
    );
  }
}

/** The SQL type a model's vectors are cast to in its indexes and queries, e.g. vector(128). */
export function vectorType(dims: number): string {
  assertInt(dims, 'dims', 1, MAX_HALFVEC_INDEX_DIMS);
  return dims > MAX_VECTOR_INDEX_DIMS ? `halfvec(${dims})` : `vector(${dims})`;
}

/** A vector as pgvector's text form `[1,2,3]`, bound as a parameter; refuses wrong dims and NaN. */
export function vectorLiteral(vector: ArrayLike<number>, dims: number, what: string): string {
  if (vector.length !== dims) {
    throw new InvalidArgumentError(
      `${what} has ${vector.length} dimensions, the model has ${dims}`,
    );
  }
  const parts = new Array<string>(vector.length);
  for (let i = 0; i < vector.length; i++) {
    const x = vector[i] as number;
    if (!Number.isFinite(x))
      throw new InvalidArgumentError(`${what} has a non-finite value at ${i}`);
    parts[i] = String(x);
  }
  return `[${parts.join(',')}]`;
}

export function parseVector(text: string): number[] {
  return text.slice(1, -1).split(',').map(Number);
}

export type IndexMetric = 'cosine' | 'l2';

export function modelIndexName(id: string, metric: IndexMetric): string {
  assertModelId(id);
  return `image_embeddings_${id.replace(/-/g, '_')}_${metric}_idx`;
}
