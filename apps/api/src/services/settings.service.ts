import { MAX_TOP_K, type Db, type Metric, type SearchSettingsRecord } from '@lookalike/db';
import type { EmbedderInfo } from '@lookalike/inference';
import { validateThresholds } from '@lookalike/search';
import { badInput } from '../errors.js';
import type { SearchSettingsInput } from '../inputs/search.input.js';
import { metricOf, toSimilarityMetric } from '../types/enums.js';
import type { SearchSettings } from '../types/settings.type.js';

export interface EffectiveThresholds {
  metric: Metric;
  searchThreshold: number;
  matchThreshold: number;
  topK: number;
}

/** The most results one page or search returns (and the largest topK): the database's own bound. */
export const MAX_FIRST = MAX_TOP_K;

/**
 * Search settings with the model's measured defaults filled in: a merchant who never tuned
 * anything gets the thresholds recommended in the model manifest.
 */
export class SettingsService {
  constructor(
    private readonly db: Db,
    private readonly model: EmbedderInfo,
  ) {}

  modelDefaults(metric: Metric): { searchThreshold: number; matchThreshold: number } {
    const d = this.model.defaults[metric];
    if (d) return d;
    // A model without measured defaults: no cut, and only near-identical images match.
    return metric === 'cosine'
      ? { searchThreshold: -1, matchThreshold: 0.99 }
      : { searchThreshold: 4, matchThreshold: 0.1 };
  }

  private effective(stored: SearchSettingsRecord, metric: Metric): EffectiveThresholds {
    // Stored thresholds are on the stored metric's scale; for another metric use its defaults.
    const defaults = this.modelDefaults(metric);
    const own = stored.metric === metric;
    return {
      metric,
      searchThreshold: (own ? stored.searchThreshold : null) ?? defaults.searchThreshold,
      matchThreshold: (own ? stored.matchThreshold : null) ?? defaults.matchThreshold,
      topK: stored.topK,
    };
  }

  /** The thresholds to apply for `metric` (default: the merchant's metric). */
  async resolve(merchantId: string, metric?: Metric): Promise<EffectiveThresholds> {
    const stored = await this.db.settings.get(merchantId);
    return this.effective(stored, metric ?? stored.metric);
  }

  async get(merchantId: string): Promise<SearchSettings> {
    const stored = await this.db.settings.get(merchantId);
    return this.present(stored);
  }

  private present(stored: SearchSettingsRecord): SearchSettings {
    const e = this.effective(stored, stored.metric);
    return {
      metric: toSimilarityMetric(e.metric),
      searchThreshold: e.searchThreshold,
      matchThreshold: e.matchThreshold,
      topK: e.topK,
      usingModelDefaults: stored.searchThreshold === null || stored.matchThreshold === null,
      updatedAt: stored.updatedAt,
    };
  }

  async update(merchantId: string, input: SearchSettingsInput): Promise<SearchSettings> {
    const current = await this.db.settings.get(merchantId);
    const metric = input.metric ? metricOf[input.metric] : current.metric;
    if (
      input.topK !== undefined &&
      (!Number.isInteger(input.topK) || input.topK < 1 || input.topK > MAX_FIRST)
    ) {
      throw badInput(`topK must be an integer in [1, ${MAX_FIRST}]`, 'topK');
    }
    // What the settings would be: each threshold on the metric's scale, and the match
    // threshold ("same product") no looser than the search threshold.
    const next = this.effective(
      {
        ...current,
        metric,
        searchThreshold:
          input.searchThreshold !== undefined
            ? input.searchThreshold
            : metric === current.metric
              ? current.searchThreshold
              : null,
        matchThreshold:
          input.matchThreshold !== undefined
            ? input.matchThreshold
            : metric === current.metric
              ? current.matchThreshold
              : null,
      },
      metric,
    );
    const problem = validateThresholds(metric, next);
    if (problem) throw badInput(problem.message, problem.field);
    const saved = await this.db.settings.update(merchantId, {
      metric,
      ...(input.searchThreshold !== undefined ? { searchThreshold: input.searchThreshold } : {}),
      ...(input.matchThreshold !== undefined ? { matchThreshold: input.matchThreshold } : {}),
      ...(input.topK !== undefined ? { topK: input.topK } : {}),
    });
    return this.present(saved);
  }
}
