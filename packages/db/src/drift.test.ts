import { cp, readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultMigrationsDir, migrate } from './migrate/runner.js';
import { actualShape, diffShapes, expectedShape, type SchemaShape } from './testing/drift.js';
import { testEngines, type TestDatabase } from './testing/engines.js';

describe.each(testEngines())('schema drift ($name)', (engine) => {
  let expected: SchemaShape;
  let fresh: TestDatabase;
  beforeAll(async () => {
    expected = await expectedShape();
    fresh = await engine.create();
  });
  afterAll(() => fresh.drop());

  it('the migrated database matches schema.prisma: tables, columns, types, nullability, uniques, enums', async () => {
    const problems = diffShapes(expected, await actualShape(fresh.db.sql));
    expect(problems).toEqual([]);
    // The comparison saw the real thing, not two empty shapes.
    expect(expected.columns.get('image_embeddings')?.get('embedding')).toBe('vector');
    expect(expected.uniques.get('products')).toContain('merchant_id,external_id');
  });

  it('reports a column dropped from a migration', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lookalike-drift-'));
    try {
      await cp(defaultMigrationsDir, dir, { recursive: true });
      const file = path.join(dir, '20261128000000_init', 'migration.sql');
      const sql = await readFile(file, 'utf8');
      const without = sql.replace('    "description" TEXT,\n', '');
      expect(without).not.toBe(sql);
      await writeFile(file, without);
      const broken = await engine.create({ migrate: false });
      try {
        await migrate(broken.db.sql, { dir });
        const problems = diffShapes(expected, await actualShape(broken.db.sql));
        expect(problems).toEqual([
          'column products.description (text null) is missing from the database',
        ]);
      } finally {
        await broken.drop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports type, nullability and unique differences', async () => {
    const mutated = structuredClone(expected);
    mutated.columns.get('products')?.set('title', 'text null');
    mutated.columns.get('product_images')?.set('width', 'bigint');
    mutated.uniques.get('api_keys')?.delete('prefix');
    expect(diffShapes(mutated, await actualShape(fresh.db.sql))).toEqual([
      'unique (prefix) on api_keys is not in schema.prisma',
      'column product_images.width: schema.prisma says "bigint", database has "integer"',
      'column products.title: schema.prisma says "text null", database has "text"',
    ]);
  });
});
