import { describe, expect, it } from 'vitest';
import { choicesFor, previousModel, thresholdsOf } from './models';
import type { EmbeddingModel, SearchSettings } from './types';

function model(
  p: Partial<EmbeddingModel> & Pick<EmbeddingModel, 'key' | 'status'>,
): EmbeddingModel {
  return {
    dims: 48,
    loaded: true,
    executionProvider: 'cpu',
    activatedAt: null,
    coverage: { total: 10, embedded: 10, failed: 0, fraction: 1 },
    activateWhenReady: false,
    defaultsMeasured: true,
    reindex: null,
    defaults: [
      { metric: 'COSINE', searchThreshold: 0.9, matchThreshold: 0.97 },
      { metric: 'EUCLIDEAN', searchThreshold: 0.4, matchThreshold: 0.2 },
    ],
    ...p,
  };
}

const partial = { total: 10, embedded: 4, failed: 1, fraction: 0.4 };
const running = {
  running: true,
  startedAt: '2026-01-01T00:00:00Z',
  finishedAt: null,
  done: 4,
  remaining: 5,
  rate: 2,
  etaSeconds: 2.5,
};

describe('choicesFor', () => {
  it('offers a re-index to a model without vectors, and nothing else', () => {
    expect(choicesFor(model({ key: 'm', status: 'AVAILABLE' }))).toEqual({
      reindex: 'start',
      switch: null,
      retire: false,
    });
    expect(choicesFor(model({ key: 'm', status: 'RETIRED' })).reindex).toBe('start');
  });

  it('switches instantly at full coverage, and only by force below it', () => {
    expect(choicesFor(model({ key: 'm', status: 'READY' }))).toEqual({
      reindex: null,
      switch: 'instant',
      retire: true,
    });
    expect(
      choicesFor(model({ key: 'm', status: 'BACKFILLING', coverage: partial, reindex: running })),
    ).toEqual({ reindex: null, switch: 'forced', retire: true });
  });

  it('resumes a stopped re-index and retries the gaps of a kept model', () => {
    const stopped = { ...running, running: false };
    expect(
      choicesFor(model({ key: 'm', status: 'BACKFILLING', coverage: partial, reindex: stopped }))
        .reindex,
    ).toBe('resume');
    expect(choicesFor(model({ key: 'm', status: 'ACTIVE', coverage: partial })).reindex).toBe(
      'gaps',
    );
  });

  it('neither switches to nor retires the serving model, and needs a loaded model to work', () => {
    expect(choicesFor(model({ key: 'm', status: 'ACTIVE' }))).toEqual({
      reindex: null,
      switch: null,
      retire: false,
    });
    expect(choicesFor(model({ key: 'm', status: 'READY', loaded: false }))).toEqual({
      reindex: null,
      switch: null,
      retire: true,
    });
  });
});

describe('previousModel', () => {
  it('is the READY model that served last', () => {
    const models = [
      model({ key: 'now', status: 'ACTIVE', activatedAt: '2026-01-03T00:00:00Z' }),
      model({ key: 'older', status: 'READY', activatedAt: '2026-01-01T00:00:00Z' }),
      model({ key: 'last', status: 'READY', activatedAt: '2026-01-02T00:00:00Z' }),
      model({ key: 'never', status: 'READY' }),
      model({ key: 'gone', status: 'RETIRED', activatedAt: '2026-01-02T12:00:00Z' }),
    ];
    expect(previousModel(models)?.key).toBe('last');
    expect(previousModel(models.slice(0, 1))).toBeNull();
  });
});

describe('thresholdsOf', () => {
  const settings = (p: Partial<SearchSettings>): SearchSettings => ({
    model: 'm',
    metric: 'COSINE',
    searchThreshold: 0.9,
    matchThreshold: 0.97,
    topK: 10,
    usingModelDefaults: true,
    updatedAt: null,
    ...p,
  });
  const serving = settings({
    model: 'serving',
    metric: 'EUCLIDEAN',
    searchThreshold: 0.8,
    matchThreshold: 0.3,
    usingModelDefaults: false,
    updatedAt: '2026-01-01T00:00:00Z',
  });

  it("reads a model's own settings once it has them", () => {
    const own = settings({
      metric: 'COSINE',
      searchThreshold: 0.8,
      matchThreshold: 0.95,
      usingModelDefaults: false,
      updatedAt: '2026-01-02T00:00:00Z',
    });
    expect(thresholdsOf(model({ key: 'm', status: 'READY' }), own, serving)).toEqual({
      metric: 'COSINE',
      searchThreshold: 0.8,
      matchThreshold: 0.95,
      source: 'saved',
      inherited: false,
    });
  });

  it("starts a model without settings on the serving metric with its manifest's defaults", () => {
    expect(thresholdsOf(model({ key: 'm', status: 'READY' }), settings({}), serving)).toEqual({
      metric: 'EUCLIDEAN',
      searchThreshold: 0.4,
      matchThreshold: 0.2,
      source: 'defaults',
      inherited: true,
    });
  });
});
