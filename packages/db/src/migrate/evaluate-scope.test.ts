// The EVALUATE scope arrives on an existing install: keys that could tune the settings keep
// evaluating, a SEARCH-only key (a storefront's) no longer can.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEngines, type TestDatabase } from '../testing/engines.js';
import { defaultMigrationsDir, migrate } from './runner.js';

const EVALUATION_MIGRATIONS = ['20261204000000_evaluation_jobs', '20261204000001_evaluate_scope'];

describe.each(testEngines())('the EVALUATE scope on an existing install ($name)', (engine) => {
  let db: TestDatabase;
  let before: string;

  beforeAll(async () => {
    // The migrations as they were before evaluations became jobs.
    before = await mkdtemp(path.join(tmpdir(), 'lookalike-migrations-'));
    await cp(defaultMigrationsDir, before, {
      recursive: true,
      filter: (src) => !EVALUATION_MIGRATIONS.some((m) => src.includes(m)),
    });
    db = await engine.create({ migrate: false });
    await migrate(db.db.sql, { dir: before });
  });

  afterAll(async () => {
    await db.drop();
    await rm(before, { recursive: true, force: true });
  });

  it('grants EVALUATE to keys with SETTINGS_WRITE only', async () => {
    const run = (q: string) => db.db.sql.withSession((s) => s.query(q, []));
    await run(`INSERT INTO merchants (id, name, updated_at)
               VALUES ('01900000-0000-7000-8000-000000000001', 'm', now())`);
    const key = (id: number, scopes: string) =>
      run(`INSERT INTO api_keys (id, merchant_id, name, prefix, secret_hash, scopes)
           VALUES ('01900000-0000-7000-8000-00000000010${id}', '01900000-0000-7000-8000-000000000001',
                   'k${id}', 'prefix${id}', 'hash', '{${scopes}}')`);
    await key(1, 'SEARCH,CATALOG_WRITE,SETTINGS_WRITE,KEYS_ADMIN,MERCHANTS_ADMIN');
    await key(2, 'SEARCH');
    await key(3, 'SEARCH,SETTINGS_WRITE');

    const applied = await migrate(db.db.sql);
    expect(applied.applied).toEqual(EVALUATION_MIGRATIONS);
    const rows = (await run(
      `SELECT name, scopes::text[] AS scopes FROM api_keys ORDER BY name`,
    )) as { name: string; scopes: string[] }[];
    expect(rows.map((r) => [r.name, r.scopes.includes('EVALUATE')])).toEqual([
      ['k1', true],
      ['k2', false],
      ['k3', true],
    ]);
  });
});
