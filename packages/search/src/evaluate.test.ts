import { describe, expect, it } from 'vitest';
import { SearchInputError } from './errors.js';
import {
  evaluateRetrieval,
  type EvaluationInput,
  type EvaluationQuery,
  type RankedResult,
} from './evaluate.js';
import { passesThreshold, toScore, type Metric } from './metric.js';
import { seededRandom } from './random.js';

/** Cosine results from [similarity, relevant] pairs; distance = 1 - similarity. */
function cos(...rows: [number, boolean][]): RankedResult[] {
  return rows.map(([score, relevant]) => ({ score, distance: 1 - score, relevant }));
}

/** Euclidean results from [distance, relevant] pairs; score = 1 / (1 + distance). */
function l2(...rows: [number, boolean][]): RankedResult[] {
  return rows.map(([distance, relevant]) => ({
    score: toScore('euclidean', distance),
    distance,
    relevant,
  }));
}

const R = true;
const N = false;

/**
 * The hand-worked cosine example. Ranks in brackets, R relevant, N not.
 *
 * q1, relevantTotal 2:  [1] 0.95 R  [2] 0.85 N  [3] 0.75 R  [4] 0.40 N
 *   AP   = (1/1 + 2/3) / 2                = 5/6
 *   AP@1 = (1/1) / min(2, 1)              = 1
 *   AP@5 = AP@10 = 5/6;  AP@R (R = 2) = (1/1) / 2 = 1/2;  hit@1 = hit@5 = 1
 * q2, relevantTotal 3 (one relevant item was never fetched):
 *                       [1] 0.90 N  [2] 0.70 R  [3] 0.65 N  [4] 0.30 R
 *   AP   = (1/2 + 2/4) / 3                = 1/3
 *   AP@1 = 0;  AP@5 = AP@10 = 1/3;  AP@R (R = 3) = (1/2) / 3 = 1/6;  hit@1 = 0, hit@5 = 1
 * q3, relevantTotal 0:  [1] 0.80 N  [2] 0.20 N   (no AP; its results are false positives)
 *
 *   mAP = (5/6 + 1/3) / 2 = 7/12;  mAP@1 = (1 + 0) / 2 = 1/2;  mAP@5 = mAP@10 = 7/12
 *   mAP@R = (1/2 + 1/6) / 2 = 1/3;  Recall@1 = 1/2;  Recall@5 = Recall@10 = 1
 *
 * All ten pairs, best first, with cumulative predicted P and true positives TP; Σ relevantTotal = 5;
 * F1 = 2TP / (2TP + FP + FN) = 2TP / (P + 5):
 *   0.95 R  P1 TP1  prec 1     F1 2/6        0.70 R  P6  TP3  prec 1/2   F1 6/11
 *   0.90 N  P2 TP1  prec 1/2   F1 2/7        0.65 N  P7  TP3  prec 3/7   F1 6/12
 *   0.85 N  P3 TP1  prec 1/3   F1 2/8        0.40 N  P8  TP3  prec 3/8   F1 6/13
 *   0.80 N  P4 TP1  prec 1/4   F1 2/9        0.30 R  P9  TP4  prec 4/9   F1 8/14  <- best F1
 *   0.75 R  P5 TP2  prec 2/5   F1 4/10       0.20 N  P10 TP4  prec 2/5   F1 8/15
 */
const handWorked: EvaluationQuery[] = [
  { id: 'q1', relevantTotal: 2, results: cos([0.95, R], [0.85, N], [0.75, R], [0.4, N]) },
  { id: 'q2', relevantTotal: 3, results: cos([0.9, N], [0.7, R], [0.65, N], [0.3, R]) },
  { id: 'q3', relevantTotal: 0, results: cos([0.8, N], [0.2, N]) },
];

