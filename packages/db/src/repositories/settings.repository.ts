import type { PrismaClient } from '../generated/prisma/client.js';
import type { Metric } from './embedding.repository.js';
import { validateThreshold } from './embedding.repository.js';
import { assertInt } from './validate.js';

export interface SearchSettingsRecord {
  metric: Metric;
  /** On the metric's scale (DESIGN.md); null: no cut. */
  searchThreshold: number | null;
  /** On the metric's scale; passing it means "same product". Null: no MATCH verdicts. */
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
const fromDb = { COSINE: 'cosine', EUCLIDEAN: 'euclidean' } as const;

/** Per-merchant search settings; a merchant without a row gets the defaults. */
export class SettingsRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async get(merchantId: string): Promise<SearchSettingsRecord> {
    const row = await this.prisma.searchSettings.findUnique({ where: { merchantId } });
    if (!row) return { ...DEFAULT_SEARCH_SETTINGS, updatedAt: null };
    return {
      metric: fromDb[row.metric],
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
  async update(merchantId: string, patch: SearchSettingsPatch): Promise<SearchSettingsRecord> {
    const current = await this.get(merchantId);
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
      where: { merchantId },
      create: { merchantId, ...data },
      update: data,
    });
    return this.get(merchantId);
  }
}
