import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { DbClient } from './client.js';
import { pgDriver, pgliteDriver, type SqlDriver } from './driver.js';
import { PrismaClient } from './generated/prisma/client.js';
import { lockDataDir, type DirLock } from './lockfile.js';
import {
  migrate,
  migrationStatus,
  type MigrateResult,
  type MigrationStatus,
} from './migrate/runner.js';
import { ApiKeyRepository } from './repositories/api-key.repository.js';
import {
  EmbeddingModelRepository,
  type EmbeddingModelRecord,
} from './repositories/embedding-model.repository.js';
import { EmbeddingRepository, HNSW_EF_SEARCH } from './repositories/embedding.repository.js';
import { ImageRepository } from './repositories/image.repository.js';
import { IngestRepository } from './repositories/ingest.repository.js';
import { MerchantModelRepository } from './repositories/merchant-model.repository.js';
import { MerchantRepository } from './repositories/merchant.repository.js';
import { ProductRepository } from './repositories/product.repository.js';
import { SettingsRepository } from './repositories/settings.repository.js';
import { WebhookRepository } from './repositories/webhook.repository.js';
import { EvaluationRepository } from './repositories/evaluation.repository.js';
import { countRoundTrips } from './round-trips.js';
import { TableStats } from './table-stats.js';

/** Keep PGlite's data in memory (tests); nothing is written to disk and no lock is taken. */
export const IN_MEMORY = 'memory://';

export interface CreateDbOptions {
  /** Native Postgres connection string. When absent, the embedded PGlite engine is used. */
  url?: string;
  /**
   * Data directory of the embedded engine (DATA_DIR, default `./.data`); its database lives in
   * `<dataDir>/pglite`, guarded by `<dataDir>/lookalike.lock`. `memory://` keeps it in memory.
   */
  dataDir?: string;
  /** Apply pending migrations before returning. */
  migrate?: boolean;
  /** Connections in the native pool. */
  poolSize?: number;
  log?: (message: string) => void;
}

/** The repositories, all bound to one client: the database's, or one transaction's. */
export interface Repositories {
  readonly merchants: MerchantRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly products: ProductRepository;
  readonly images: ImageRepository;
  readonly models: EmbeddingModelRepository;
  readonly merchantModels: MerchantModelRepository;
  readonly embeddings: EmbeddingRepository;
  readonly settings: SettingsRepository;
  readonly ingest: IngestRepository;
  readonly webhooks: WebhookRepository;
  readonly evaluations: EvaluationRepository;
}

export interface TransactionOptions {
  /** Longest the transaction may run before it is rolled back (default 10 s). */
  timeoutMs?: number;
}

export interface Db extends Repositories {
  readonly engine: 'postgres' | 'pglite';
  readonly prisma: PrismaClient;
  /** Raw sessions for migrations and introspection; repositories are the way to the data. */
  readonly sql: SqlDriver;
  /**
   * Run `fn` in one transaction with repositories bound to it: everything it writes commits
   * together, or nothing does when it throws. Keep it short and free of other I/O that waits
   * on the database: PGlite is one session, so every other query waits for it to end.
   */
  transaction<T>(fn: (tx: Repositories) => Promise<T>, options?: TransactionOptions): Promise<T>;
  migrate(): Promise<MigrateResult>;
  migrationStatus(): Promise<MigrationStatus>;
  /** Resolves when the database answers a query. */
  ping(): Promise<void>;
  /**
   * Run `fn` while holding a database-wide advisory lock named `name`: one process at a time,
   * across every process on this database (e.g. first-start bootstrapping of API replicas).
   */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Statements sent through the repositories since the handle opened (one round trip each). */
  roundTrips(): number;
  close(): Promise<void>;
}

interface Engine {
  engine: Db['engine'];
  adapter: SqlDriverAdapterFactory;
  sql: SqlDriver;
  close(): Promise<void>;
}

/**
 * What every connection starts with, so that a default nearest-neighbour query is a single
 * statement (no SET LOCAL in a transaction around it):
 * - the ef_search the repository chose (HNSW_EF_SEARCH), and iterative index scans so a
 *   filtered query still returns k rows; `hnsw.*` are accepted before pgvector loads and apply
 *   once it does;
 * - no JIT: a k-NN query runs in about a millisecond; JIT compilation of one costs 100+ ms (seen
 *   with EXPLAIN ANALYZE on native Postgres 15).
 */