describe('evaluateRetrieval: the hand-worked cosine example', () => {
  const report = evaluateRetrieval({ metric: 'cosine', queries: handWorked });

  it('counts queries and pairs', () => {
    expect(report.counts).toEqual({
      queries: 3,
      queriesWithRelevant: 2,
      pairs: 10,
      relevantPairs: 4,
      relevantTotal: 5,
      fetched: { min: 2, max: 4 },
    });
  });

  it('AP per query and mAP over queries with relevant items', () => {
    expect(report.perQuery.map((q) => [q.id, q.averagePrecision])).toEqual([
      ['q1', expect.closeTo(5 / 6, 12)],
      ['q2', expect.closeTo(1 / 3, 12)],
      ['q3', null],
    ]);
    expect(report.perQuery[1]).toMatchObject({ relevantTotal: 3, fetched: 4, relevantFetched: 2 });
    expect(report.map).toBeCloseTo(7 / 12, 12);
    expect(report.mapAtR).toBeCloseTo(1 / 3, 12);
  });

  it('mAP@k and Recall@k for the default ks', () => {
    expect(report.mapAtK.map((m) => m.k)).toEqual([1, 5, 10]);
    expect(report.mapAtK[0]!.value).toBeCloseTo(1 / 2, 12);
    expect(report.mapAtK[1]!.value).toBeCloseTo(7 / 12, 12);
    expect(report.mapAtK[2]!.value).toBeCloseTo(7 / 12, 12);
    expect(report.recallAtK).toEqual([
      { k: 1, value: 0.5 },
      { k: 5, value: 1 },
      { k: 10, value: 1 },
    ]);
  });

  it('the PR point at similarity 0.7: P = 6, TP = 3, precision 1/2, recall 3/5, F1 6/11', () => {
    const at = evaluateRetrieval({ metric: 'cosine', queries: handWorked, thresholds: [0.7] });
    expect(at.prCurve).toHaveLength(1);
    const point = at.prCurve[0]!;
    expect(point).toMatchObject({
      threshold: 0.7,
      predictedPositives: 6,
      truePositives: 3,
      precision: 0.5,
    });
    expect(point.recall).toBeCloseTo(3 / 5, 12);
    expect(point.f1).toBeCloseTo(6 / 11, 12);
  });

  it('recommends the best-F1 threshold 0.3 and, for precision 0.9, 0.95', () => {
    expect(report.recommended.bestF1).toMatchObject({
      threshold: 0.3,
      predictedPositives: 9,
      truePositives: 4,
    });
    expect(report.recommended.bestF1!.f1).toBeCloseTo(8 / 14, 12);
    expect(report.recommended.bestF1!.recall).toBeCloseTo(4 / 5, 12);
    expect(report.recommended.targetPrecision).toBe(0.9);
    expect(report.recommended.atTargetPrecision).toMatchObject({ threshold: 0.95, precision: 1 });
  });

  it('the loosest threshold reaching precision 1/2 is 0.7, not 0.9', () => {
    const half = evaluateRetrieval({ metric: 'cosine', queries: handWorked, targetPrecision: 0.5 });
    expect(half.recommended.atTargetPrecision).toMatchObject({ threshold: 0.7, precision: 0.5 });
  });

  it('the curve runs from the highest to the lowest similarity, holding the recommendations', () => {
    const thresholds = report.prCurve.map((p) => p.threshold);
    expect(thresholds[0]).toBe(0.95);
    expect(thresholds.at(-1)).toBe(0.2);
    expect(thresholds).toContain(0.3);
    expect(thresholds).toEqual([...thresholds].sort((a, b) => b - a));
    // 100 evenly spaced points; the recommendations 0.95 (an end) and 0.3 add one at most.
    expect(thresholds.length).toBeGreaterThanOrEqual(100);
    expect(thresholds.length).toBeLessThanOrEqual(101);
    const recalls = report.prCurve.map((p) => p.recall!);
    expect(recalls).toEqual([...recalls].sort((a, b) => a - b));
    expect(report.prCurve.at(-1)).toMatchObject({ predictedPositives: 10, truePositives: 4 });
  });

  it('histograms similarities of relevant and irrelevant pairs on the same edges', () => {
    // [0.2, 0.95] in 4 bins of 0.1875: edges 0.2, 0.3875, 0.575, 0.7625, 0.95.
    //   relevant 0.95 0.75 0.7 0.3       -> [1, 0, 2, 1]
    //   irrelevant 0.9 0.85 0.8 0.65 0.4 0.2 -> [1, 1, 1, 3]
    const h = evaluateRetrieval({
      metric: 'cosine',
      queries: handWorked,
      histogramBins: 4,
    }).histogram;
    expect(h.edges.map((e) => Number(e.toFixed(10)))).toEqual([0.2, 0.3875, 0.575, 0.7625, 0.95]);
    expect(h.relevant).toEqual([1, 0, 2, 1]);
    expect(h.irrelevant).toEqual([1, 1, 1, 3]);
  });

  it('does not depend on the order results arrive in', () => {
    const shuffled = handWorked.map((q) => ({ ...q, results: [...q.results].reverse() }));
    expect(evaluateRetrieval({ metric: 'cosine', queries: shuffled })).toEqual(report);
  });
});

