import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEngines, type TestDatabase } from '../testing/engines.js';
import { defaultMigrationsDir, migrate } from './runner.js';

const INIT = '20261128000000_init';

/**
 * A database written by the previous version (only the first migration, data as that version
 * wrote it: one global ACTIVE model, one settings row per merchant) upgraded by the current
 * migrations: nothing is lost, every merchant serves the model its vectors are in, with the
 * settings it had.
 */
describe.each(testEngines())('upgrading a database of the previous version ($name)', (engine) => {
  let t: TestDatabase;
  let initOnly: string;
  const ids = {
    a: '0190a000-0000-7000-8000-00000000000a',
    b: '0190a000-0000-7000-8000-00000000000b',
    empty: '0190a000-0000-7000-8000-0000000000ee',
  };

  beforeAll(async () => {
    initOnly = await mkdtemp(path.join(tmpdir(), 'lookalike-upgrade-'));
    await cp(path.join(defaultMigrationsDir, INIT), path.join(initOnly, INIT), {
      recursive: true,
    });
    t = await engine.create({ migrate: false });
    await migrate(t.db.sql, { dir: initOnly });
    const v = (x: number) =>
      `[${Array.from({ length: 128 }, (_, i) => Math.cos(i * x)).join(',')}]`;
    await t.db.sql.withSession(async (s) => {
      for (const [id, name] of [
        [ids.a, 'A'],
        [ids.b, 'B'],
        [ids.empty, 'Empty'],
      ]) {
        await s.query(`INSERT INTO merchants (id, name, updated_at) VALUES ($1, $2, now())`, [
          id,
          name,
        ]);
      }
      // B also holds vectors of a second model, registered BACKFILLING by the old version.
      await s.query(
        `INSERT INTO embedding_models (id, dims, status) VALUES ('other-v1', 128, 'BACKFILLING')`,
      );
      let n = 0;
      for (const merchant of [ids.a, ids.b]) {
        for (let i = 0; i < 3; i++) {
          n++;
          const product = `0190a000-0000-7000-8000-1000000000${String(n).padStart(2, '0')}`;
          const image = `0190a000-0000-7000-8000-2000000000${String(n).padStart(2, '0')}`;
          await s.query(
            `INSERT INTO products (id, merchant_id, external_id, title, updated_at) VALUES ($1, $2, $3, 'p', now())`,
            [product, merchant, `X-${n}`],
          );
          await s.query(
            `INSERT INTO product_images (id, merchant_id, product_id, sha256, mime, width, height, byte_size, storage_key, status)
             VALUES ($1, $2, $3, $4, 'image/png', 1, 1, 1, 'k', 'READY')`,
            [image, merchant, product, String(n).padStart(64, '0')],
          );
          await s.query(
            `INSERT INTO image_embeddings (id, image_id, model_id, merchant_id, product_id, embedding)
             VALUES (gen_random_uuid(), $1, 'fashion-resnet-v1', $2, $3, $4::vector)`,
            [image, merchant, product, v(n)],
          );
          if (merchant === ids.b && i === 0) {
            await s.query(
              `INSERT INTO image_embeddings (id, image_id, model_id, merchant_id, product_id, embedding)
               VALUES (gen_random_uuid(), $1, 'other-v1', $2, $3, $4::vector)`,
              [image, merchant, product, v(n + 10)],
            );
          }
        }
      }
      await s.query(
        `INSERT INTO search_settings (merchant_id, metric, search_threshold, match_threshold, top_k, updated_at)
         VALUES ($1, 'EUCLIDEAN', 1.1, 0.4, 7, now())`,
        [ids.a],
      );
    });
    await migrate(t.db.sql);
  });
  afterAll(async () => {
    await t.drop();
    await rm(initOnly, { recursive: true, force: true });
  });

  it('every merchant serves the model its vectors are in; other models are kept READY', async () => {
    expect((await t.db.merchantModels.list(ids.a)).map((m) => [m.modelId, m.status])).toEqual([
      ['fashion-resnet-v1', 'ACTIVE'],
    ]);
    expect(
      (await t.db.merchantModels.list(ids.b))
        .map((m) => [m.modelId, m.status])
        .sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    ).toEqual([
      ['fashion-resnet-v1', 'ACTIVE'],
      ['other-v1', 'READY'],
    ]);
    // No existing row asks to switch models when a re-index completes.
    expect((await t.db.merchantModels.list(ids.b)).map((m) => m.activateWhenReady)).toEqual([
      false,
      false,
    ]);
    // A merchant without vectors gets the model the old version ran as ACTIVE.
    expect((await t.db.merchantModels.active(ids.empty))?.modelId).toBe('fashion-resnet-v1');
    expect((await t.db.merchantModels.coverage(ids.b)).get('other-v1')).toMatchObject({
      total: 3,
      embedded: 1,
    });
  });

  it('keeps saved settings, now for the merchant’s active model, and every row', async () => {
    expect(await t.db.settings.get(ids.a, 'fashion-resnet-v1')).toMatchObject({
      metric: 'euclidean',
      searchThreshold: 1.1,
      matchThreshold: 0.4,
      topK: 7,
    });
    expect((await t.db.merchantModels.serving(ids.a))?.settings?.topK).toBe(7);
    expect(await t.db.settings.get(ids.b, 'fashion-resnet-v1')).toMatchObject({
      metric: 'cosine',
      updatedAt: null,
    });
    expect(await t.db.products.count(ids.a)).toBe(3);
    expect(await t.db.images.count(ids.b)).toBe(3);
    expect(await t.db.embeddings.count(ids.b, 'fashion-resnet-v1')).toBe(3);
    expect(await t.db.embeddings.count(ids.b, 'other-v1')).toBe(1);
    const hits = await t.db.embeddings.nearest({
      merchantId: ids.a,
      modelId: 'fashion-resnet-v1',
      vector: Array.from({ length: 128 }, (_, i) => Math.cos(i * 2)),
      metric: 'cosine',
      k: 1,
    });
    expect(hits[0]?.score).toBeCloseTo(1, 5);
  });
});
