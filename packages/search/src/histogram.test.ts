import { describe, expect, it } from 'vitest';
import { scoreHistogram } from './histogram.js';

const v = (value: number, relevant: boolean) => ({ value, relevant });

describe('scoreHistogram', () => {
  it('bins both classes on shared edges spanning the observed range', () => {
    // Range [0, 1] in 4 bins: edges 0, 0.25, 0.5, 0.75, 1.
    const h = scoreHistogram(
      [v(0, false), v(0.1, true), v(0.25, true), v(0.6, false), v(1, true)],
      4,
    );
    expect(h.edges).toEqual([0, 0.25, 0.5, 0.75, 1]);
    // 0.25 sits on an edge and belongs to the bin above it; 1 closes the last bin.
    expect(h.relevant).toEqual([1, 1, 0, 1]);
    expect(h.irrelevant).toEqual([1, 0, 1, 0]);
  });

  it('counts agree with the reported edges even where edges round', () => {
    // 0.1 + 0.7·i/100 lands on or next to the computed edges of 7 bins many times.
    const values = Array.from({ length: 101 }, (_, i) => v(0.1 + (0.7 * i) / 100, i % 3 === 0));
    const h = scoreHistogram(values, 7);
    const last = h.edges.length - 2;
    const inBin = (x: number, i: number) =>
      x >= h.edges[i]! && (x < h.edges[i + 1]! || (i === last && x <= h.edges[i + 1]!));
    const recount = (relevant: boolean) =>
      h.relevant.map(
        (_, i) => values.filter((x) => x.relevant === relevant && inBin(x.value, i)).length,
      );
    expect(h.relevant).toEqual(recount(true));
    expect(h.irrelevant).toEqual(recount(false));
    expect([...h.relevant, ...h.irrelevant].reduce((a, b) => a + b)).toBe(101);
  });

  it('one bin [v, v] when all values are equal, none without values', () => {
    expect(scoreHistogram([v(0.5, true), v(0.5, false)], 10)).toEqual({
      edges: [0.5, 0.5],
      relevant: [1],
      irrelevant: [1],
    });
    expect(scoreHistogram([], 10)).toEqual({ edges: [], relevant: [], irrelevant: [] });
  });
});
