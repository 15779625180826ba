import { describe, expect, it } from 'vitest';
import { SearchInputError } from './errors.js';
import {
  assertThreshold,
  isLooserThreshold,
  measure,
  passesThreshold,
  toDistance,
  toScore,
  validateThreshold,
  validateThresholds,
} from './metric.js';

function caught(fn: () => void): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('toScore / toDistance', () => {
  it('cosine: score = 1 - distance', () => {
    expect(toScore('cosine', 0)).toBe(1);
    expect(toScore('cosine', 1)).toBe(0);
    expect(toScore('cosine', 2)).toBe(-1);
    expect(toScore('cosine', 0.25)).toBe(0.75);
    expect(toDistance('cosine', 0.75)).toBe(0.25);
    expect(toDistance('cosine', -1)).toBe(2);
  });

  it('euclidean: score = 1 / (1 + distance), distance = 1 / score - 1', () => {
    expect(toScore('euclidean', 0)).toBe(1);
    expect(toScore('euclidean', 1)).toBe(0.5);
    expect(toScore('euclidean', 3)).toBe(0.25);
    expect(toDistance('euclidean', 0.25)).toBe(3);
    expect(toDistance('euclidean', 1)).toBe(0);
  });

  it('clamps values a rounding error out of range, rejects values further out', () => {
    expect(toScore('cosine', -1e-9)).toBe(1);
    expect(toDistance('cosine', 1 + 1e-9)).toBe(0);
    expect(() => toScore('cosine', 2.5)).toThrow(/cosine distance in \[0, 2\] \(got 2.5\)/);
    expect(() => toDistance('cosine', 1.01)).toThrow(/cosine similarity in \[-1, 1\]/);
    expect(() => toScore('euclidean', -0.1)).toThrow(/>= 0/);
    expect(() => toDistance('euclidean', 0)).toThrow(/\(0, 1\]/);
    expect(() => toDistance('euclidean', 1.5)).toThrow(/\(0, 1\]/);
  });

  it('rejects NaN, Infinity and unknown metrics', () => {
    expect(() => toScore('cosine', NaN)).toThrow(/distance must be a finite number \(got NaN\)/);
    expect(() => toDistance('euclidean', Infinity)).toThrow(SearchInputError);
    expect(() => toScore('manhattan' as 'cosine', 1)).toThrow(
      /metric must be "cosine" or "euclidean"/,
    );
  });
});

describe('measure', () => {
  it('cosine of [1,0] and [0,1]: score 0, distance 1', () => {
    expect(measure('cosine', [1, 0], [0, 1])).toEqual({ score: 0, distance: 1 });
  });

  it('cosine of [3,4] and [4,3]: score 24/25 = 0.96, distance 0.04', () => {
    const { score, distance } = measure('cosine', [3, 4], [4, 3]);
    expect(score).toBeCloseTo(0.96, 15);
    expect(distance).toBeCloseTo(0.04, 15);
  });

  it('euclidean of [0,0] and [3,4]: distance 5, score 1/6', () => {
    expect(measure('euclidean', [0, 0], [3, 4])).toEqual({ distance: 5, score: 1 / 6 });
  });

  it('euclidean of [1,0] and [0,1]: distance √2, score 1/(1+√2)', () => {
    const { score, distance } = measure('euclidean', [1, 0], [0, 1]);
    expect(distance).toBeCloseTo(Math.SQRT2, 15);
    expect(score).toBeCloseTo(Math.SQRT2 - 1, 15); // 1/(1+√2) = √2 - 1
  });
});

describe('passesThreshold', () => {
  it('cosine: passes when score >= threshold, boundary included', () => {
    expect(passesThreshold('cosine', { score: 0.8, distance: 0.2 }, 0.8)).toBe(true);
    expect(passesThreshold('cosine', { score: 0.7999, distance: 0.2001 }, 0.8)).toBe(false);
    expect(passesThreshold('cosine', { score: -0.5, distance: 1.5 }, -1)).toBe(true);
  });

  it('euclidean: passes when distance <= threshold, boundary included', () => {
    expect(passesThreshold('euclidean', { score: 0.5, distance: 1 }, 1)).toBe(true);
    expect(passesThreshold('euclidean', { score: 1 / 2.0001, distance: 1.0001 }, 1)).toBe(false);
    expect(passesThreshold('euclidean', { score: 1, distance: 0 }, 0)).toBe(true);
  });

  it('reads only the native quantity', () => {
    // A nonsense score must not affect a Euclidean decision, nor a distance a cosine one.
    expect(passesThreshold('euclidean', { score: 0, distance: 0.3 }, 0.5)).toBe(true);
    expect(passesThreshold('cosine', { score: 0.9, distance: 99 }, 0.5)).toBe(true);
  });

  it('rejects invalid thresholds and NaN similarities', () => {
    expect(() => passesThreshold('cosine', { score: 0.5, distance: 0.5 }, 1.5)).toThrow(
      /\[-1, 1\]/,
    );
    expect(() => passesThreshold('euclidean', { score: 1, distance: 0 }, -1)).toThrow(/>= 0/);
    expect(() => passesThreshold('cosine', { score: NaN, distance: 0 }, 0.5)).toThrow(/score/);
  });
});