describe('evaluateRetrieval: a hand-worked Euclidean example', () => {
  /*
   * e1, R = 1: [1] d 0.5 N  [2] d 1.0 R            AP = (1/2) / 1 = 1/2
   * e2, R = 2: [1] d 0.2 R  [2] d 0.3 R  [3] d 2 N  AP = (1 + 1) / 2 = 1
   * mAP = 3/4; Recall@1 = (0 + 1) / 2 = 1/2; mAP@1 = (0 + 1) / 2 = 1/2
   * Distance threshold 1.0 passes 0.5 N, 1.0 R, 0.2 R, 0.3 R: P = 4, TP = 3, Σ R = 3
   *   precision 3/4, recall 1, F1 = 6 / (6 + 1 + 0) = 6/7
   * Threshold 0.3 passes 0.2 R, 0.3 R: precision 1, recall 2/3.
   */
  const queries: EvaluationQuery[] = [
    { id: 'e1', relevantTotal: 1, results: l2([0.5, N], [1, R]) },
    { id: 'e2', relevantTotal: 2, results: l2([0.2, R], [0.3, R], [2, N]) },
  ];
  const report = evaluateRetrieval({ metric: 'euclidean', queries, ks: [1], thresholds: [1, 0.3] });

  it('ranks by smallest distance', () => {
    expect(report.map).toBeCloseTo(3 / 4, 12);
    expect(report.mapAtK).toEqual([{ k: 1, value: 0.5 }]);
    expect(report.recallAtK).toEqual([{ k: 1, value: 0.5 }]);
  });

  it('thresholds are maximum distances, the curve from small to large', () => {
    expect(report.prCurve.map((p) => p.threshold)).toEqual([0.3, 1]);
    expect(report.prCurve[0]).toMatchObject({
      predictedPositives: 2,
      truePositives: 2,
      precision: 1,
    });
    expect(report.prCurve[0]!.recall).toBeCloseTo(2 / 3, 12);
    expect(report.prCurve[1]).toMatchObject({
      predictedPositives: 4,
      truePositives: 3,
      precision: 0.75,
      recall: 1,
    });
    expect(report.prCurve[1]!.f1).toBeCloseTo(6 / 7, 12);
  });

  it('with explicit thresholds the recommendations are chosen among them', () => {
    // F1 at 0.3: 4 / (4 + 0 + 1) = 0.8 < 6/7 at 1.0. Precision >= 0.9 only at 0.3.
    expect(report.recommended.bestF1?.threshold).toBe(1);
    expect(report.recommended.atTargetPrecision?.threshold).toBe(0.3);
  });

  it('histograms distances, ascending', () => {
    const h = evaluateRetrieval({ metric: 'euclidean', queries, histogramBins: 2 }).histogram;
    // [0.2, 2] in 2 bins: edges 0.2, 1.1, 2; relevant 0.2 0.3 1.0 | ; irrelevant 0.5 | 2
    expect(h.edges.map((e) => Number(e.toFixed(10)))).toEqual([0.2, 1.1, 2]);
    expect(h.relevant).toEqual([3, 0]);
    expect(h.irrelevant).toEqual([1, 1]);
  });
});

