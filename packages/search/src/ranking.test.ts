import { describe, expect, it } from 'vitest';
import { seededRandom } from './random.js';
import { averagePrecision, hitAtK, tieGroups, type TieGroup } from './ranking.js';

/** Groups for a ranking without ties: one group per result. */
function untied(relevance: string): TieGroup[] {
  return Array.from(relevance, (c) => ({ size: 1, relevant: c === 'R' ? 1 : 0 }));
}

describe('averagePrecision without ties', () => {
  it('R . R . with R = 2: (1/1 + 2/3) / 2 = 5/6', () => {
    expect(averagePrecision(untied('R.R.'), 2)).toBeCloseTo(5 / 6, 15);
  });

  it('divides by relevantTotal, so unfetched relevant items count as misses', () => {
    // . R . R with R = 3: (1/2 + 2/4) / 3 = 1/3
    expect(averagePrecision(untied('.R.R'), 3)).toBeCloseTo(1 / 3, 15);
  });

  it('is 1 for a perfect ranking and 0 when nothing relevant was fetched', () => {
    expect(averagePrecision(untied('RRR..'), 3)).toBe(1);
    expect(averagePrecision(untied('....'), 2)).toBe(0);
  });

  it('is null when the corpus holds nothing relevant', () => {
    expect(averagePrecision(untied('..'), 0)).toBeNull();
  });

  it('AP@k divides by min(R, k)', () => {
    // . R R R, R = 3. AP@2 = (1/2) / min(3, 2) = 1/4; AP@3 = (1/2 + 2/3) / 3 = 7/18
    expect(averagePrecision(untied('.RRR'), 3, 2)).toBeCloseTo(1 / 4, 15);
    expect(averagePrecision(untied('.RRR'), 3, 3)).toBeCloseTo(7 / 18, 15);
    // A cut-off beyond the fetched depth sees only what was fetched: (1/2 + 2/3 + 3/4) / 3
    expect(averagePrecision(untied('.RRR'), 3, 10)).toBeCloseTo(23 / 36, 15);
    expect(averagePrecision(untied('R'), 1, 1)).toBe(1);
  });
});

describe('hitAtK without ties', () => {
  it('is 1 when a relevant result is in the top k', () => {
    expect(hitAtK(untied('..R'), 2)).toBe(0);
    expect(hitAtK(untied('..R'), 3)).toBe(1);
    expect(hitAtK(untied('R'), 1)).toBe(1);
    expect(hitAtK(untied(''), 5)).toBe(0);
  });
});

describe('tieGroups', () => {
  it('groups equal keys in order', () => {
    expect(
      tieGroups([-0.9, -0.9, -0.5, 0.1, 0.1, 0.1], [true, false, true, false, false, true]),
    ).toEqual([
      { size: 2, relevant: 1 },
      { size: 1, relevant: 1 },
      { size: 3, relevant: 1 },
    ]);
    expect(tieGroups([], [])).toEqual([]);
  });
});

describe('ties are the expectation over their orders', () => {
  it('hand-worked: {R, .} tied, then R, with R = 2', () => {
    // Order R . R: AP = (1 + 2/3) / 2 = 5/6. Order . R R: AP = (1/2 + 2/3) / 2 = 7/12.
    // Each order equally likely: (5/6 + 7/12) / 2 = 17/24.
    const groups = [
      { size: 2, relevant: 1 },
      { size: 1, relevant: 1 },
    ];
    expect(averagePrecision(groups, 2)).toBeCloseTo(17 / 24, 15);
    // Top 1 is the relevant one of the tied pair half the time.
    expect(hitAtK(groups, 1)).toBeCloseTo(0.5, 15);
    // AP@1: (1/min(2,1)) · P(first is relevant) · 1 = 0.5
    expect(averagePrecision(groups, 2, 1)).toBeCloseTo(0.5, 15);
  });

  it('hand-worked: three tied, one relevant, k = 2: P(hit) = 1 - C(2,2)/C(3,2) = 2/3', () => {
    expect(hitAtK([{ size: 3, relevant: 1 }], 2)).toBeCloseTo(2 / 3, 15);
  });

  it('equals brute force over all orders of random tied rankings', () => {
    const random = seededRandom(7);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(random() * 7);
      // Few distinct keys, so ties are common.
      const items = Array.from({ length: n }, () => ({
        key: Math.floor(random() * 3),
        relevant: random() < 0.5,
      })).sort((a, b) => a.key - b.key);
      const fetchedRelevant = items.filter((x) => x.relevant).length;
      const relevantTotal = fetchedRelevant + Math.floor(random() * 3);
      const groups = tieGroups(
        items.map((x) => x.key),
        items.map((x) => x.relevant),
      );
      const orders = permutations(items).filter((p) =>
        p.every((x, i) => i === 0 || p[i - 1]!.key <= x.key),
      );
      const expectation = (f: (flags: boolean[]) => number): number =>
        orders.reduce((sum, order) => sum + f(order.map((x) => x.relevant)), 0) / orders.length;

      if (relevantTotal === 0) {
        expect(averagePrecision(groups, 0)).toBeNull();
        continue;
      }
      expect(averagePrecision(groups, relevantTotal)).toBeCloseTo(
        expectation((flags) => plainAp(flags, relevantTotal, Infinity)),
        12,
      );
      for (const k of [1, 2, 3, 5]) {
        expect(averagePrecision(groups, relevantTotal, k)).toBeCloseTo(
          expectation((flags) => plainAp(flags, relevantTotal, k)),
          12,
        );
        expect(hitAtK(groups, k)).toBeCloseTo(
          expectation((flags) => (flags.slice(0, k).includes(true) ? 1 : 0)),
          12,
        );
      }
    }
  });
});

/** Textbook AP@k of one fixed order, written independently of ranking.ts. */
function plainAp(flags: readonly boolean[], relevantTotal: number, k: number): number {
  let hits = 0;
  let sum = 0;
  flags.forEach((relevant, i) => {
    if (i < k && relevant) {
      hits++;
      sum += hits / (i + 1);
    }
  });
  return sum / Math.min(relevantTotal, k);
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}
