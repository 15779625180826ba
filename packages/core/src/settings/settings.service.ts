import {
  DEFAULT_SEARCH_SETTINGS,
  MAX_TOP_K,
  type Db,
  type Metric,
  type SearchSettingsRecord,
} from '@lookalike/db';
import { validateThresholds } from '@lookalike/search';
import { badInput } from '../errors.js';
import type { ModelRegistry } from '../models/model-registry.js';
import type { ServingModels } from './serving.js';

/** The most results one page or search returns (and the largest topK): the database's own bound. */
export const MAX_FIRST = MAX_TOP_K;

/** What a search applies: the model and its thresholds for one metric. */
export interface EffectiveSettings {
  model: string;
  dims: number;
  metric: Metric;
  searchThreshold: number;
  matchThreshold: number;
  topK: number;
}

/** A merchant's settings for one model, as shown to the merchant. */
export interface SearchSettings {
  model: string;
  metric: Metric;
  searchThreshold: number;
  matchThreshold: number;
  topK: number;
  /** True while a threshold is the model's recommended default rather than a saved value. */
  usingModelDefaults: boolean;
  updatedAt: Date | null;
}

export interface SearchSettingsInput {
  metric?: Metric;
  /** Null resets to the model's default. */
  searchThreshold?: number | null;
  matchThreshold?: number | null;
  topK?: number;
}

/**
 * Search settings per merchant and model, with the model's measured defaults filled in: a
 * merchant who never tuned anything gets the thresholds recommended in the model's manifest.
 */
export class SettingsService {
  constructor(
    private readonly db: Db,
    private readonly registry: ModelRegistry,
    private readonly serving: ServingModels,
  ) {}

  private effective(
    model: string,
    stored: SearchSettingsRecord,
    metric: Metric,
  ): Omit<EffectiveSettings, 'dims'> {
    // Stored thresholds are on the stored metric's scale; for another metric use its defaults.
    const defaults = this.registry.defaults(model, metric);
    const own = stored.metric === metric;
    return {
      model,
      metric,
      searchThreshold: (own ? stored.searchThreshold : null) ?? defaults.searchThreshold,
      matchThreshold: (own ? stored.matchThreshold : null) ?? defaults.matchThreshold,
      topK: stored.topK,
    };
  }

  /**
   * What a search of this merchant applies now: its serving model and that model's thresholds
   * for `metric` (default: the merchant's metric). Cached (ServingModels): no round trip when warm.
   */
  async resolve(merchantId: string, metric?: Metric): Promise<EffectiveSettings> {
    const serving = await this.serving.get(merchantId);
    const stored = serving.settings ?? { ...DEFAULT_SEARCH_SETTINGS, updatedAt: null };
    return {
      ...this.effective(serving.modelId, stored, metric ?? stored.metric),
      dims: serving.dims,
    };
  }

  /** Like resolve, for a given model (evaluating a model before switching to it). */
  async resolveFor(merchantId: string, model: string, metric?: Metric): Promise<EffectiveSettings> {
    const serving = await this.serving.get(merchantId);
    if (model === serving.modelId) return this.resolve(merchantId, metric);
    const stored = await this.stored(merchantId, model);
    const record = await this.db.models.require(model);
    return { ...this.effective(model, stored, metric ?? stored.metric), dims: record.dims };
  }

  /**
   * A model's stored settings; for a model the merchant never saved any for, what it starts on
   * when switched to: the serving model's metric and page size, its own default thresholds
   * (what activateModel writes).
   */
  private async stored(merchantId: string, model: string): Promise<SearchSettingsRecord> {
    const [serving, stored] = await Promise.all([
      this.serving.get(merchantId),
      this.db.settings.get(merchantId, model),
    ]);
    if (stored.updatedAt !== null || model === serving.modelId || !serving.settings) return stored;
    return { ...stored, metric: serving.settings.metric, topK: serving.settings.topK };
  }

  /** The settings of one model (default: the serving one). */
  async get(merchantId: string, model?: string): Promise<SearchSettings> {
    const key = model ?? (await this.serving.get(merchantId)).modelId;
    await this.db.models.require(key);
    return this.present(key, await this.stored(merchantId, key));
  }

  private present(model: string, stored: SearchSettingsRecord): SearchSettings {
    const e = this.effective(model, stored, stored.metric);
    return {
      model,
      metric: e.metric,
      searchThreshold: e.searchThreshold,
      matchThreshold: e.matchThreshold,
      topK: e.topK,
      usingModelDefaults: stored.searchThreshold === null || stored.matchThreshold === null,
      updatedAt: stored.updatedAt,
    };
  }

  /** Change the settings of one model (default: the serving one). */
  async update(
    merchantId: string,
    input: SearchSettingsInput,
    model?: string,
  ): Promise<SearchSettings> {
    const key = model ?? (await this.serving.get(merchantId)).modelId;
    await this.db.models.require(key);
    const current = await this.db.settings.get(merchantId, key);
    const metric = input.metric ?? current.metric;
    if (
      input.topK !== undefined &&
      (!Number.isInteger(input.topK) || input.topK < 1 || input.topK > MAX_FIRST)
    ) {
      throw badInput(`topK must be an integer in [1, ${MAX_FIRST}]`, 'topK');
    }
    // What the settings would be: each threshold on the metric's scale, and the match
    // threshold ("same product") no looser than the search threshold.
    const keep = (value: number | null | undefined, stored: number | null) =>
      value !== undefined ? value : metric === current.metric ? stored : null;
    const next = this.effective(
      key,
      {
        ...current,
        metric,
        searchThreshold: keep(input.searchThreshold, current.searchThreshold),
        matchThreshold: keep(input.matchThreshold, current.matchThreshold),
      },
      metric,
    );
    const problem = validateThresholds(metric, next);
    if (problem) throw badInput(problem.message, problem.field);
    const saved = await this.db.settings.update(merchantId, key, {
      metric,
      ...(input.searchThreshold !== undefined ? { searchThreshold: input.searchThreshold } : {}),
      ...(input.matchThreshold !== undefined ? { matchThreshold: input.matchThreshold } : {}),
      ...(input.topK !== undefined ? { topK: input.topK } : {}),
    });
    this.serving.invalidate(merchantId);
    return this.present(key, saved);
  }
}
