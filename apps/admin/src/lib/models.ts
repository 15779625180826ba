// The Models page's reading of embeddingModels: what each model can do next, which one to switch
// back to, and the thresholds a model searches with once it serves.
import type { EmbeddingModel, SearchSettings, SimilarityMetric } from './types';

/** Every READY image of the merchant has a vector of this model. */
export function isComplete(model: EmbeddingModel): boolean {
  return model.coverage.embedded >= model.coverage.total;
}

/** The images this model has no vector of (not yet, or it failed on them). */
export function missingImages(model: EmbeddingModel): number {
  return Math.max(0, model.coverage.total - model.coverage.embedded);
}

export type ReindexChoice = 'start' | 'resume' | 'gaps';
export type SwitchChoice = 'instant' | 'forced';

export interface ModelChoices {
  /** start: a model not (or no longer) kept; resume: a re-index that stopped; gaps: retry the images it lacks. */
  reindex: ReindexChoice | null;
  /** instant: it covers the catalog; forced: it does not yet, and the switch must say so. */
  switch: SwitchChoice | null;
  retire: boolean;
}

/**
 * What the API accepts for this model now. Re-indexing and switching need the model loaded by
 * the API; the serving model can be neither switched to nor retired; a model the merchant never
 * used (AVAILABLE) or retired has no vectors to switch to.
 */
export function choicesFor(model: EmbeddingModel): ModelChoices {
  const running = model.reindex?.running ?? false;
  let reindex: ReindexChoice | null = null;
  if (model.loaded && !running) {
    if (model.status === 'AVAILABLE' || model.status === 'RETIRED') reindex = 'start';
    else if (model.status === 'BACKFILLING') reindex = 'resume';
    else if (!isComplete(model)) reindex = 'gaps';
  }
  const switchable = model.loaded && (model.status === 'READY' || model.status === 'BACKFILLING');
  return {
    reindex,
    switch: switchable ? (isComplete(model) ? 'instant' : 'forced') : null,
    retire: model.status === 'READY' || model.status === 'BACKFILLING',
  };
}

/**
 * The model to switch back to: of the READY ones (kept in sync, so the switch is instant), the
 * one that served last. Null when none has served.
 */
export function previousModel(models: readonly EmbeddingModel[]): EmbeddingModel | null {
  const candidates = models.filter((m) => m.status === 'READY' && m.loaded && m.activatedAt);
  candidates.sort((a, b) => (b.activatedAt ?? '').localeCompare(a.activatedAt ?? ''));
  return candidates[0] ?? null;
}

export interface ModelThresholds {
  metric: SimilarityMetric;
  searchThreshold: number;
  matchThreshold: number;
  /** saved: both thresholds were saved for this model; defaults: (some) from its manifest. */
  source: 'saved' | 'defaults';
  /** True for a model that has no settings yet: it takes the serving model's metric at the switch. */
  inherited: boolean;
}

/**
 * The thresholds a model searches with: the serving model's settings, or another model's own
 * (its searchSettings(model:)). A model the merchant has no settings for yet (never saved,
 * updatedAt null) starts, once switched to, on the serving model's metric with its own manifest
 * defaults for that metric: the API copies the metric and page size at the switch. Its
 * searchSettings(model:) shows the API's default metric until then, so that case is read from
 * the manifest defaults here.
 */
export function thresholdsOf(
  model: EmbeddingModel,
  settings: SearchSettings | null,
  serving: SearchSettings | null,
): ModelThresholds | null {
  const own = settings && (model.status === 'ACTIVE' || settings.updatedAt !== null);
  if (settings && own)
    return {
      metric: settings.metric,
      searchThreshold: settings.searchThreshold,
      matchThreshold: settings.matchThreshold,
      source: settings.usingModelDefaults ? 'defaults' : 'saved',
      inherited: false,
    };
  const metric = serving?.metric ?? settings?.metric ?? 'COSINE';
  const d = model.defaults.find((x) => x.metric === metric);
  if (!d) return null;
  return {
    metric,
    searchThreshold: d.searchThreshold,
    matchThreshold: d.matchThreshold,
    source: 'defaults',
    inherited: serving !== null,
  };
}
