import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createCore,
  loadDetector,
  loadModels,
  ModelRegistry,
  type BootstrapResult,
  type Core,
  type CoreOptions,
  type Detector,
  type Worker,
  type WorkerOptions,
} from '@lookalike/core';
import { createDb, type Db } from '@lookalike/db';
import type { Embedder } from '@lookalike/inference';
import type express from 'express';
import { loadConfig, type ApiConfig } from './env.js';
import { createApp } from './http/app.js';
import { DEFAULT_LIMITS, type QueryLimits } from './http/limits.js';
import { consoleLogger, type Logger } from './logger.js';

export type { Logger };

export interface CreateServerOptions {
  /** Over the defaults (the environment is not read: main.ts parses it). */
  config?: Partial<ApiConfig>;
  /** A running core; when absent one is built from the config (and closed with the server). */
  core?: Core;
  /** An open database for the core built here (closed by its owner, not the server). */
  db?: Db;
  /**
   * Running embedders for the core built here, the default first (closed by their owner).
   * Given, they are the models: config.MODELS, INFERENCE_DEVICE and DETECTOR are not used (a
   * detector then comes from `detector` alone).
   */
  embedders?: Embedder[];
  /** Where bundled model names (MODELS) are looked up; default the repository's `models/`. */
  modelsDir?: string;
  /** Background re-indexing of the core built here (batch size, lease, poll; tests). */
  backfill?: CoreOptions['backfill'];
  /** The job queue of the core built here (maintenance interval, row expiry; tests). */
  queue?: CoreOptions['queue'];
  /** Over the image fetcher's options of the core built here (a connect hook; tests). */
  imageFetch?: CoreOptions['imageFetch'];
  /** The in-process worker's options (config.WORKER says whether one runs). */
  worker?: WorkerOptions;
  /**
   * The product detector of the core built here: a running one (closed by its owner), a model id
   * or directory (loaded here, closed with the server), or null (detection off). Absent:
   * config.DETECTOR, or none when `embedders` are given.
   */
  detector?: Detector | string | null;
  logger?: Logger;
  limits?: Partial<QueryLimits>;
}