describe('threshold validation', () => {
  it('accepts the documented ranges, boundaries included', () => {
    for (const t of [-1, 0, 0.5, 1]) expect(validateThreshold('cosine', t)).toBeNull();
    for (const t of [0, 0.5, 7, 1e6]) expect(validateThreshold('euclidean', t)).toBeNull();
  });

  it('explains what is wrong, naming the field', () => {
    expect(validateThreshold('cosine', 1.2, 'matchThreshold')).toEqual({
      field: 'matchThreshold',
      message: 'matchThreshold is a minimum cosine similarity and must lie in [-1, 1] (got 1.2)',
    });
    expect(validateThreshold('euclidean', -0.5)?.message).toBe(
      'threshold is a maximum Euclidean distance and must be >= 0 (got -0.5)',
    );
    expect(validateThreshold('cosine', NaN)?.message).toBe(
      'threshold must be a finite number (got NaN)',
    );
    expect(validateThreshold('euclidean', Infinity)?.message).toMatch(/finite/);
    expect(validateThreshold('cosine', '0.5' as unknown as number)?.message).toMatch(/got "0.5"/);
  });

  it('assertThreshold throws a SearchInputError carrying the field', () => {
    const error = caught(() => {
      assertThreshold('cosine', 2, 'searchThreshold');
    });
    expect(error).toBeInstanceOf(SearchInputError);
    expect((error as SearchInputError).field).toBe('searchThreshold');
    expect(() => {
      assertThreshold('euclidean', 2);
    }).not.toThrow();
  });

  it('validateThresholds wants matchThreshold at least as strict as searchThreshold', () => {
    expect(validateThresholds('cosine', { searchThreshold: 0.6, matchThreshold: 0.85 })).toBeNull();
    expect(validateThresholds('cosine', { searchThreshold: 0.6, matchThreshold: 0.6 })).toBeNull();
    expect(
      validateThresholds('cosine', { searchThreshold: 0.8, matchThreshold: 0.7 }),
    ).toMatchObject({
      field: 'matchThreshold',
      message: expect.stringMatching(/must be >= searchThreshold/) as unknown,
    });
    expect(
      validateThresholds('euclidean', { searchThreshold: 1.2, matchThreshold: 0.4 }),
    ).toBeNull();
    expect(
      validateThresholds('euclidean', { searchThreshold: 0.4, matchThreshold: 1.2 }),
    ).toMatchObject({
      field: 'matchThreshold',
      message: expect.stringMatching(/must be <= searchThreshold/) as unknown,
    });
    expect(validateThresholds('cosine', { searchThreshold: 3, matchThreshold: 0.9 })?.field).toBe(
      'searchThreshold',
    );
  });
});

describe('isLooserThreshold', () => {
  it('cosine: a lower minimum similarity is looser', () => {
    expect(isLooserThreshold('cosine', 0.5, 0.8)).toBe(true);
    expect(isLooserThreshold('cosine', 0.8, 0.5)).toBe(false);
    expect(isLooserThreshold('cosine', 0.5, 0.5)).toBe(false);
  });

  it('euclidean: a higher maximum distance is looser', () => {
    expect(isLooserThreshold('euclidean', 1.5, 0.5)).toBe(true);
    expect(isLooserThreshold('euclidean', 0.5, 1.5)).toBe(false);
    expect(isLooserThreshold('euclidean', 1, 1)).toBe(false);
  });

  it('validates both thresholds', () => {
    expect(() => isLooserThreshold('cosine', 0.5, 2)).toThrow(/b is a minimum cosine similarity/);
  });
});
