import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';

/** One database session: statements run in order on the same connection. */
export interface SqlSession {
  /** One parameterised statement ($1, $2 …); returns its rows. */
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /**
   * A script of several statements without parameters (migrations, the job queue's locked
   * commands); returns the rows of its last statement.
   */
  exec(script: string): Promise<Record<string, unknown>[]>;
}

/**
 * Raw SQL below Prisma, for what Prisma cannot do: migrations (scripts, advisory locks, session
 * state) and catalog introspection. Repositories go through Prisma.
 */
export interface SqlDriver {
  readonly engine: 'postgres' | 'pglite';
  /** Run `fn` on one dedicated session, released afterwards. */
  withSession<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
}

export function pgDriver(pool: pg.Pool): SqlDriver {
  return {
    engine: 'postgres',
    async withSession(fn) {
      const client = await pool.connect();
      try {
        return await fn({
          async query<Row>(sql: string, params: unknown[] = []) {
            const result = await client.query(sql, params);
            return result.rows as Row[];
          },
          async exec(script) {
            // A script of several statements answers one result per statement.
            const result = (await client.query(script)) as unknown as
              pg.QueryResult | pg.QueryResult[];
            const last = Array.isArray(result) ? result[result.length - 1] : result;
            return (last?.rows ?? []) as Record<string, unknown>[];
          },
        });
      } finally {
        client.release();
      }
    },
  };
}

/**
 * PGlite is a single Postgres session. Sessions handed out here are serialised with a queue so
 * that two callers in one process never interleave statements (one's BEGIN would swallow the
 * other's work).
 */
export function pgliteDriver(db: PGlite): SqlDriver {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    engine: 'pglite',
    withSession(fn) {
      const run = tail.then(() =>
        fn({
          async query<Row>(sql: string, params: unknown[] = []) {
            const result = await db.query<Row>(sql, params);
            return result.rows;
          },
          async exec(script) {
            const results = await db.exec(script);
            return results[results.length - 1]?.rows ?? [];
          },
        }),
      );
      tail = run.catch(() => undefined);
      return run;
    },
  };
}
