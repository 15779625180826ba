import type {
  Db,
  Repositories,
  MerchantModelRecord,
  MerchantModelStatus,
  ModelCoverage,
} from '@lookalike/db';
import type { MetricThresholds } from '@lookalike/inference';
import { conflict, notFound } from '../errors.js';
import type { ServingModels } from '../settings/serving.js';
import type { Backfiller, ReindexOutcome } from './backfill.js';
import type { ModelRegistry } from './model-registry.js';

/** A model as one merchant sees it. AVAILABLE: loaded here, never used by this merchant. */
export type ModelStatus = MerchantModelStatus | 'AVAILABLE';

export interface ModelCoverageInfo {
  /** READY images of the merchant. */
  total: number;
  /** Of those, with a vector of this model. */
  embedded: number;
  /** Images the model failed to embed in a re-index. */
  failed: number;
  /** embedded / total (1 for an empty catalog). */
  fraction: number;
}

export interface ReindexProgress {
  /** True until every image has a vector or has failed. */
  running: boolean;
  startedAt: Date;
  finishedAt: Date | null;
  /** Vectors written since the re-index (re)started. */
  done: number;
  /** Images still without a vector (and not failed). */
  remaining: number;
  /** Vectors per second since the re-index (re)started; null before the first. */
  rate: number | null;
  /** Seconds until done at that rate; null when unknown or finished. */
  etaSeconds: number | null;
}

export interface ModelInfo {
  key: string;
  dims: number;
  status: ModelStatus;
  /** This process can embed with it (it is in MODELS). */
  loaded: boolean;
  executionProvider: 'cpu' | 'cuda' | null;
  activatedAt: Date | null;
  /** Its re-index switches the merchant to it once every image has a vector. */
  activateWhenReady: boolean;
  coverage: ModelCoverageInfo;
  reindex: ReindexProgress | null;
  /** The manifest's recommended thresholds (what the model starts on after a switch). */
  defaults: { cosine: MetricThresholds; euclidean: MetricThresholds };
  /** False when the manifest has none and `defaults` are the safe fallback (no cut). */
  defaultsMeasured: boolean;
}

export interface ModelSwitch {
  model: ModelInfo;
  /** The model that served before (null when none did). */
  previous: string | null;
  /** Coverage of the new model when it took over. */
  coverage: number;
  /** True when the switch was forced past incomplete coverage. */
  forced: boolean;
}

function coverageOf(c: ModelCoverage | undefined): ModelCoverageInfo {
  const total = c?.total ?? 0;
  const embedded = c?.embedded ?? 0;
  return { total, embedded, failed: c?.failed ?? 0, fraction: total === 0 ? 1 : embedded / total };
}

/**
 * The model lifecycle of a merchant: which models it has and how much of its catalog each
 * covers, re-indexing with another model in the background while the serving one keeps
 * answering, an atomic switch (refused while coverage is incomplete, unless forced), switching
 * back, and retiring a model with its vectors and (once no merchant uses it) its indexes.
 */
export class ModelService {
  constructor(
    private readonly db: Db,
    private readonly registry: ModelRegistry,
    private readonly serving: ServingModels,
    private readonly backfiller: Backfiller,
    private readonly now: () => number = Date.now,
  ) {}

  /** The merchant's models, then the ones loaded here it has not used, in configured order. */
  async list(merchantId: string): Promise<ModelInfo[]> {
    await this.serving.get(merchantId); // a merchant always has a serving model
    const [rows, coverage] = await Promise.all([
      this.db.merchantModels.list(merchantId),
      this.db.merchantModels.coverage(merchantId),
    ]);
    const known = new Set(rows.map((r) => r.modelId));
    const infos = await Promise.all(
      rows.map((r) => this.info(r.modelId, r, coverage.get(r.modelId))),
    );
    const total =
      [...coverage.values()][0]?.total ?? (await this.db.images.count(merchantId, 'READY'));
    for (const key of this.registry.keys()) {
      if (known.has(key)) continue;
      infos.push(
        await this.info(key, null, { modelId: key, total, embedded: 0, failed: 0, sinceStart: 0 }),
      );
    }
    const order = (s: ModelStatus) =>
      ['ACTIVE', 'BACKFILLING', 'READY', 'AVAILABLE', 'RETIRED'].indexOf(s);
    return infos.sort((a, b) => order(a.status) - order(b.status));
  }

