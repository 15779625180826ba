import {
  createDb,
  createJobQueue,
  type Db,
  type JobQueue,
  type JobQueueOptions,
} from '@lookalike/db';
import type { Device } from '@lookalike/inference';
import { AccountService } from './accounts/account.service.js';
import { MerchantService } from './accounts/merchant.service.js';
import { bootstrap, type BootstrapOptions, type BootstrapResult } from './accounts/bootstrap.js';
import type { Clock } from './cache/ttl-cache.js';
import { CatalogService } from './catalog/catalog.service.js';
import { withCodedErrors } from './errors.js';
import {
  EVALUATE_QUEUE,
  EVALUATE_QUEUE_DEFINITION,
  EvaluationService,
} from './evaluation/evaluation.service.js';
import { parseAllowList } from './fetch/address-policy.js';
import {
  createSafeFetcher,
  type SafeFetcher,
  type SafeFetcherOptions,
} from './fetch/safe-fetch.js';
import { ImportService, INGEST_QUEUE } from './imports/import.service.js';
import type { ImportLimits } from './imports/limits.js';
import { startWorker, type Worker, type WorkerOptions } from './jobs/worker.js';
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
import { WebhookService } from './webhooks/webhook.service.js';

/**
 * The import row queue: an attempt still running after 5 minutes is taken to be dead (a
 * killed worker) and retried; a row fetches at most 10 images of 15 s each, so a live attempt
 * ends well before. Three retries with backoff from 5 s ride out a restart of the database.
 */
const INGEST_QUEUE_DEFINITION = { retryLimit: 3, retryDelaySeconds: 5, expireInSeconds: 300 };

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
  /**
   * The image URL client (imports, similarProducts(imageUrl)) and webhook deliveries:
   * `allow` holds the hosts and CIDRs let through the private-address rules
   * (IMAGE_FETCH_ALLOW; nothing by default).
   */
  imageFetch?: Omit<SafeFetcherOptions, 'allow'> & { allow?: readonly string[] };
  importLimits?: Partial<ImportLimits>;
  /** The job queue (pg-boss on the same database); expireInSeconds of import rows (tests). */
  queue?: JobQueueOptions & { expireInSeconds?: number };
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
  readonly imports: ImportService;
  readonly webhooks: WebhookService;
  readonly merchants: MerchantService;
  /** The SSRF-safe HTTP client for image URLs and webhook deliveries. */
  readonly fetcher: SafeFetcher;
  /** The job queue, started (its tables created) on first use. */
  queue(): Promise<JobQueue>;
  /** Consume the queue in this process (apps/worker; the API on the embedded engine). */
  startWorker(options?: WorkerOptions): Promise<Worker>;
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
  const fetcher = createSafeFetcher({
    ...options.imageFetch,
    allow: parseAllowList(options.imageFetch?.allow ?? []),
  });
  let queue: Promise<JobQueue> | undefined;
  const startQueue = (): Promise<JobQueue> => {
    queue ??= (async () => {
      const q = createJobQueue(db.sql, { log, ...options.queue });
      await q.start();
      await q.define(INGEST_QUEUE, {
        ...INGEST_QUEUE_DEFINITION,
        ...(options.queue?.expireInSeconds
          ? { expireInSeconds: options.queue.expireInSeconds }
          : {}),
      });
      await q.define(EVALUATE_QUEUE, EVALUATE_QUEUE_DEFINITION);
      return q;
    })();
    return queue;
  };
  const upgrades = await upgradeToDefault({
    db,
    registry,
    models,
    mode: options.modelUpgrade ?? 'auto',
    log,
  });
  const catalog = withCodedErrors(new CatalogService(db, registry, serving, store));
  const imports = withCodedErrors(
    new ImportService(db, startQueue, dataDir, options.importLimits ?? {}),
  );
  const evaluation = withCodedErrors(new EvaluationService(db, settings, startQueue));
  const workers: Worker[] = [];
  const core: Core = {
    db,
    registry,
    detector,
    store,
    apiKeys,
    accounts: withCodedErrors(new AccountService(db, registry, serving)),
    catalog,
    imports,
    webhooks: withCodedErrors(new WebhookService(db)),
    merchants: withCodedErrors(new MerchantService(db, () => registry.default.info.key)),
    fetcher,
    queue: startQueue,
    async startWorker(o = {}) {
      const worker = await startWorker(
        { db, queue: startQueue, catalog, imports, fetcher, evaluation },
        { log, ...o },
      );
      workers.push(worker);
      return worker;
    },
    search: withCodedErrors(
      new SearchService(
        db,
        registry,
        settings,
        detector,
        async (url) => (await fetcher.fetchImage(url)).bytes,
      ),
    ),
    settings,
    evaluation,
    models,
    backfiller,
    upgrades,
    bootstrap: (o) => bootstrap(db, apiKeys, serving, registry.default.info.key, o),
    async close() {
      for (const w of workers) await w.stop();
      if (queue) await (await queue.catch(() => null))?.stop();
      await fetcher.close();
      await backfiller.close();
    },
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
  imageFetch?: CoreOptions['imageFetch'];
  importLimits?: CoreOptions['importLimits'];
  queue?: CoreOptions['queue'];
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
      ...(options.imageFetch ? { imageFetch: options.imageFetch } : {}),
      ...(options.importLimits ? { importLimits: options.importLimits } : {}),
      ...(options.queue ? { queue: options.queue } : {}),
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