describe('evaluateRetrieval: ties', () => {
  it('tied scores count as the average over their orders and fall on one side of a threshold', () => {
    // 0.9 R and 0.9 N tie, then 0.5 R; R = 2. Orders R N R and N R R give AP 5/6 and 7/12.
    const report = evaluateRetrieval({
      metric: 'cosine',
      queries: [{ id: 't', relevantTotal: 2, results: cos([0.9, N], [0.9, R], [0.5, R]) }],
      ks: [1],
      thresholds: [0.9],
    });
    expect(report.map).toBeCloseTo(17 / 24, 12);
    expect(report.recallAtK[0]!.value).toBeCloseTo(0.5, 12);
    expect(report.prCurve[0]).toMatchObject({ predictedPositives: 2, truePositives: 1 });
  });
});

describe('evaluateRetrieval: edges', () => {
  it('no queries: zero counts, null means, empty curve and histogram', () => {
    const report = evaluateRetrieval({ metric: 'cosine', queries: [] });
    expect(report.counts).toEqual({
      queries: 0,
      queriesWithRelevant: 0,
      pairs: 0,
      relevantPairs: 0,
      relevantTotal: 0,
      fetched: { min: 0, max: 0 },
    });
    expect(report.map).toBeNull();
    expect(report.mapAtR).toBeNull();
    expect(report.mapAtK).toEqual([
      { k: 1, value: null },
      { k: 5, value: null },
      { k: 10, value: null },
    ]);
    expect(report.prCurve).toEqual([]);
    expect(report.histogram).toEqual({ edges: [], relevant: [], irrelevant: [] });
    expect(report.recommended).toEqual({
      bestF1: null,
      targetPrecision: 0.9,
      atTargetPrecision: null,
    });
    expect(report.sampled).toBeNull();
  });

  it('no query with relevant items: null recall, no recommendation', () => {
    const report = evaluateRetrieval({
      metric: 'cosine',
      queries: [{ id: 'a', relevantTotal: 0, results: cos([0.9, N], [0.4, N]) }],
      thresholds: [0.5],
    });
    expect(report.map).toBeNull();
    expect(report.recallAtK.every((r) => r.value === null)).toBe(true);
    // One false positive, nothing to find: precision 0, recall undefined, F1 = 0 / (0 + 1 + 0) = 0.
    expect(report.prCurve).toEqual([
      {
        threshold: 0.5,
        predictedPositives: 1,
        truePositives: 0,
        precision: 0,
        recall: null,
        f1: 0,
      },
    ]);
    expect(report.recommended.bestF1).toBeNull();
  });

  it('a threshold nothing passes has no precision', () => {
    const report = evaluateRetrieval({ metric: 'cosine', queries: handWorked, thresholds: [0.99] });
    expect(report.prCurve[0]).toMatchObject({
      predictedPositives: 0,
      precision: null,
      recall: 0,
      f1: 0,
    });
  });

  it('one distinct score: a one-point curve and a one-bin histogram', () => {
    const report = evaluateRetrieval({
      metric: 'euclidean',
      queries: [{ id: 'a', relevantTotal: 1, results: l2([0.5, R], [0.5, N]) }],
    });
    expect(report.prCurve).toEqual([
      {
        threshold: 0.5,
        predictedPositives: 2,
        truePositives: 1,
        precision: 0.5,
        recall: 1,
        f1: 2 / 3,
      },
    ]);
    expect(report.histogram.edges).toEqual([0.5, 0.5]);
  });

  it('a query without results has AP 0 when the corpus holds relevant items', () => {
    const report = evaluateRetrieval({
      metric: 'cosine',
      queries: [{ id: 'a', relevantTotal: 4, results: [] }],
    });
    expect(report.map).toBe(0);
    expect(report.counts.fetched).toEqual({ min: 0, max: 0 });
  });

  it('sampled: echoes the sample and gives mAP a standard error', () => {
    // APs 5/6 and 1/3, mean 7/12, deviations ±1/4: s² = 2·(1/16) / 1 = 1/8.
    // SE = √(1/8) / √2 · √(1 - 3/30) = (1/4) · √0.9
    const report = evaluateRetrieval({
      metric: 'cosine',
      queries: handWorked,
      sampled: { population: 30, seed: 42 },
    });
    expect(report.sampled).toMatchObject({ queries: 3, population: 30, fraction: 0.1, seed: 42 });
    expect(report.sampled!.mapStandardError).toBeCloseTo(0.25 * Math.sqrt(0.9), 12);
  });
});

