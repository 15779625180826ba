import type { Db, ServingModel } from '@lookalike/db';
import { TtlCache, type Clock } from '../cache/ttl-cache.js';
import type { ModelRegistry } from '../models/model-registry.js';

/**
 * Which model serves a merchant, with its settings and the models new images are embedded
 * with: read on every search and every ingest, changed rarely (a settings save, a model switch).
 * Cached per merchant for `ttlMs`; the process that changes it invalidates at once, others see
 * the change within `ttlMs` (a search still never mixes models: it runs on one entry).
 */
export class ServingModels {
  private readonly cache: TtlCache<string, ServingModel>;

  constructor(
    private readonly db: Db,
    private readonly registry: ModelRegistry,
    ttlMs: number,
    now: Clock = Date.now,
  ) {
    this.cache = new TtlCache(ttlMs, 10_000, now);
  }

  /**
   * The merchant's serving model. A merchant without one (created before any model was
   * assigned) gets the configured default, as on a fresh database.
   */
  async get(merchantId: string): Promise<ServingModel> {
    const cached = this.cache.get(merchantId);
    if (cached) return cached;
    let serving = await this.db.merchantModels.serving(merchantId);
    if (!serving) {
      await this.assignDefault(merchantId);
      serving = await this.db.merchantModels.serving(merchantId);
    }
    if (!serving) throw new Error(`merchant ${merchantId} has no serving model`);
    this.cache.set(merchantId, serving);
    return serving;
  }

  /** Give a merchant the configured default model when it has none; its indexes are made. */
  async assignDefault(merchantId: string): Promise<string> {
    const key = this.registry.default.info.key;
    await this.db.models.ensureIndexes(key);
    return (await this.db.merchantModels.activateIfNone(merchantId, key)).modelId;
  }

  invalidate(merchantId: string): void {
    this.cache.delete(merchantId);
  }
}