export interface ApiServer {
  readonly app: express.Express;
  readonly core: Core;
  readonly config: ApiConfig;
  readonly bootstrap: BootstrapResult;
  /** Start listening (port 0: any free port); resolves with the base URL. */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * How long the in-process worker's batches may run on after a close: the requests in flight
 * had up to 10 s before (Apollo's drain), and main.ts gives the whole stop 15 s. Jobs still
 * running then are failed and retried after the next start.
 */
const WORKER_STOP_TIMEOUT_MS = 3_000;

/**
 * Node's own limits on a request's arrival (the body's idle timeout is the app's:
 * http/body-timeout.ts). A request that misses one is answered 408 and its connection closed.
 * The headers are part of the request, so their limit is never the longer one. Node checks its
 * connections every `connectionsCheckingInterval` (30 s by default, which would stretch a 10 s
 * headers limit to 40 s): a quarter of the shortest limit, at most a second, keeps a limit
 * within 25% of its value.
 */
export function serverTimeouts(
  config: Pick<ApiConfig, 'REQUEST_TIMEOUT_MS' | 'HEADERS_TIMEOUT_MS'>,
): http.ServerOptions {
  const requestTimeout = config.REQUEST_TIMEOUT_MS;
  const headersTimeout =
    requestTimeout > 0 &&
    (config.HEADERS_TIMEOUT_MS === 0 || config.HEADERS_TIMEOUT_MS > requestTimeout)
      ? requestTimeout
      : config.HEADERS_TIMEOUT_MS;
  const limits = [requestTimeout, headersTimeout].filter((ms) => ms > 0);
  if (limits.length === 0) return { requestTimeout, headersTimeout };
  return {
    requestTimeout,
    headersTimeout,
    connectionsCheckingInterval: Math.max(25, Math.min(1_000, Math.floor(Math.min(...limits) / 4))),
  };
}

/**
 * The API as a value: the composition root. It opens what it is not given (database, models,
 * core), bootstraps the default merchant, and builds the HTTP app on top. Nothing listens until
 * `listen()`; `close()` frees what the server opened.
 */
export async function createServer(options: CreateServerOptions = {}): Promise<ApiServer> {
  const config: ApiConfig = { ...loadConfig({}), ...options.config };
  const log = options.logger ?? consoleLogger;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const opened: { close(): Promise<void> }[] = [];
  const closeOpened = async () => {
    for (const o of opened.reverse()) await o.close();
  };
  let core = options.core;
  let boot: BootstrapResult;
  try {
    if (!core) {
      let db = options.db;
      if (!db) {
        db = await createDb({
          url: config.DATABASE_URL,
          dataDir: config.dataDir,
          log: (m) => {
            log.info(`[db] ${m}`);
          },
        });
        opened.push(db);
      }
      await db.migrate();
      let registry: ModelRegistry;
      if (options.embedders) registry = new ModelRegistry(options.embedders);
      else {
        // MODELS, and the bundled models merchants still use (the log says why each is kept).
        registry = await loadModels({
          models: config.MODELS,
          device: config.INFERENCE_DEVICE,
          db,
          ...(options.modelsDir !== undefined ? { modelsDir: options.modelsDir } : {}),
          log: (m) => {
            log.info(`[core] ${m}`);
          },
        });
        opened.push(registry);
      }
      let detector =
        options.detector !== undefined
          ? options.detector
          : options.embedders
            ? null
            : config.DETECTOR;
      if (typeof detector === 'string') {
        const model = detector;
        detector = await loadDetector({
          model,
          device: config.INFERENCE_DEVICE,
          logger: {
            warn: (m) => {
              log.info(`[detector] ${m}`);
            },
          },
        });
        opened.push(detector);
      }
      core = await createCore({
        db,
        models: registry,
        detector,
        dataDir: config.dataDir,
        cacheTtlMs: config.CACHE_TTL_MS,
        modelUpgrade: config.MODEL_UPGRADE,
        imageFetch: { allow: config.IMAGE_FETCH_ALLOW, ...options.imageFetch },
        ...(options.backfill ? { backfill: options.backfill } : {}),
        ...(options.queue ? { queue: options.queue } : {}),
        log: (m) => {
          log.info(`[core] ${m}`);
        },
      });
      opened.push(core);
    }
    boot = await core.bootstrap({
      bootstrapKey: config.BOOTSTRAP_API_KEY,
      dataDir: config.dataDir,
    });
  } catch (error) {
    await closeOpened();
    throw error;
  }
  const ready = core;
  const upgrading = ready.upgrades.some(
    (u) => u.merchantId === boot.merchantId && (u.action === 'started' || u.action === 'resumed'),
  );
  if (boot.servingModel !== boot.configuredModel && !upgrading) {
    log.info(
      `[core] the default merchant is served by ${boot.servingModel}; MODELS names ${boot.configuredModel} first. ` +
        `It stays on ${boot.servingModel} (switch with activateModel, or the dashboard's Models page).`,
    );
  }
  if (!ready.registry.get(boot.servingModel)) {
    log.error(
      `[core] ${boot.servingModel} serves the default merchant but is not in MODELS: its searches answer SERVICE_UNAVAILABLE until it is loaded`,
    );
  }

  // The job worker in this process: on the embedded engine nothing else can open the database
  // (WORKER=auto); with DATABASE_URL, apps/worker processes do the work.
  let worker: Worker | undefined;
  const runWorker =
    config.WORKER === 'on' || (config.WORKER === 'auto' && ready.db.engine === 'pglite');
  if (runWorker) {
    worker = await ready.startWorker({
      log: (m) => {
        log.info(m);
      },
      ...options.worker,
    });
  }

  const httpServer = http.createServer(serverTimeouts(config));
  const { app, stop } = await createApp({ core: ready, config, limits, log, httpServer });

  let closed = false;
  return {
    app,
    core: ready,
    config,
    bootstrap: boot,
    listen(port = config.PORT, host = config.HOST) {
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          const { port: actual } = httpServer.address() as AddressInfo;
          const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
          resolve(`http://${shown}:${actual}`);
        });
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await stop();
      await worker?.stop({ timeoutMs: WORKER_STOP_TIMEOUT_MS });
      if (httpServer.listening)
        await new Promise<void>((resolve) =>
          httpServer.close(() => {
            resolve();
          }),
        );
      await closeOpened();
    },
  };
}
