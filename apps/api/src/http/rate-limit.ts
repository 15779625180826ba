import type { SqlDriver } from '@lookalike/db';
import {
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';

/**
 * A budget of `perMinute` points per key and minute (fixed windows). On native Postgres the
 * counters live in the database (`rate_limits`, rate-limiter-flexible's Postgres store), so
 * every API replica draws on the same budget; on the embedded engine there is one process, and
 * they stay in memory.
 */
export interface RateLimiter {
  readonly perMinute: number;
  /** Take `points`; resolves 0 when allowed, else the seconds until the budget allows it. */
  take(key: string, points?: number): Promise<number>;
}

/** The Postgres store's client: statements through the database driver (native only). */
function storeClient(sql: SqlDriver) {
  return {
    query: async (q: { text: string; values?: unknown[] }) => ({
      rows: await sql.withSession((s) => s.query(q.text, q.values ?? [])),
    }),
  };
}

export function createRateLimiter(options: {
  perMinute: number;
  /** Names the budget: `request` and `import` are separate budgets for the same key. */
  keyPrefix: string;
  /** The database driver; counters are shared through it on native Postgres. */
  sql?: SqlDriver;
}): RateLimiter {
  const { perMinute, keyPrefix, sql } = options;
  if (perMinute <= 0) return { perMinute, take: () => Promise.resolve(0) };
  const common = { points: perMinute, duration: 60, keyPrefix };
  const limiter: RateLimiterAbstract =
    sql?.engine === 'postgres'
      ? new RateLimiterPostgres({
          ...common,
          storeClient: storeClient(sql),
          storeType: 'pool',
          tableName: 'rate_limits',
          // The table is the migrations' (20261203000000_imports_webhooks).
          tableCreated: true,
          clearExpiredByTimeout: false,
        })
      : new RateLimiterMemory(common);
  return {
    perMinute,
    async take(key, points = 1) {
      try {
        await limiter.consume(key, points);
        return 0;
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) {
          return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
        }
        throw rejection;
      }
    },
  };
}
