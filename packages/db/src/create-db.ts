import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
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
import { EmbeddingModelRepository } from './repositories/embedding-model.repository.js';
import { EmbeddingRepository } from './repositories/embedding.repository.js';
import { ImageRepository } from './repositories/image.repository.js';
import { MerchantRepository } from './repositories/merchant.repository.js';
import { ProductRepository } from './repositories/product.repository.js';
import { SettingsRepository } from './repositories/settings.repository.js';

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

export interface Db {
  readonly engine: 'postgres' | 'pglite';
  readonly prisma: PrismaClient;
  /** Raw sessions for migrations and introspection; repositories are the way to the data. */
  readonly sql: SqlDriver;
  readonly merchants: MerchantRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly products: ProductRepository;
  readonly images: ImageRepository;
  readonly models: EmbeddingModelRepository;
  readonly embeddings: EmbeddingRepository;
  readonly settings: SettingsRepository;
  migrate(): Promise<MigrateResult>;
  migrationStatus(): Promise<MigrationStatus>;
  /** Resolves when the database answers a query. */
  ping(): Promise<void>;
  /**
   * Run `fn` while holding a database-wide advisory lock named `name`: one process at a time,
   * across every process on this database (e.g. first-start bootstrapping of API replicas).
   */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

interface Engine {
  engine: Db['engine'];
  prisma: PrismaClient;
  sql: SqlDriver;
  close(): Promise<void>;
}

function openPostgres(url: string, poolSize: number): Engine {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // An idle client losing its connection must not crash the process.
  pool.on('error', () => undefined);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    engine: 'postgres',
    prisma,
    sql: pgDriver(pool),
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function openPglite(dataDir: string): Promise<Engine> {
  let lock: DirLock | undefined;
  let pglite: PGlite;
  if (dataDir === IN_MEMORY) {
    pglite = new PGlite({ extensions: { vector } });
  } else {
    lock = await lockDataDir(dataDir);
    try {
      pglite = new PGlite(path.join(dataDir, 'pglite'), { extensions: { vector } });
      await pglite.waitReady;
    } catch (error) {
      await lock.release();
      throw error;
    }
  }
  await pglite.waitReady;
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  return {
    engine: 'pglite',
    prisma,
    sql: pgliteDriver(pglite),
    async close() {
      await prisma.$disconnect();
      await pglite.close();
      await lock?.release();
    },
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
    : await openPglite(dataDir === IN_MEMORY ? IN_MEMORY : path.resolve(dataDir));
  const { prisma, sql } = engine;
  const models = new EmbeddingModelRepository(prisma);
  const db: Db = {
    engine: engine.engine,
    prisma,
    sql,
    merchants: new MerchantRepository(prisma),
    apiKeys: new ApiKeyRepository(prisma),
    products: new ProductRepository(prisma),
    images: new ImageRepository(prisma),
    models,
    embeddings: new EmbeddingRepository(prisma, models),
    settings: new SettingsRepository(prisma),
    migrate: () => migrate(sql, { log }),
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
    close: () => engine.close(),
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
