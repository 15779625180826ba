import type { DbClient } from '../client.js';
import type { Metric } from './embedding.repository.js';
import { validateThreshold } from './embedding.repository.js';
import { assertInt, isUuid } from './validate.js';
import { assertModelId } from '../queries/vector-sql.js';

export interface SearchSettingsRecord {
  metric: Metric;
  /** On the metric's scale (docs/architecture.md); null: the model's recommended default. */
  searchThreshold: number | null;
  /** On the metric's scale; passing it means "same product". Null: the model's default. */
  matchThreshold: number | null;
  topK: number;
  /** Null while the merchant still runs on the defaults. */
  updatedAt: Date | null;
}

export type SearchSettingsPatch = Partial<Omit<SearchSettingsRecord, 'updatedAt'>>;

export const DEFAULT_SEARCH_SETTINGS: Omit<SearchSettingsRecord, 'updatedAt'> = {
  metric: 'cosine',
  searchThreshold: null,
  matchThreshold: null,
  topK: 10,
};

export const MAX_TOP_K = 100;

const toDb = { cosine: 'COSINE', euclidean: 'EUCLIDEAN' } as const;
export const fromDbMetric = { COSINE: 'cosine', EUCLIDEAN: 'euclidean' } as const;

/**
 * Search settings per merchant and model: each model has its own score scale, so its thresholds
 * are its own. A (merchant, model) without a row gets the defaults.
 */
export class SettingsRepository {
  constructor(private readonly prisma: DbClient) {}

  async get(merchantId: string, modelId: string): Promise<SearchSettingsRecord> {
    const row = isUuid(merchantId)
      ? await this.prisma.searchSettings.findUnique({
          where: { merchantId_modelId: { merchantId, modelId } },
        })
      : null;
    if (!row) return { ...DEFAULT_SEARCH_SETTINGS, updatedAt: null };
    return {
      metric: fromDbMetric[row.metric],
      searchThreshold: row.searchThreshold,
      matchThreshold: row.matchThreshold,
      topK: row.topK,
      updatedAt: row.updatedAt,
    };
  }

  /**
   * Change some settings. Thresholds are validated on the scale of the resulting metric, so a
   * metric switch must come with thresholds on the new scale (or clear them with null).
   */
  async update(
    merchantId: string,
    modelId: string,
    patch: SearchSettingsPatch,
  ): Promise<SearchSettingsRecord> {
    assertModelId(modelId);
    const current = await this.get(merchantId, modelId);
    const next = { ...current, ...patch };
    if (patch.topK !== undefined) assertInt(patch.topK, 'topK', 1, MAX_TOP_K);
    if (next.metric !== current.metric) {
      // Old thresholds are meaningless on another scale; unless new ones came along, clear them.
      if (patch.searchThreshold === undefined) next.searchThreshold = null;
      if (patch.matchThreshold === undefined) next.matchThreshold = null;
    }
    if (next.searchThreshold !== null) validateThreshold(next.metric, next.searchThreshold);
    if (next.matchThreshold !== null) validateThreshold(next.metric, next.matchThreshold);
    const data = {
      metric: toDb[next.metric],
      searchThreshold: next.searchThreshold,
      matchThreshold: next.matchThreshold,
      topK: next.topK,
    };
    await this.prisma.searchSettings.upsert({
      where: { merchantId_modelId: { merchantId, modelId } },
      create: { merchantId, modelId, ...data },
      update: data,
    });
    return this.get(merchantId, modelId);
  }

  /**
   * A model a merchant switches to starts with the metric and page size the merchant chose for
   * the model it leaves, and the new model's own recommended thresholds (null). Nothing changes
   * when the new model has settings already (a switch back).
   */
  async inherit(merchantId: string, fromModelId: string, toModelId: string): Promise<void> {
    assertModelId(toModelId);
    const existing = await this.prisma.searchSettings.findUnique({
      where: { merchantId_modelId: { merchantId, modelId: toModelId } },
    });
    if (existing) return;
    const from = await this.prisma.searchSettings.findUnique({
      where: { merchantId_modelId: { merchantId, modelId: fromModelId } },
    });
    if (!from) return;
    await this.prisma.searchSettings.create({
      data: {
        merchantId,
        modelId: toModelId,
        metric: from.metric,
        searchThreshold: null,
        matchThreshold: null,
        topK: from.topK,
      },
    });
  }
}
