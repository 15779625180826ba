import { describe, expect, it } from 'vitest';
import { resizePlane, resizeWeights } from './resize.js';

describe('resizeWeights', () => {
  it('rows sum to one when shrinking and enlarging', () => {
    for (const [nIn, nOut] of [
      [256, 28],
      [100, 28],
      [29, 28],
      [28, 28],
      [10, 28],
      [1, 5],
    ] as const) {
      const w = resizeWeights(nIn, nOut);
      for (const row of w.weight) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
  });

  it('averages exact areas when shrinking by a fraction', () => {
    // 3 -> 2: output 0 covers input [0, 1.5): all of pixel 0 and half of pixel 1.
    const w = resizeWeights(3, 2);
    expect([...w.index[0]!]).toEqual([0, 1]);
    expect([...w.weight[0]!]).toEqual([2 / 3, 1 / 3]);
  });
});

describe('resizePlane', () => {
  it('is the identity at the same size', () => {
    const src = Float64Array.from({ length: 12 }, (_, i) => i * i);
    expect([...resizePlane(src, 4, 3, 4, 3)]).toEqual([...src]);
  });

  it('halves by averaging 2x2 blocks', () => {
    const src = Float64Array.from([1, 3, 5, 7, 1, 3, 5, 7]);
    expect([...resizePlane(src, 4, 2, 2, 1)]).toEqual([2, 6]);
  });

  it('enlarges bilinearly with half-pixel centres and clamped edges', () => {
    const out = resizePlane(Float64Array.from([0, 1]), 2, 1, 4, 1);
    expect([...out]).toEqual([0, 0.25, 0.75, 1]);
  });
});
