import { SearchInputError, show } from './errors.js';

/**
 * Vector maths for embeddings. Inputs are any `ArrayLike<number>` (a Float32Array from ONNX Runtime,
 * a number[] parsed from pgvector's text form); arithmetic is done in doubles.
 *
 * Every function throws a SearchInputError rather than return NaN: for an empty vector, for
 * vectors of different dimensions (two models mixed up), for a NaN or infinite component, and,
 * where a direction is needed (cosine, normalisation), for the zero vector. pgvector itself answers
 * NaN for the cosine distance to a zero vector; NaN then compares false against every threshold
 * and a broken embedding would silently vanish from results, which is why we refuse it here.
 *
 * The fast path is one pass with plain sums. Sums of squares leave the double range only for
 * components beyond ~1e154 or below ~1e-154, which real embeddings never have, so only then a second
 * pass rescales by the largest component (as `Math.hypot` does) to keep the answer exact.
 */

/** Sums of squares outside (SAFE_LOW, SAFE_HIGH) may have under- or overflowed: rescale. */
const SAFE_LOW = 1e-280;
const SAFE_HIGH = 1e280;

function assertNonEmpty(v: ArrayLike<number>, name: string): void {
  if (v.length === 0) {
    throw new SearchInputError(
      name,
      `${name} is an empty vector; embeddings have at least one dimension`,
    );
  }
}

function assertSameDimension(a: ArrayLike<number>, b: ArrayLike<number>): void {
  assertNonEmpty(a, 'a');
  if (a.length !== b.length) {
    throw new SearchInputError(
      'b',
      `vectors differ in dimension (${a.length} vs ${b.length}); were they embedded by different models?`,
    );
  }
}

/** Finds the first bad component so the error can name it; only called once a sum went bad. */
function assertFinite(v: ArrayLike<number>, name: string): void {
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new SearchInputError(
        `${name}[${i}]`,
        `${name}[${i}] is ${show(x)}; vector components must be finite numbers`,
      );
    }
  }
}

function maxAbs(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i] ?? NaN));
  return m;
}

function zeroVector(name: string, what: string): SearchInputError {
  return new SearchInputError(
    name,
    `${name} is the zero vector, which has no direction: its ${what} is undefined`,
  );
}

function overflow(what: string): SearchInputError {
  return new SearchInputError('a', `the ${what} of these vectors exceeds the range of a double`);
}

/** Dot product a·b = Σ aᵢbᵢ. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertSameDimension(a, b);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] ?? NaN) * (b[i] ?? NaN);
  if (!Number.isFinite(s)) {
    assertFinite(a, 'a');
    assertFinite(b, 'b');
    // Finite components whose products overflow: the true value is not a double.
    throw overflow('dot product');
  }
  return s;
}

/** Euclidean (L2) norm ‖a‖ = √(Σ aᵢ²). */
export function norm(a: ArrayLike<number>): number {
  assertNonEmpty(a, 'a');
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] ?? NaN) ** 2;
  if (s > SAFE_LOW && s < SAFE_HIGH) return Math.sqrt(s);
  assertFinite(a, 'a');
  const m = maxAbs(a);
  if (m === 0) return 0;
  let t = 0;
  for (let i = 0; i < a.length; i++) t += ((a[i] ?? NaN) / m) ** 2;
  const n = m * Math.sqrt(t);
  if (!Number.isFinite(n)) throw overflow('norm');
  return n;
}

/**
 * a / ‖a‖, as a Float32Array because that is what embeddings are everywhere else (ONNX output,
 * pgvector's `vector`). Throws for the zero vector, which cannot be normalised.
 */
export function l2Normalize(a: ArrayLike<number>): Float32Array {
  const n = norm(a);
  if (n === 0) throw zeroVector('a', 'normalised form');
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? NaN) / n;
  return out;
}

/**
 * Cosine similarity a·b / (‖a‖‖b‖), clamped to [-1, 1]: rounding can land a hair outside for
 * parallel vectors, and callers rely on the documented range (pgvector clamps the same way).
 * Throws for a zero vector.
 */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertSameDimension(a, b);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? NaN;
    const y = b[i] ?? NaN;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  let similarity: number;
  if (aa > SAFE_LOW && aa < SAFE_HIGH && bb > SAFE_LOW && bb < SAFE_HIGH) {
    similarity = ab / (Math.sqrt(aa) * Math.sqrt(bb));
  } else {
    assertFinite(a, 'a');
    assertFinite(b, 'b');
    const ma = maxAbs(a);
    const mb = maxAbs(b);
    if (ma === 0) throw zeroVector('a', 'cosine similarity');
    if (mb === 0) throw zeroVector('b', 'cosine similarity');
    // Cosine is scale-invariant, so dividing each vector by its largest component changes nothing
    // but brings the sums back into range.
    ab = 0;
    aa = 0;
    bb = 0;
    for (let i = 0; i < a.length; i++) {
      const x = (a[i] ?? NaN) / ma;
      const y = (b[i] ?? NaN) / mb;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    similarity = ab / (Math.sqrt(aa) * Math.sqrt(bb));
  }
  return Math.min(1, Math.max(-1, similarity));
}

/** Euclidean (L2) distance ‖a - b‖ = √(Σ (aᵢ - bᵢ)²), what pgvector's `<->` computes. */
export function euclideanDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertSameDimension(a, b);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += ((a[i] ?? NaN) - (b[i] ?? NaN)) ** 2;
  if (s > SAFE_LOW && s < SAFE_HIGH) return Math.sqrt(s);
  assertFinite(a, 'a');
  assertFinite(b, 'b');
  const m = Math.max(maxAbs(a), maxAbs(b));
  if (m === 0) return 0;
  let t = 0;
  for (let i = 0; i < a.length; i++) t += ((a[i] ?? NaN) / m - (b[i] ?? NaN) / m) ** 2;
  const d = m * Math.sqrt(t);
  if (!Number.isFinite(d)) throw overflow('Euclidean distance');
  return d;
}
