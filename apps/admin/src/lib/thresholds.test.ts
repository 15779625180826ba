import { describe, expect, it } from 'vitest';
import {
  cutHits,
  dryRun,
  nearestPoint,
  savedThresholds,
  sliderRange,
  thresholdProblem,
  thresholdsFor,
  type SampleQuery,
} from './thresholds';
import type { Hit, PrPoint, SearchSettings } from './types';

const hit = (
  id: string,
  score: number,
  distance: number,
  verdict: Hit['verdict'] = 'SIMILAR',
): Hit => ({
  productId: id,
  externalId: id,
  title: id,
  category: null,
  sha256: id.padEnd(64, '0'),
  score,
  distance,
  verdict,
});
const cos = (id: string, s: number, v?: Hit['verdict']) => hit(id, s, 1 - s, v);
const l2 = (id: string, d: number) => hit(id, 1 / (1 + d), d);

describe('cutHits', () => {
  const hits = [cos('a', 1, 'EXACT'), cos('b', 0.9), cos('c', 0.8), cos('d', 0.5)];

  it('keeps cosine hits at or above the minimum similarity, inclusive, and judges them', () => {
    const cut = cutHits(hits, { metric: 'COSINE', searchThreshold: 0.8, matchThreshold: 0.9 });
    expect(cut.map((h) => [h.productId, h.kept, h.judged])).toEqual([
      ['a', true, 'EXACT'],
      ['b', true, 'MATCH'],
      ['c', true, 'SIMILAR'],
      ['d', false, null],
    ]);
  });

  it('keeps euclidean hits at or below the maximum distance', () => {
    const cut = cutHits([l2('a', 0.2), l2('b', 0.7), l2('c', 1.3)], {
      metric: 'EUCLIDEAN',
      searchThreshold: 0.7,
      matchThreshold: 0.3,
    });
    expect(cut.map((h) => h.judged)).toEqual(['MATCH', 'SIMILAR', null]);
  });

  it('cuts even an EXACT hit the threshold excludes (the API would not return it)', () => {
    const cut = cutHits([cos('a', 0.9999995, 'EXACT')], {
      metric: 'COSINE',
      searchThreshold: 1,
      matchThreshold: 1,
    });
    expect(cut[0]?.kept).toBe(false);
  });
});

describe('thresholdProblem', () => {
  it('rejects a match threshold looser than the search threshold, on each scale', () => {
    expect(
      thresholdProblem({ metric: 'COSINE', searchThreshold: 0.8, matchThreshold: 0.7 }),
    ).toMatch(/matchThreshold/);
    expect(
      thresholdProblem({ metric: 'COSINE', searchThreshold: 0.7, matchThreshold: 0.8 }),
    ).toBeNull();
    expect(
      thresholdProblem({ metric: 'EUCLIDEAN', searchThreshold: 0.5, matchThreshold: 0.9 }),
    ).toMatch(/matchThreshold/);
    expect(
      thresholdProblem({ metric: 'EUCLIDEAN', searchThreshold: -1, matchThreshold: 0 }),
    ).toMatch(/searchThreshold/);
  });
});

describe('thresholdsFor', () => {
  const settings: SearchSettings = {
    model: 'fashion-resnet-v1',
    metric: 'COSINE',
    searchThreshold: 0.6,
    matchThreshold: 0.85,
    topK: 10,
    usingModelDefaults: false,
    updatedAt: null,
  };
  const defaults = [
    { metric: 'COSINE' as const, searchThreshold: 0.5, matchThreshold: 0.8 },
    { metric: 'EUCLIDEAN' as const, searchThreshold: 0.9, matchThreshold: 0.5 },
  ];
  it('uses saved values for the saved metric and model defaults for the other', () => {
    expect(thresholdsFor('COSINE', settings, defaults)).toEqual({
      metric: 'COSINE',
      searchThreshold: 0.6,
      matchThreshold: 0.85,
    });
    expect(thresholdsFor('EUCLIDEAN', settings, defaults)).toEqual({
      metric: 'EUCLIDEAN',
      searchThreshold: 0.9,
      matchThreshold: 0.5,
    });
  });

  it('savedThresholds gives the same for every metric, keyed by metric', () => {
    expect(savedThresholds(settings, defaults)).toEqual({
      COSINE: { metric: 'COSINE', searchThreshold: 0.6, matchThreshold: 0.85 },
      EUCLIDEAN: { metric: 'EUCLIDEAN', searchThreshold: 0.9, matchThreshold: 0.5 },
    });
    expect(savedThresholds({ ...settings, metric: 'EUCLIDEAN' }, [])).toEqual({
      COSINE: { metric: 'COSINE', searchThreshold: -1, matchThreshold: 0.99 },
      EUCLIDEAN: { metric: 'EUCLIDEAN', searchThreshold: 0.6, matchThreshold: 0.85 },
    });
  });
});

