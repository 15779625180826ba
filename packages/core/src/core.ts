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
  /** Image files live under `<dataDir>/images` (thumbnails under `<dataDir>/thumbs`). */
  dataDir: string;
  cacheTtlMs?: number;
  /** Background re-indexing; `autoStart: false` leaves pending re-indexes alone (tests). */
  backfill?: BackfillOptions & { autoStart?: boolean };
  log?: (message: string) => void;
  now?: Clock;
}

/** The application: every door (API, worker, CLI, benchmarks) calls these services. */
export interface Core {
  readonly db: Db;
  readonly registry: ModelRegistry;
  readonly store: ImageStore;
  readonly apiKeys: ApiKeyService;
  readonly accounts: AccountService;
  readonly catalog: CatalogService;
  readonly search: SearchService;
  readonly settings: SettingsService;
  readonly evaluation: EvaluationService;
  readonly models: ModelService;
  readonly backfiller: Backfiller;
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
  const ttl = options.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);
  for (const info of registry.infos()) await db.models.register(info.key, info.dims);

  const store = new ImageStore(dataDir);
  const serving = new ServingModels(db, registry, ttl, now);
  const apiKeys = withCodedErrors(new ApiKeyService(db, { cacheTtlMs: ttl, now }));
  const settings = withCodedErrors(new SettingsService(db, registry, serving));
  const backfiller = new Backfiller(db, registry, store, { log, ...options.backfill });
  const core: Core = {
    db,
    registry,
    store,
    apiKeys,
    accounts: withCodedErrors(new AccountService(db, registry, serving)),
    catalog: withCodedErrors(new CatalogService(db, registry, serving, store)),
    search: withCodedErrors(new SearchService(db, registry, settings)),
    settings,
    evaluation: withCodedErrors(new EvaluationService(db, settings)),
    models: withCodedErrors(new ModelService(db, registry, serving, backfiller, now)),
    backfiller,
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
  /** Bundled model ids or model directories, the default first (MODELS). */
  models: readonly string[];
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
  try {
    registry = await loadModels({ models: options.models, device: options.device ?? 'auto' });
    const core = await createCore({
      db,
      models: registry,
      dataDir: options.dataDir,
      ...(options.cacheTtlMs !== undefined ? { cacheTtlMs: options.cacheTtlMs } : {}),
      ...(options.backfill ? { backfill: options.backfill } : {}),
      log,
    });
    const opened = registry;
    return {
      ...core,
      async close() {
        await core.close();
        await opened.close();
        await db.close();
      },
    };
  } catch (error) {
    await registry?.close();
    await db.close();
    throw error;
  }
}
