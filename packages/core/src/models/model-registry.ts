import type { Db, MerchantModelRecord } from '@lookalike/db';
import {
  createEmbedder,
  modelsDir,
  type Device,
  type Embedder,
  type EmbedderInfo,
  type MetricThresholds,
} from '@lookalike/inference';
import type { Metric } from '@lookalike/search';
import { unavailable } from '../errors.js';
import { bundledModels, modelLocation } from './bundled.js';

export { modelLocation };

/**
 * Thresholds for a model without measured defaults in its manifest: no search cut, and only
 * near-identical images match.
 */
const UNMEASURED: Record<Metric, MetricThresholds> = {
  cosine: { searchThreshold: -1, matchThreshold: 0.99 },
  euclidean: { searchThreshold: 4, matchThreshold: 0.1 },
};

/**
 * The embedding models this process has loaded, by key (`fashion-resnet-v1`). The first is the
 * configured default: what a new merchant (a fresh database) starts on. Which model serves a
 * merchant is a database fact (MerchantModel); this says only which ones this process can run.
 */
export class ModelRegistry {
  private readonly byKey = new Map<string, Embedder>();

  /**
   * @param embedders in configured order, the default first.
   * @param owned whether close() closes them (false: the caller made them and closes them).
   */
  constructor(
    embedders: readonly Embedder[],
    private readonly owned = false,
  ) {
    if (embedders.length === 0) throw new Error('ModelRegistry needs at least one model');
    for (const e of embedders) {
      if (this.byKey.has(e.info.key)) throw new Error(`model ${e.info.key} is loaded twice`);
      this.byKey.set(e.info.key, e);
    }
  }

  /** The configured default model. */
  get default(): Embedder {
    return [...this.byKey.values()][0] as Embedder;
  }

  keys(): string[] {
    return [...this.byKey.keys()];
  }

  infos(): EmbedderInfo[] {
    return [...this.byKey.values()].map((e) => e.info);
  }

  get(key: string): Embedder | undefined {
    return this.byKey.get(key);
  }

  /** The embedder of a model, or SERVICE_UNAVAILABLE naming what this process loads instead. */
  require(key: string): Embedder {
    const embedder = this.byKey.get(key);
    if (!embedder) {
      throw unavailable(
        `model ${key} is not loaded by this server (it loads ${this.keys().join(', ')}); add it to MODELS`,
        { model: key },
      );
    }
    return embedder;
  }

  /** Whether the model's manifest carries measured thresholds for both metrics. */
  hasMeasuredDefaults(key: string): boolean {
    const d = this.byKey.get(key)?.info.defaults;
    return d?.cosine !== undefined && d.euclidean !== undefined;
  }

  /** The model's recommended thresholds for `metric` (its manifest's, or a safe fallback). */
  defaults(key: string, metric: Metric): MetricThresholds {
    return this.byKey.get(key)?.info.defaults[metric] ?? UNMEASURED[metric];
  }

  async close(): Promise<void> {
    if (this.owned) await Promise.all([...this.byKey.values()].map((e) => e.close()));
  }
}

export interface LoadModelsOptions {
  /** MODELS: bundled ids or keys, or model paths, the default first. */
  models: readonly string[];
  device?: Device;
  /** Where bundled names are looked up (default: the repository's `models/`). */
  modelsDir?: string;
  /**
   * An open, migrated database. Given, the bundled models that some merchant is served by
   * (ACTIVE) or re-indexing to (BACKFILLING) are loaded too, after the configured ones, so
   * those searches and re-indexes keep running when MODELS moves on to another version.
   */
  db?: Db;
  log?: (message: string) => void;
}

/** Who still needs a model, in words: `merchant A (id) is served by k`. */
async function neededBecause(db: Db, key: string, rows: MerchantModelRecord[]): Promise<string> {
  const parts: string[] = [];
  for (const [status, verb] of [
    ['ACTIVE', 'served by'],
    ['BACKFILLING', 're-indexing to'],
  ] as const) {
    const of = rows.filter((r) => r.status === status);
    if (of.length === 0) continue;
    const named = await Promise.all(
      of.slice(0, 3).map(async (r) => {
        const m = await db.merchants.get(r.merchantId);
        return m ? `${m.name} (${m.id})` : r.merchantId;
      }),
    );
    const more = of.length > 3 ? ` and ${of.length - 3} more` : '';
    const who = of.length === 1 ? 'merchant' : 'merchants';
    const be = of.length === 1 ? 'is' : 'are';
    parts.push(`${who} ${named.join(', ')}${more} ${be} ${verb} ${key}`);
  }
  return parts.join('; ');
}

/**
 * Load the configured models (MODELS), the default first, and (given the database) the bundled
 * models merchants still use that MODELS does not name; all or none.
 */
export async function loadModels(options: LoadModelsOptions): Promise<ModelRegistry> {
  const dir = options.modelsDir ?? modelsDir();
  const device = options.device ?? 'auto';
  const log = options.log ?? (() => undefined);
  const embedders: Embedder[] = [];
  try {
    for (const model of options.models) {
      embedders.push(await createEmbedder({ model: modelLocation(model, dir), device }));
    }
    if (options.db) {
      const loaded = new Set(embedders.map((e) => e.info.key));
      const rows = await options.db.merchantModels.withStatus(['ACTIVE', 'BACKFILLING']);
      const byModel = new Map<string, MerchantModelRecord[]>();
      for (const r of rows) byModel.set(r.modelId, [...(byModel.get(r.modelId) ?? []), r]);
      const bundled = bundledModels(dir).filter((m) => m.kind === 'embedder');
      for (const [key, users] of byModel) {
        if (loaded.has(key)) continue;
        const why = await neededBecause(options.db, key, users);
        const found = bundled.find((m) => m.key === key);
        if (!found) {
          log(
            `${key} is not loaded: ${why}, and it is neither in MODELS nor bundled; those searches answer SERVICE_UNAVAILABLE until it is loaded (add its directory to MODELS)`,
          );
          continue;
        }
        embedders.push(await createEmbedder({ model: found.dir, device }));
        loaded.add(key);
        log(`kept loaded: ${why} (bundled, not in MODELS)`);
      }
    }
    return new ModelRegistry(embedders, true);
  } catch (error) {
    await Promise.all(embedders.map((e) => e.close()));
    throw error;
  }
}
