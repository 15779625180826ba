import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, IN_MEMORY, type Db } from '../create-db.js';

export type EngineName = 'pglite' | 'postgres';

export interface TestDatabase {
  db: Db;
  /** Connection string of the throwaway native database (undefined on PGlite). */
  url?: string;
  /** Close the handle and drop the throwaway database. */
  drop(): Promise<void>;
}

export interface TestEngine {
  name: EngineName;
  /** A fresh, isolated database: in-memory PGlite, or a new database on the native server. */
  create(options?: { migrate?: boolean }): Promise<TestDatabase>;
}

function databaseUrl(base: string, name: string): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A new empty database on the server of `baseUrl`; returns its URL and how to drop it. */
export async function createScratchDatabase(
  baseUrl: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `lookalike_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    url: databaseUrl(baseUrl, name),
    async drop() {
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * The engines a repository suite runs on: always embedded PGlite, and native Postgres when
 * TEST_DATABASE_URL is set (`.ci/run` sets it after scripts/setup-postgres.sh).
 */
export function testEngines(testDatabaseUrl = process.env.TEST_DATABASE_URL): TestEngine[] {
  const engines: TestEngine[] = [
    {
      name: 'pglite',
      async create({ migrate = true } = {}) {
        const db = await createDb({ dataDir: IN_MEMORY, migrate });
        return { db, drop: () => db.close() };
      },
    },
  ];
  if (testDatabaseUrl) {
    engines.push({
      name: 'postgres',
      async create({ migrate = true } = {}) {
        const scratch = await createScratchDatabase(testDatabaseUrl);
        const db = await createDb({ url: scratch.url, migrate, poolSize: 4 });
        return {
          db,
          url: scratch.url,
          async drop() {
            await db.close();
            await scratch.drop();
          },
        };
      },
    });
  }
  return engines;
}
