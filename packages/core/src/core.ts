import { createDb, type Db } from '@lookalike/db';
import type { Device } from '@lookalike/inference';
import { AccountService } from './accounts/account.service.js';
import { bootstrap, type BootstrapOptions, type BootstrapResult } from './accounts/bootstrap.js';
import type { Clock } from './cache/ttl-cache.js';
import { CatalogService } from './catalog/catalog.service.js';
import { withCodedErrors } from './errors.js';
import { EvaluationService } from './evaluation/evaluation.service.js';
import { ImageStore } from './images/image-store.js';
import { ApiKeyService } from './keys/api-key.service.js';
import { Backfiller, type BackfillOptions } from './models/backfill.js';
import { loadModels, type ModelRegistry } from './models/model-registry.js';
import { ModelService } from './models/model.service.js';
import { upgradeToDefault, type ModelUpgrade, type ModelUpgradeMode } from './models/upgrade.js';
import { loadDetector, type Detector } from './search/detector.js';
import { SearchService } from './search/search.service.js';
import { ServingModels } from './settings/serving.js';
import { SettingsService } from './settings/settings.service.js';

/**
 * How long a verified API key and a merchant's serving model and settings are trusted without
 * asking the database again: a request then costs no round trip for either. Changes made by this
 * process apply at once; changes made by another process (a revoked key, a model switch, saved
 * thresholds) apply here within this time. 5 s keeps a revoked key usable for seconds at most
 * while removing two of three round trips from every search (docs/benchmarks.md, bench:api).
 */
export const DEFAULT_CACHE_TTL_MS = 5_000;

export interface CoreOptions {
  /** An open, migrated database. */
  db: Db;
  /** The models this process can run, the configured default first. */
  models: ModelRegistry;
  /**
   * Finds the products in a photo: similarProducts searches the main one, detectProducts
   * answers the boxes. Absent or null: detection is off (whole photos are searched). Closed by
   * its owner.
   */
  detector?: Detector | null;
  /** Image files live under `<dataDir>/images` (thumbnails under `<dataDir>/thumbs`). */
  dataDir: string;
  cacheTtlMs?: number;
  /** Background re-indexing; `autoStart: false` leaves pending re-indexes alone (tests). */
  backfill?: BackfillOptions & { autoStart?: boolean };
  /**
   * MODEL_UPGRADE. `auto` (default): merchants served by an older version of the default model
   * (the first of `models`) are re-indexed to it on creation and switched when complete.
   */
  modelUpgrade?: ModelUpgradeMode;
  log?: (message: string) => void;
  now?: Clock;
}

/** The application: every door (API, worker, CLI, benchmarks) calls these services. */
export interface Core {
  readonly db: Db;
  readonly registry: ModelRegistry;
  /** The product detector; null when detection is off. */
  readonly detector: Detector | null;
  readonly store: ImageStore;
  readonly apiKeys: ApiKeyService;
  readonly accounts: AccountService;
  readonly catalog: CatalogService;
  readonly search: SearchService;
  readonly settings: SettingsService;
  readonly evaluation: EvaluationService;
  readonly models: ModelService;
  readonly backfiller: Backfiller;
  /** What creation did about merchants on an older version of the default model. */
  readonly upgrades: readonly ModelUpgrade[];
  /** First start: the default merchant, its first key and its model (idempotent). */
  bootstrap(options: BootstrapOptions): Promise<BootstrapResult>;
  /** Stop background work; closes the database and models only when openCore opened them. */
  close(): Promise<void>;
}

/**
 * Wire the services over an open database and loaded models. The loaded models are registered
 * in the database (their dims fixed there); unfinished re-indexes resume in the background.
 */
export async function createCore(options: CoreOptions): Promise<Core> {
  const { db, models: registry, dataDir } = options;
  const detector = options.detector ?? null;
  const ttl = options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  for (const info of registry.infos()) await db.models.register(info.key, info.dims);

  const store = new ImageStore(dataDir);
  const serving = new ServingModels(db, registry, ttl, now);
  const apiKeys = withCodedErrors(new ApiKeyService(db, { cacheTtlMs: ttl, now }));
  const settings = withCodedErrors(new SettingsService(db, registry, serving));
  const backfiller = new Backfiller(db, registry, store, { log, ...options.backfill });
  const models = withCodedErrors(new ModelService(db, registry, serving, backfiller, now));
  // A re-index asked to activate its model when ready switches as it finishes.
  backfiller.setFinisher((merchantId, key, owner) =>
    models.completeReindex(merchantId, key, owner),
  );
  const upgrades = await upgradeToDefault({
    db,
    registry,
    models,
    mode: options.modelUpgrade ?? 'auto',
    log,
  });
  const core: Core = {
    db,
    registry,
    detector,
    store,
    apiKeys,
    accounts: withCodedErrors(new AccountService(db, registry, serving)),
    catalog: withCodedErrors(new CatalogService(db, registry, serving, store)),
    search: withCodedErrors(new SearchService(db, registry, settings, detector)),
    settings,
    evaluation: withCodedErrors(new EvaluationService(db, settings)),
    models,
    backfiller,
    upgrades,
    bootstrap: (o) => bootstrap(db, apiKeys, serving, registry.default.info.key, o),
    close: () => backfiller.close(),
  };
  if (options.backfill?.autoStart !== false) backfiller.watch();
  return core;
}

export interface OpenCoreOptions {
  /** Native Postgres; unset: embedded PGlite under dataDir. */
  databaseUrl?: string | undefined;
  dataDir: string;
  /**
   * Bundled model ids (the newest version) or keys, or model directories, the default first
   * (MODELS). Bundled models a merchant still uses are loaded too.
   */
  models: readonly string[];
  /** Where bundled model names are looked up (default: the repository's `models/`). */
  modelsDir?: string;
  modelUpgrade?: ModelUpgradeMode;
  /** A bundled detector id or model directory (DETECTOR); absent or null: no detection. */
  detector?: string | null;
  device?: Device;
  cacheTtlMs?: number;
  backfill?: CoreOptions['backfill'];
  log?: (message: string) => void;
}

/**
 * Open everything a door needs from configuration: the database (migrated), the models, the
 * services. close() closes what it opened.
 */
export async function openCore(options: OpenCoreOptions): Promise<Core> {
  const log = options.log ?? (() => undefined);
  const db = await createDb({
    url: options.databaseUrl,
    dataDir: options.dataDir,
    migrate: true,
    log: (m) => {
      log(`[db] ${m}`);
    },
  });
  let registry: ModelRegistry | undefined;
  let detector: Detector | undefined;
  try {
    registry = await loadModels({
      models: options.models,
      device: options.device ?? 'auto',
      db,
      log,
      ...(options.modelsDir !== undefined ? { modelsDir: options.modelsDir } : {}),
    });
    if (options.detector) {
      detector = await loadDetector({ model: options.detector, device: options.device ?? 'auto' });
    }
    const core = await createCore({
      db,
      models: registry,
      detector: detector ?? null,
      dataDir: options.dataDir,
      ...(options.cacheTtlMs !== undefined ? { cacheTtlMs: options.cacheTtlMs } : {}),
      ...(options.backfill ? { backfill: options.backfill } : {}),
      ...(options.modelUpgrade ? { modelUpgrade: options.modelUpgrade } : {}),
      log,
    });
    const opened = registry;
    const openedDetector = detector;
    return {
      ...core,
      async close() {
        await core.close();
        await openedDetector?.close();
        await opened.close();
        await db.close();
      },
    };
  } catch (error) {
    await detector?.close();
    await registry?.close();
    await db.close();
    throw error;
  }
}
