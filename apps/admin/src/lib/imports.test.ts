import { describe, expect, it } from 'vitest';
import {
  csvLine,
  extensionOf,
  importFormatOf,
  isFinished,
  jobProgress,
  keepRecent,
  RATE_WINDOW_MS,
} from './imports';
import type { IngestJob } from './types';

const START = Date.parse('2026-01-01T00:00:00Z');

function job(p: Partial<IngestJob> = {}): IngestJob {
  return {
    id: 'j1',
    status: 'RUNNING',
    format: 'CSV',
    total: 100,
    done: 0,
    failed: 0,
    images: 0,
    createdAt: '2026-01-01T00:00:00Z',
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: null,
    ...p,
  };
}

describe('importFormatOf', () => {
  it('reads the format from the extension, in any case', () => {
    expect(importFormatOf('catalog.csv')).toBe('CSV');
    expect(importFormatOf('Catalog.CSV')).toBe('CSV');
    expect(importFormatOf('feed.jsonl')).toBe('JSONL');
    expect(importFormatOf('feed.ndjson')).toBe('JSONL');
    expect(importFormatOf('shop.2026-01.zip')).toBe('ZIP');
  });

  it('knows no other extension, and none', () => {
    expect(importFormatOf('catalog.xlsx')).toBeNull();
    expect(importFormatOf('catalog.csv.txt')).toBeNull();
    expect(importFormatOf('catalog')).toBeNull();
    expect(importFormatOf('.csv')).toBeNull();
    expect(extensionOf('catalog.xlsx')).toBe('.xlsx');
    expect(extensionOf('catalog')).toBe('no extension');
  });
});

describe('jobProgress', () => {
  it('measures the rate over the recent samples while running, and the time left at it', () => {
    // 10 rows failed on upload, then 2 rows a second.
    const samples = [
      { at: START + 1000, worked: 10 },
      { at: START + 6000, worked: 20 },
    ];
    const p = jobProgress(job({ done: 10, failed: 10 }), START + 6000, samples);
    expect(p.worked).toBe(20);
    expect(p.fraction).toBeCloseTo(0.2);
    expect(p.elapsedSeconds).toBe(6);
    expect(p.rate).toBeCloseTo(2);
    expect(p.etaSeconds).toBeCloseTo(40);
  });

  it('falls back to the average since the start before two samples, and has no rate before it starts', () => {
    const p = jobProgress(job({ done: 30 }), START + 10_000, [{ at: START, worked: 0 }]);
    expect(p.rate).toBeCloseTo(3);
    expect(p.etaSeconds).toBeCloseTo(70 / 3);
    const queued = jobProgress(job({ status: 'QUEUED', startedAt: null }), START + 5000);
    expect(queued).toMatchObject({ elapsedSeconds: null, rate: null, etaSeconds: null });
  });

  it('once finished: the average over its run, no time left, whatever the clock says', () => {
    const p = jobProgress(
      job({ status: 'COMPLETED', done: 98, failed: 2, finishedAt: '2026-01-01T00:00:20Z' }),
      START + 3_600_000,
    );
    expect(p).toMatchObject({ fraction: 1, elapsedSeconds: 20, rate: 5, etaSeconds: null });
    expect(jobProgress(job({ total: 0, status: 'FAILED' }), START).fraction).toBe(1);
  });

  it('a stalled job has a rate of 0 and no time left to show', () => {
    const samples = [
      { at: START, worked: 5 },
      { at: START + 5000, worked: 5 },
    ];
    const p = jobProgress(job({ done: 5 }), START + 5000, samples);
    expect(p.rate).toBe(0);
    expect(p.etaSeconds).toBeNull();
  });

  it('keeps the samples of the last window, and at least two', () => {
    const samples = [0, 4000, 8000, 12_000, 16_000].map((t) => ({ at: START + t, worked: t }));
    expect(keepRecent(samples).map((s) => s.at - START)).toEqual([8000, 12_000, 16_000]);
    const sparse = [
      { at: START, worked: 0 },
      { at: START + RATE_WINDOW_MS * 3, worked: 9 },
    ];
    expect(keepRecent(sparse)).toEqual(sparse);
    expect(keepRecent([])).toEqual([]);
  });

  it('knows which statuses are final', () => {
    expect(['QUEUED', 'RUNNING'].map((s) => isFinished(s as IngestJob['status']))).toEqual([
      false,
      false,
    ]);
    expect(isFinished('COMPLETED') && isFinished('FAILED') && isFinished('CANCELLED')).toBe(true);
  });
});

describe('csvLine', () => {
  it('quotes fields with commas, quotes and line breaks; empty for null', () => {
    expect(csvLine([3, 'SKU-1', 'FETCH_FAILED', 'plain reason'])).toBe(
      '3,SKU-1,FETCH_FAILED,plain reason\n',
    );
    expect(csvLine([4, null, 'INVALID_ROW', 'title: "" is empty, give one\nor two'])).toBe(
      '4,,INVALID_ROW,"title: """" is empty, give one\nor two"\n',
    );
  });
});
