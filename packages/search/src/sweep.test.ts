import { describe, expect, it } from 'vitest';
import { buildSweep, pointAtKey, prPoint, recommend } from './sweep.js';

describe('prPoint', () => {
  it('precision, recall and F1 from counts', () => {
    // P = 4, TP = 3, Σ relevantTotal = 6: precision 3/4, recall 1/2, F1 = 6 / (6 + 1 + 3) = 3/5
    expect(prPoint(0.5, 4, 3, 6)).toEqual({
      threshold: 0.5,
      predictedPositives: 4,
      truePositives: 3,
      precision: 0.75,
      recall: 0.5,
      f1: 0.6,
    });
    expect(prPoint(0.5, 0, 0, 0)).toMatchObject({ precision: null, recall: null, f1: null });
  });
});

describe('buildSweep / pointAtKey', () => {
  it('counts pairs at or below a key, ties together', () => {
    const sweep = buildSweep(
      [
        { key: 0.1, relevant: true },
        { key: 0.2, relevant: false },
        { key: 0.2, relevant: true },
        { key: 0.7, relevant: false },
      ],
      3,
    );
    expect(sweep.keys).toEqual([0.1, 0.2, 0.7]);
    expect(sweep.predicted).toEqual([1, 3, 4]);
    expect(sweep.truePositives).toEqual([1, 2, 2]);
    expect(pointAtKey(sweep, 0.05, 0.05).predictedPositives).toBe(0);
    expect(pointAtKey(sweep, 0.2, 0.2)).toMatchObject({ predictedPositives: 3, truePositives: 2 });
    expect(pointAtKey(sweep, 0.5, 0.5)).toMatchObject({ predictedPositives: 3, truePositives: 2 });
    expect(pointAtKey(sweep, 9, 9)).toMatchObject({ predictedPositives: 4, truePositives: 2 });
  });
});

describe('recommend', () => {
  it('on equal F1 keeps the stricter threshold; for precision the loosest that reaches it', () => {
    // Candidates strict to loose. F1: 2/3 at both 0.9 and 0.7 (P=2,TP=2,R=4 and P=8,TP=4,R=4).
    const strict = prPoint(0.9, 2, 2, 4);
    const middle = prPoint(0.8, 4, 2, 4);
    const loose = prPoint(0.7, 8, 4, 4);
    expect(strict.f1).toBeCloseTo(2 / 3, 15);
    expect(loose.f1).toBeCloseTo(2 / 3, 15);
    const { bestF1, atTargetPrecision } = recommend([strict, middle, loose], 0.5);
    expect(bestF1?.threshold).toBe(0.9);
    // Precision 1, 1/2, 1/2: the loosest with >= 1/2 is 0.7.
    expect(atTargetPrecision?.threshold).toBe(0.7);
    expect(recommend([middle], 0.75).atTargetPrecision).toBeNull();
  });
});