describe('evaluateRetrieval: input checks', () => {
  const base: EvaluationInput = { metric: 'cosine', queries: handWorked };
  const withResult = (result: Partial<RankedResult>): EvaluationInput => ({
    metric: 'cosine',
    queries: [
      {
        id: 'a',
        relevantTotal: 1,
        results: [{ score: 0.5, distance: 0.5, relevant: true, ...result }],
      },
    ],
  });

  it.each<[string, EvaluationInput, RegExp]>([
    [
      'NaN score',
      withResult({ score: NaN }),
      /queries\[0\]\.results\[0\]\.score must be a finite number \(got NaN\)/,
    ],
    [
      'infinite distance',
      withResult({ distance: Infinity }),
      /results\[0\]\.distance must be a finite number/,
    ],
    ['score and distance disagree', withResult({ score: 0.5, distance: 0.2 }), /means score 0.8/],
    [
      'similarity out of range',
      withResult({ score: 1.5, distance: -0.5 }),
      /cosine similarity in \[-1, 1\]/,
    ],
    [
      'relevant not boolean',
      withResult({ relevant: 1 as unknown as boolean }),
      /relevant must be a boolean/,
    ],
    [
      'negative L2',
      {
        metric: 'euclidean',
        queries: [
          { id: 'a', relevantTotal: 0, results: [{ score: 2, distance: -0.5, relevant: false }] },
        ],
      },
      />= 0/,
    ],
    [
      'more relevant results than relevantTotal',
      { metric: 'cosine', queries: [{ id: 'a', relevantTotal: 0, results: cos([0.5, R]) }] },
      /relevantTotal is 0 but 1 of the query's results are marked relevant/,
    ],
    [
      'fractional relevantTotal',
      { metric: 'cosine', queries: [{ id: 'a', relevantTotal: 1.5, results: [] }] },
      /relevantTotal must be an integer >= 0/,
    ],
    [
      'duplicate ids',
      { metric: 'cosine', queries: [handWorked[0]!, handWorked[0]!] },
      /"q1" appears twice/,
    ],
    [
      'unknown metric',
      { ...base, metric: 'dot' as Metric },
      /metric must be "cosine" or "euclidean"/,
    ],
    ['k = 0', { ...base, ks: [1, 0] }, /ks\[1\] must be a positive integer/],
    [
      'too many ks',
      { ...base, ks: Array.from({ length: 101 }, (_, i) => i + 1) },
      /ks may hold at most 100/,
    ],
    [
      'threshold out of range',
      { ...base, thresholds: [0.5, 1.2] },
      /thresholds\[1\] is a minimum cosine similarity/,
    ],
    [
      'NaN threshold',
      { ...base, metric: 'euclidean', queries: [], thresholds: [NaN] },
      /thresholds\[0\] must be a finite number/,
    ],
    [
      'steps = 1',
      { ...base, thresholds: { steps: 1 } },
      /thresholds.steps must be an integer in \[2, 1000\]/,
    ],
    [
      'too many thresholds',
      { ...base, thresholds: new Array<number>(1001).fill(0.5) },
      /at most 1000/,
    ],
    [
      'target precision 0',
      { ...base, targetPrecision: 0 },
      /targetPrecision must be a number in \(0, 1\]/,
    ],
    ['zero bins', { ...base, histogramBins: 0 }, /histogramBins must be an integer in \[1, 1000\]/],
    [
      'population below the sample',
      { ...base, sampled: { population: 2 } },
      /sampled.population must be an integer >= the number of queries \(3\)/,
    ],
  ])('rejects %s', (_name, input, message) => {
    expect(() => evaluateRetrieval(input)).toThrow(SearchInputError);
    expect(() => evaluateRetrieval(input)).toThrow(message);
  });
});