  async get(merchantId: string, key: string): Promise<ModelInfo> {
    const found = (await this.list(merchantId)).find((m) => m.key === key);
    if (!found) throw notFound(`model ${key}`);
    return found;
  }

  private async info(
    key: string,
    row: MerchantModelRecord | null,
    coverage: ModelCoverage | undefined,
  ): Promise<ModelInfo> {
    const embedder = this.registry.get(key);
    const dims = embedder?.info.dims ?? (await this.db.models.require(key)).dims;
    const cov = coverageOf(coverage);
    let reindex: ReindexProgress | null = null;
    if (row?.reindexStartedAt) {
      const end = row.reindexFinishedAt?.getTime() ?? this.now();
      const seconds = Math.max(0.001, (end - row.reindexStartedAt.getTime()) / 1000);
      const done = coverage?.sinceStart ?? 0;
      const running = row.reindexFinishedAt === null && row.status !== 'RETIRED';
      const remaining = Math.max(0, cov.total - cov.embedded - cov.failed);
      const rate = done > 0 ? done / seconds : null;
      reindex = {
        running,
        startedAt: row.reindexStartedAt,
        finishedAt: row.reindexFinishedAt,
        done,
        remaining,
        rate,
        etaSeconds: running && rate ? remaining / rate : null,
      };
    }
    return {
      key,
      dims,
      status: row?.status ?? 'AVAILABLE',
      loaded: embedder !== undefined,
      executionProvider: embedder?.info.executionProvider ?? null,
      activatedAt: row?.activatedAt ?? null,
      activateWhenReady: row?.activateWhenReady ?? false,
      coverage: cov,
      reindex,
      defaults: {
        cosine: this.registry.defaults(key, 'cosine'),
        euclidean: this.registry.defaults(key, 'euclidean'),
      },
      defaultsMeasured: this.registry.hasMeasuredDefaults(key),
    };
  }

  /** A model this process can embed with, or NOT_FOUND naming those it can. */
  private loaded(key: string) {
    const embedder = this.registry.get(key);
    if (!embedder) {
      throw notFound(
        `model ${key} (this server loads ${this.registry.keys().join(', ')}; add it to MODELS)`,
      );
    }
    return embedder;
  }

  /**
   * Embed every READY image of the merchant with `key` in the background; searches keep
   * answering from the serving model, and images added meanwhile get both vectors. With
   * `activateWhenReady`, the merchant switches to it when the re-index completes with every
   * image covered (stored: a restarted process still switches); when some image failed, it
   * does not switch and stays READY.
   */
  async startReindex(
    merchantId: string,
    key: string,
    { activateWhenReady = false }: { activateWhenReady?: boolean } = {},
  ): Promise<ModelInfo> {
    const embedder = this.loaded(key);
    await this.db.models.register(key, embedder.info.dims);
    await this.db.models.ensureIndexes(key);
    await this.serving.get(merchantId);
    // Forgetting old failures and asking for the re-index go together.
    await this.db.transaction((tx) =>
      tx.merchantModels.startReindex(merchantId, key, { activateWhenReady }),
    );
    this.serving.invalidate(merchantId);
    this.backfiller.start(merchantId, key);
    return this.get(merchantId, key);
  }