const SESSION_SETTINGS: readonly [string, string][] = [
  ['hnsw.ef_search', String(HNSW_EF_SEARCH)],
  ['hnsw.iterative_scan', 'relaxed_order'],
  ['jit', 'off'],
];

function openPostgres(url: string, poolSize: number): Engine {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    options: SESSION_SETTINGS.map(([k, v]) => `-c ${k}=${v}`).join(' '),
  });
  // An idle client losing its connection must not crash the process.
  pool.on('error', () => undefined);
  return {
    engine: 'postgres',
    adapter: new PrismaPg(pool),
    sql: pgDriver(pool),
    close: () => pool.end(),
  };
}

async function openPglite(dataDir: string, log: (message: string) => void): Promise<Engine> {
  let lock: DirLock | undefined;
  let pglite: PGlite;
  if (dataDir === IN_MEMORY) {
    pglite = new PGlite({ extensions: { vector } });
  } else {
    lock = await lockDataDir(dataDir, { log });
    try {
      pglite = new PGlite(path.join(dataDir, 'pglite'), { extensions: { vector } });
      await pglite.waitReady;
    } catch (error) {
      await lock.release();
      throw error;
    }
  }
  await pglite.waitReady;
  // PGlite is a single session: set once, it holds for every query.
  for (const [k, v] of SESSION_SETTINGS) {
    if (k !== 'jit') await pglite.query(`SELECT set_config($1, $2, false)`, [k, v]);
  }
  return {
    engine: 'pglite',
    adapter: new PrismaPGlite(pglite),
    sql: pgliteDriver(pglite),
    async close() {
      await pglite.close();
      await lock?.release();
    },
  };
}

function repositories(
  client: DbClient,
  engine: Db['engine'],
  modelCache: Map<string, EmbeddingModelRecord>,
  stats: TableStats,
): Repositories {
  const models = new EmbeddingModelRepository(client, modelCache);
  return {
    merchants: new MerchantRepository(client),
    apiKeys: new ApiKeyRepository(client),
    products: new ProductRepository(client),
    images: new ImageRepository(client, engine),
    models,
    merchantModels: new MerchantModelRepository(client),
    embeddings: new EmbeddingRepository(client, models, (n) => {
      stats.note(n);
    }),
    settings: new SettingsRepository(client),
    ingest: new IngestRepository(client),
    webhooks: new WebhookRepository(client),
    evaluations: new EvaluationRepository(client),
  };
}

/**
 * Open the database: native Postgres when `url` is given, else embedded PGlite under `dataDir`.
 * Nothing connects at import time; the handle owns its connections until `close()`.
 */
export async function createDb(options: CreateDbOptions = {}): Promise<Db> {
  const { url, dataDir = './.data', poolSize = 10, log = () => undefined } = options;
  const engine = url
    ? openPostgres(url, poolSize)
    : await openPglite(dataDir === IN_MEMORY ? IN_MEMORY : path.resolve(dataDir), log);
  const { factory, counter } = countRoundTrips(engine.adapter);
  const prisma = new PrismaClient({ adapter: factory });
  const { sql } = engine;
  const modelCache = new Map<string, EmbeddingModelRecord>();
  const stats = new TableStats(prisma, log);
  const db: Db = {
    engine: engine.engine,
    prisma,
    sql,
    ...repositories(prisma, engine.engine, modelCache, stats),
    transaction: (fn, { timeoutMs = 10_000 } = {}) =>
      prisma.$transaction((tx) => fn(repositories(tx, engine.engine, modelCache, stats)), {
        timeout: timeoutMs,
        maxWait: timeoutMs,
      }),
    async migrate() {
      const result = await migrate(sql, { log });
      await stats.refresh();
      return result;
    },
    migrationStatus: () => migrationStatus(sql),
    async ping() {
      await prisma.$queryRaw`SELECT 1`;
    },
    withLock: (name, fn) =>
      sql.withSession(async (session) => {
        await session.query('SELECT pg_advisory_lock(hashtext($1))', [name]);
        try {
          return await fn();
        } finally {
          await session.query('SELECT pg_advisory_unlock(hashtext($1))', [name]);
        }
      }),
    roundTrips: () => counter.count,
    async close() {
      await stats.close();
      await prisma.$disconnect();
      await engine.close();
    },
  };
  if (options.migrate) {
    try {
      await db.migrate();
    } catch (error) {
      await db.close();
      throw error;
    }
  }
  return db;
}
