import { describe, expect, it } from 'vitest';
import { SearchInputError } from './errors.js';
import { cosineSimilarity, dot, euclideanDistance, l2Normalize, norm } from './vector.js';

describe('dot', () => {
  it('sums the products of components', () => {
    // 1·4 + 2·5 + 3·6 = 4 + 10 + 18 = 32
    expect(dot([1, 2, 3], [4, 5, 6])).toBe(32);
    expect(dot([1, 0], [0, 1])).toBe(0);
  });

  it('accepts Float32Array', () => {
    expect(dot(new Float32Array([0.5, -2]), new Float32Array([4, 1]))).toBe(0); // 2 - 2
  });

  it('rejects vectors of different dimensions', () => {
    expect(() => dot([1, 2], [1, 2, 3])).toThrow(/differ in dimension \(2 vs 3\)/);
  });

  it('rejects a NaN component by index instead of returning NaN', () => {
    expect(() => dot([1, NaN], [1, 1])).toThrow(/a\[1\] is NaN/);
    expect(() => dot([1, 1], [Infinity, 1])).toThrow(/b\[0\] is Infinity/);
  });

  it('rejects empty vectors', () => {
    expect(() => dot([], [])).toThrow(/empty vector/);
  });

  it('reports an overflowing product instead of returning Infinity', () => {
    expect(() => dot([1e300], [1e300])).toThrow(/exceeds the range of a double/);
  });
});

describe('norm', () => {
  it('is the Euclidean length', () => {
    expect(norm([3, 4])).toBe(5); // √(9 + 16)
    expect(norm([0, 0, 0])).toBe(0);
    expect(norm([-2])).toBe(2);
  });

  it('stays exact where the sum of squares would over- or underflow', () => {
    // (3e200)² overflows a double; 3e200·√(1 + (4/3)²) = 5e200 does not.
    expect(norm([3e200, 4e200]) / 5e200).toBeCloseTo(1, 12);
    expect(norm([3e-200, 4e-200]) / 5e-200).toBeCloseTo(1, 12);
  });

  it('rejects NaN', () => {
    expect(() => norm([NaN, 1])).toThrow(SearchInputError);
  });
});

describe('l2Normalize', () => {
  it('scales to unit length, as a Float32Array', () => {
    const v = l2Normalize([3, 4]);
    expect(v).toBeInstanceOf(Float32Array);
    expect(v[0]).toBeCloseTo(0.6, 7); // 3/5
    expect(v[1]).toBeCloseTo(0.8, 7); // 4/5
    expect(norm(v)).toBeCloseTo(1, 6);
  });

  it('refuses the zero vector, which has no direction', () => {
    expect(() => l2Normalize([0, 0])).toThrow(/zero vector/);
  });
});

describe('cosineSimilarity', () => {
  it('matches hand-worked values', () => {
    expect(cosineSimilarity([1, 0], [0, 1])).toBe(0); // orthogonal
    expect(cosineSimilarity([1, 0], [1, 0])).toBe(1); // identical
    expect(cosineSimilarity([1, 0], [-1, 0])).toBe(-1); // opposite
    // [1,0]·[1,1] = 1; ‖[1,1]‖ = √2  ->  1/√2
    expect(cosineSimilarity([1, 0], [1, 1])).toBeCloseTo(Math.SQRT1_2, 15);
    // [3,4]·[4,3] = 24; norms 5·5 = 25  ->  0.96
    expect(cosineSimilarity([3, 4], [4, 3])).toBeCloseTo(0.96, 15);
  });

  it('ignores scale', () => {
    expect(cosineSimilarity([3, 4], [30, 40])).toBe(1);
    expect(cosineSimilarity([1e-200, 0], [1e200, 1e200])).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('never leaves [-1, 1] through rounding', () => {
    const a = [0.1, 0.2, 0.3, 0.7, 1e-3];
    const s = cosineSimilarity(
      a,
      a.map((x) => x * 3),
    );
    expect(s).toBeLessThanOrEqual(1);
    expect(s).toBeCloseTo(1, 12);
  });

  it('throws for a zero vector rather than return NaN', () => {
    expect(() => cosineSimilarity([0, 0], [1, 0])).toThrow(/a is the zero vector/);
    expect(() => cosineSimilarity([1, 0], [0, 0])).toThrow(/b is the zero vector/);
  });

  it('rejects dimension mismatch and non-finite components', () => {
    expect(() => cosineSimilarity([1], [1, 0])).toThrow(/differ in dimension/);
    expect(() => cosineSimilarity([1, NaN], [1, 0])).toThrow(/a\[1\] is NaN/);
  });
});

describe('euclideanDistance', () => {
  it('matches hand-worked values', () => {
    expect(euclideanDistance([1, 0], [0, 1])).toBeCloseTo(Math.SQRT2, 15); // √(1 + 1)
    expect(euclideanDistance([0, 0], [3, 4])).toBe(5);
    expect(euclideanDistance([1, 2, 3], [1, 2, 3])).toBe(0);
  });

  it('allows the zero vector (the distance is defined)', () => {
    expect(euclideanDistance([0, 0], [0, 0])).toBe(0);
  });

  it('stays exact at extreme magnitudes', () => {
    // (a - b) = (-3e200, -4e200): its square overflows, the distance 5e200 does not.
    expect(euclideanDistance([0, 0], [3e200, 4e200]) / 5e200).toBeCloseTo(1, 12);
    expect(euclideanDistance([0, 0], [3e-200, 4e-200]) / 5e-200).toBeCloseTo(1, 12);
  });

  it('rejects dimension mismatch and non-finite components', () => {
    expect(() => euclideanDistance([1, 2], [1])).toThrow(/differ in dimension/);
    expect(() => euclideanDistance([1, 2], [1, -Infinity])).toThrow(/b\[1\] is -Infinity/);
  });
});