  /**
   * Make `key` the merchant's serving model, atomically: from the next search on, every search
   * runs on it (with its own thresholds; a model new to the merchant starts on the merchant's
   * metric and page size and its manifest's thresholds). Refused while its coverage is
   * incomplete unless `force`; the answer says what coverage it switched at.
   */
  async activate(
    merchantId: string,
    key: string,
    { force = false }: { force?: boolean } = {},
  ): Promise<ModelSwitch> {
    this.loaded(key);
    await this.serving.get(merchantId);
    const { previous, fraction, incomplete } = await this.db.transaction(async (tx) => {
      const row = await tx.merchantModels.get(merchantId, key);
      if (!row) {
        throw conflict(`model ${key} has no vectors for this catalog yet; start a re-index first`, {
          model: key,
        });
      }
      const cov = coverageOf((await tx.merchantModels.coverage(merchantId)).get(key));
      const incomplete = cov.embedded < cov.total;
      if (incomplete && !force && row.status !== 'ACTIVE') {
        throw conflict(
          `model ${key} covers ${cov.embedded} of ${cov.total} images (${(cov.fraction * 100).toFixed(1)}%); wait for its re-index, or force the switch`,
          { model: key, coverage: cov.fraction, embedded: cov.embedded, total: cov.total },
        );
      }
      const was = await switchIn(tx, merchantId, key);
      return { previous: was, fraction: cov.fraction, incomplete };
    });
    this.serving.invalidate(merchantId);
    return {
      model: await this.get(merchantId, key),
      previous,
      coverage: fraction,
      forced: incomplete && force,
    };
  }

  /**
   * The end of a re-index, for the Backfiller holding its lease (null when it no longer does):
   * marks it finished and, when it was asked to activate its model when ready and every image
   * has a vector, switches to it in the same transaction (the path of `activate`). With some
   * image failed it does not force: the model stays READY, and the outcome says why.
   */
  async completeReindex(
    merchantId: string,
    key: string,
    owner: string,
  ): Promise<ReindexOutcome | null> {
    const outcome = await this.db.transaction(async (tx): Promise<ReindexOutcome | null> => {
      const row = await tx.merchantModels.get(merchantId, key);
      if (!(await tx.merchantModels.finishReindex(merchantId, key, owner))) return null;
      if (!row?.activateWhenReady || row.status === 'ACTIVE' || row.status === 'RETIRED') {
        return { activateWhenReady: false };
      }
      const coverage = coverageOf((await tx.merchantModels.coverage(merchantId)).get(key));
      if (coverage.embedded < coverage.total) return { activateWhenReady: true, coverage };
      const previous = await switchIn(tx, merchantId, key);
      return { activateWhenReady: true, coverage, switched: { previous } };
    });
    if (outcome?.switched) this.serving.invalidate(merchantId);
    return outcome;
  }

  /**
   * Stop keeping `key`: its vectors of this merchant are deleted (and its indexes, once no
   * merchant keeps it). The serving model cannot be retired.
   */
  async retire(merchantId: string, key: string): Promise<ModelInfo> {
    await this.serving.get(merchantId);
    const row = await this.db.merchantModels.get(merchantId, key);
    if (!row) throw notFound(`model ${key} for this merchant`);
    if (row.status === 'ACTIVE') {
      throw conflict(
        `model ${key} serves this merchant's searches; activate another model before retiring it`,
        { model: key },
      );
    }
    await this.db.transaction((tx) => tx.merchantModels.retire(merchantId, key));
    this.serving.invalidate(merchantId);
    await this.backfiller.stop(merchantId, key);
    await this.db.embeddings.deleteModel(merchantId, key);
    if ((await this.db.merchantModels.users(key)) === 0) await this.db.models.dropIndexes(key);
    return this.get(merchantId, key);
  }
}

/**
 * Make `key` ACTIVE inside a transaction (the previous model becomes READY) and give it the
 * merchant's metric and page size; the `model.switched` webhook event is written with it. Returns the model that served before (null when none, or
 * when `key` served already).
 */
async function switchIn(tx: Repositories, merchantId: string, key: string): Promise<string | null> {
  const was = await tx.merchantModels.activate(merchantId, key);
  if (was && was !== key) await tx.settings.inherit(merchantId, was, key);
  if (was !== key) {
    // In the switch's own transaction: a subscriber hears of every switch, and only of those.
    await tx.webhooks.emit(merchantId, 'model.switched', { model: key, previous: was });
  }
  return was === key ? null : was;
}
