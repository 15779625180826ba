import { describe, expect, it } from 'vitest';
import * as search from './index.js';

describe('public API', () => {
  it('exports exactly the documented runtime names', () => {
    // A change here is a change to what the API, SDK and dashboard depend on: update README.md.
    expect(Object.keys(search).sort()).toEqual(
      [
        'DEFAULT_HISTOGRAM_BINS',
        'DEFAULT_KS',
        'DEFAULT_STEPS',
        'DEFAULT_TARGET_PRECISION',
        'EXACT_DISTANCE',
        'MAX_CURVE_POINTS',
        'METRICS',
        'SearchInputError',
        'assertThreshold',
        'cosineSimilarity',
        'dot',
        'euclideanDistance',
        'evaluateRetrieval',
        'isLooserThreshold',
        'l2Normalize',
        'measure',
        'norm',
        'passesThreshold',
        'seededRandom',
        'toDistance',
        'toScore',
        'validateThreshold',
        'validateThresholds',
        'verdict',
      ].sort(),
    );
  });

  it('works end to end through the entry point', () => {
    const a = search.l2Normalize([3, 4]);
    const b = search.l2Normalize([4, 3]);
    const similarity = search.measure('cosine', a, b); // 0.96 up to float32 rounding
    expect(similarity.score).toBeCloseTo(0.96, 6);
    expect(
      search.verdict({
        metric: 'cosine',
        ...similarity,
        searchThreshold: 0.5,
        matchThreshold: 0.95,
      }),
    ).toBe('MATCH');
  });
});