describe('sliderRange', () => {
  it('spans the hits and the given thresholds on each scale', () => {
    expect(sliderRange('COSINE', [cos('a', 0.93), cos('b', 0.412)], 0.6)).toEqual({
      min: 0.41,
      max: 1,
      step: 0.001,
    });
    expect(sliderRange('EUCLIDEAN', [l2('a', 0.1), l2('b', 1.234)], 0.5).max).toBe(1.24);
  });
});

describe('dryRun', () => {
  const q: SampleQuery = {
    label: 'q1',
    hits: {
      COSINE: [cos('a', 1, 'EXACT'), cos('b', 0.9), cos('c', 0.7), cos('d', 0.4)],
      EUCLIDEAN: [l2('a', 0), l2('c', 0.5), l2('b', 0.6), l2('d', 1.2)],
    },
  };

  it('counts results added and dropped when a threshold moves', () => {
    const run = dryRun(
      [q],
      { metric: 'COSINE', searchThreshold: 0.8, matchThreshold: 0.95 },
      { metric: 'COSINE', searchThreshold: 0.6, matchThreshold: 0.85 },
    );
    expect(run).toMatchObject({
      added: 1,
      dropped: 0,
      resultsBefore: 2,
      resultsAfter: 3,
      matchesAdded: 1,
      matchesDropped: 0,
      capped: false,
    });
  });

  it('compares sets across metrics, so a swap shows as one added and one dropped', () => {
    const run = dryRun(
      [q],
      { metric: 'COSINE', searchThreshold: 0.8, matchThreshold: 1 },
      { metric: 'EUCLIDEAN', searchThreshold: 0.55, matchThreshold: 0.1 },
    );
    // cosine keeps a, b; euclidean keeps a, c.
    expect(run).toMatchObject({ added: 1, dropped: 1, resultsBefore: 2, resultsAfter: 2 });
    expect(run.queries[0]).toMatchObject({
      label: 'q1',
      before: 2,
      after: 2,
      added: 1,
      dropped: 1,
    });
  });

  it('flags a query whose fetched hits all pass at the API cap: more may lie beyond', () => {
    const many: SampleQuery = {
      label: 'big',
      hits: {
        COSINE: Array.from({ length: 100 }, (_, i) => cos(`p${i}`, 0.99 - i / 1000)),
        EUCLIDEAN: [],
      },
    };
    expect(
      dryRun(
        [many],
        { metric: 'COSINE', searchThreshold: 0.95, matchThreshold: 0.99 },
        { metric: 'COSINE', searchThreshold: 0.5, matchThreshold: 0.99 },
      ).capped,
    ).toBe(true);
    expect(
      dryRun(
        [many],
        { metric: 'COSINE', searchThreshold: 0.95, matchThreshold: 0.99 },
        { metric: 'COSINE', searchThreshold: 0.96, matchThreshold: 0.99 },
      ).capped,
    ).toBe(false);
  });
});

describe('nearestPoint', () => {
  const point = (threshold: number): PrPoint => ({
    threshold,
    precision: 1,
    recall: 0,
    f1: 0,
    predictedPositives: 0,
    truePositives: 0,
  });
  it('finds the closest curve point to a threshold', () => {
    const curve = [0.9, 0.8, 0.7].map(point);
    expect(nearestPoint(curve, 0.81)).toBe(1);
    expect(nearestPoint(curve, 0.2)).toBe(2);
    expect(nearestPoint(curve, 0.9)).toBe(0);
  });
});
