import { IN_MEMORY, createDb } from '@lookalike/db';
import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './rate-limit.js';

const nativeUrl = process.env.TEST_DATABASE_URL;

describe('rate limits', () => {
  it('allows perMinute points a minute per key, then answers the seconds to wait', async () => {
    const limiter = createRateLimiter({ perMinute: 5, keyPrefix: 'request' });
    for (let i = 0; i < 5; i++) expect(await limiter.take('k')).toBe(0);
    const wait = await limiter.take('k');
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(60);
    // Keys, and budgets, do not share counters.
    expect(await limiter.take('other')).toBe(0);
    const imports = createRateLimiter({ perMinute: 5, keyPrefix: 'import' });
    expect(await imports.take('k', 5)).toBe(0);
    expect(await imports.take('k', 1)).toBeGreaterThanOrEqual(1);
  });

  it('is off at 0', async () => {
    const off = createRateLimiter({ perMinute: 0, keyPrefix: 'request' });
    for (let i = 0; i < 100; i++) expect(await off.take('k')).toBe(0);
  });

  it('keeps counters in process on the embedded engine', async () => {
    const db = await createDb({ dataDir: IN_MEMORY, migrate: true });
    try {
      const a = createRateLimiter({ perMinute: 2, keyPrefix: 'request', sql: db.sql });
      const b = createRateLimiter({ perMinute: 2, keyPrefix: 'request', sql: db.sql });
      expect(await a.take('k', 2)).toBe(0);
      // Another limiter (another process, on this engine) has its own memory.
      expect(await b.take('k', 2)).toBe(0);
      expect(await a.take('k')).toBeGreaterThan(0);
    } finally {
      await db.close();
    }
  });

  it.skipIf(!nativeUrl)(
    'shares one budget across replicas on native Postgres (TEST_DATABASE_URL)',
    async () => {
      // Two databases handles stand for two API replicas on the same Postgres.
      const one = await createDb({ url: nativeUrl as string, migrate: true });
      const two = await createDb({ url: nativeUrl as string });
      try {
        const key = `replicas-${Date.now()}-${Math.random()}`;
        const a = createRateLimiter({ perMinute: 3, keyPrefix: 'request', sql: one.sql });
        const b = createRateLimiter({ perMinute: 3, keyPrefix: 'request', sql: two.sql });
        expect(await a.take(key)).toBe(0);
        expect(await b.take(key)).toBe(0);
        expect(await a.take(key)).toBe(0);
        expect(await b.take(key)).toBeGreaterThan(0);
        expect(await a.take(key)).toBeGreaterThan(0);
      } finally {
        await two.close();
        await one.close();
      }
    },
  );
});
