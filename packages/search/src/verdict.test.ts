import { describe, expect, it } from 'vitest';
import { toScore } from './metric.js';
import { EXACT_DISTANCE, verdict, type VerdictInput } from './verdict.js';

/** A cosine result at similarity `score`, with search 0.6 and match 0.85. */
function cosine(score: number, extra: Partial<VerdictInput> = {}): VerdictInput {
  return {
    metric: 'cosine',
    score,
    distance: 1 - score,
    searchThreshold: 0.6,
    matchThreshold: 0.85,
    ...extra,
  };
}

/** A Euclidean result at `distance`, with search 1.0 and match 0.4. */
function euclidean(distance: number, extra: Partial<VerdictInput> = {}): VerdictInput {
  return {
    metric: 'euclidean',
    score: toScore('euclidean', distance),
    distance,
    searchThreshold: 1,
    matchThreshold: 0.4,
    ...extra,
  };
}

describe('verdict, cosine (minimum similarity)', () => {
  it('labels each band, thresholds inclusive', () => {
    expect(verdict(cosine(1))).toBe('EXACT'); // distance 0
    expect(verdict(cosine(0.95))).toBe('MATCH');
    expect(verdict(cosine(0.85))).toBe('MATCH'); // exactly the match threshold
    expect(verdict(cosine(0.8499))).toBe('SIMILAR');
    expect(verdict(cosine(0.6))).toBe('SIMILAR'); // exactly the search threshold
    expect(verdict(cosine(0.5999))).toBeNull();
    expect(verdict(cosine(-1))).toBeNull();
  });

  it('EXACT up to a cosine distance of 1e-6, MATCH beyond', () => {
    expect(EXACT_DISTANCE.cosine).toBe(1e-6);
    expect(verdict({ ...cosine(1 - 1e-6), distance: 1e-6 })).toBe('EXACT');
    expect(verdict({ ...cosine(1 - 2e-6), distance: 2e-6 })).toBe('MATCH');
  });

  it('EXACT for the same content hash whatever the distance', () => {
    expect(verdict(cosine(0.7, { sameContent: true }))).toBe('EXACT');
    expect(verdict(cosine(0.7, { sameContent: false }))).toBe('SIMILAR');
  });

  it('MATCH needs the search threshold too when the match threshold is (wrongly) looser', () => {
    const misconfigured = { searchThreshold: 0.8, matchThreshold: 0.5 };
    expect(verdict(cosine(0.7, misconfigured))).toBeNull();
    expect(verdict(cosine(0.9, misconfigured))).toBe('MATCH');
  });
});

describe('verdict, euclidean (maximum distance)', () => {
  it('labels each band, thresholds inclusive', () => {
    expect(verdict(euclidean(0))).toBe('EXACT');
    expect(verdict(euclidean(0.2))).toBe('MATCH');
    expect(verdict(euclidean(0.4))).toBe('MATCH'); // exactly the match threshold
    expect(verdict(euclidean(0.4001))).toBe('SIMILAR');
    expect(verdict(euclidean(1))).toBe('SIMILAR'); // exactly the search threshold
    expect(verdict(euclidean(1.0001))).toBeNull();
  });

  it('EXACT up to an L2 distance of 1e-3, or a custom exactDistance', () => {
    expect(verdict(euclidean(1e-3))).toBe('EXACT');
    expect(verdict(euclidean(1.1e-3))).toBe('MATCH');
    expect(verdict(euclidean(0.01, { exactDistance: 0.05 }))).toBe('EXACT');
    expect(verdict(euclidean(0, { exactDistance: 0 }))).toBe('EXACT');
  });
});

describe('verdict input checks', () => {
  it('rejects invalid thresholds per metric', () => {
    expect(() => verdict(cosine(0.9, { searchThreshold: 1.5 }))).toThrow(
      /searchThreshold is a minimum cosine/,
    );
    expect(() => verdict(euclidean(0.9, { matchThreshold: -1 }))).toThrow(
      /matchThreshold is a maximum Euclidean/,
    );
  });

  it('rejects NaN scores, distances and epsilons', () => {
    expect(() => verdict({ ...cosine(0.9), distance: NaN })).toThrow(
      /distance must be a finite number/,
    );
    expect(() => verdict({ ...euclidean(0.5), score: Infinity })).toThrow(
      /score must be a finite number/,
    );
    expect(() => verdict(euclidean(0.5, { exactDistance: -1 }))).toThrow(/exactDistance/);
  });
});
