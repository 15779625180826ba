import path from 'node:path';
import {
  bundledModelPath,
  createEmbedder,
  type Device,
  type Embedder,
  type EmbedderInfo,
  type MetricThresholds,
} from '@lookalike/inference';
import type { Metric } from '@lookalike/search';
import { unavailable } from '../errors.js';

/** A bundled model id (`fashion-resnet`) or a model directory / model.json path. */
export function modelLocation(model: string): string {
  return model.includes('/') || model.endsWith('.json')
    ? path.resolve(model)
    : bundledModelPath(model);
}

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

/** Load the configured models (MODELS), the default first; all or none. */
export async function loadModels(options: {
  models: readonly string[];
  device?: Device;
}): Promise<ModelRegistry> {
  const embedders: Embedder[] = [];
  try {
    for (const model of options.models) {
      embedders.push(
        await createEmbedder({ model: modelLocation(model), device: options.device ?? 'auto' }),
      );
    }
    return new ModelRegistry(embedders, true);
  } catch (error) {
    await Promise.all(embedders.map((e) => e.close()));
    throw error;
  }
}