describe('evaluateRetrieval: the sweep agrees with a naive recount (random data)', () => {
  for (const metric of ['cosine', 'euclidean'] as const) {
    it(`${metric}: every curve point and both recommendations`, () => {
      const random = seededRandom(metric === 'cosine' ? 1 : 2);
      for (let trial = 0; trial < 30; trial++) {
        const queries = randomQueries(metric, random);
        const steps = 2 + Math.floor(random() * 60);
        const targetPrecision = 0.3 + random() * 0.7;
        const report = evaluateRetrieval({
          metric,
          queries,
          thresholds: { steps },
          targetPrecision,
        });
        const pairs = queries.flatMap((q) => q.results);
        const relevantTotal = queries.reduce((sum, q) => sum + q.relevantTotal, 0);

        const naive = (threshold: number) => {
          const passing = pairs.filter((p) => passesThreshold(metric, p, threshold));
          const tp = passing.filter((p) => p.relevant).length;
          return {
            predictedPositives: passing.length,
            truePositives: tp,
            precision: passing.length > 0 ? tp / passing.length : null,
            recall: relevantTotal > 0 ? tp / relevantTotal : null,
          };
        };
        for (const point of report.prCurve) expect(point).toMatchObject(naive(point.threshold));

        // The recommendations are exact: recount at every observed value.
        const observed = [
          ...new Set(pairs.map((p) => (metric === 'cosine' ? p.score : p.distance))),
        ];
        // F1 = 2TP / (2TP + FP + FN) = 2TP / (P + Σ relevantTotal)
        const f1s = observed.map((t) => {
          const { truePositives: tp, predictedPositives: pp } = naive(t);
          return pp + relevantTotal > 0 ? (2 * tp) / (pp + relevantTotal) : 0;
        });
        const bestF1 = Math.max(0, ...f1s);
        if (bestF1 > 0) expect(report.recommended.bestF1?.f1).toBeCloseTo(bestF1, 12);
        else expect(report.recommended.bestF1).toBeNull();

        const reaching = observed.filter((t) => (naive(t).precision ?? 0) >= targetPrecision);
        const loosest = reaching.length
          ? metric === 'cosine'
            ? Math.min(...reaching)
            : Math.max(...reaching)
          : null;
        expect(report.recommended.atTargetPrecision?.threshold ?? null).toBe(loosest);
      }
    });
  }
});

function randomQueries(metric: Metric, random: () => number): EvaluationQuery[] {
  const count = Math.floor(random() * 8);
  return Array.from({ length: count }, (_, qi) => {
    const depth = Math.floor(random() * 12);
    const results = Array.from({ length: depth }, (): RankedResult => {
      const relevant = random() < 0.4;
      // Rounded to 2 decimals so ties across and within queries are common; relevant pairs a
      // little closer on average, as with a real model.
      const raw = Math.round((relevant ? 0.3 + random() * 0.7 : random() * 0.8) * 100) / 100;
      if (metric === 'cosine') {
        const score = raw * 2 - 1;
        return { score, distance: 1 - score, relevant };
      }
      const distance = (1 - raw) * 3;
      return { score: toScore('euclidean', distance), distance, relevant };
    });
    const fetchedRelevant = results.filter((r) => r.relevant).length;
    return { id: `q${qi}`, relevantTotal: fetchedRelevant + Math.floor(random() * 3), results };
  });
}
