import { testEngines, type Repositories } from '@lookalike/db';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestCore, type TestCore } from '../testing/test-core.js';

/** A product photo that differs per seed (the store and the model see different bytes). */
function photo(seed: number): Promise<Buffer> {
  return sharp({
    create: {
      width: 96,
      height: 96,
      channels: 3,
      background: { r: (seed * 53) % 256, g: (seed * 97) % 256, b: (seed * 31) % 256 },
    },
  })
    .composite([
      {
        input: Buffer.from(
          `<svg width="96" height="96"><rect x="${20 + (seed % 30)}" y="20" width="40" height="${30 + (seed % 40)}" fill="#222"/></svg>`,
        ),
      },
    ])
    .png()
    .toBuffer();
}

describe.each(testEngines())('adding images: one transaction for the rows ($name)', (engine) => {
  let t: TestCore;

  beforeAll(async () => {
    t = await startTestCore(engine);
  });
  afterAll(() => t.stop());

  const snapshot = async () => ({
    products: await t.db.products.count(t.merchantId),
    images: await t.db.images.count(t.merchantId),
    vectors: await t.db.embeddings.count(t.merchantId, 'fashion-resnet-v1'),
  });

  it('files sharing a new externalId, uploaded at once, end as one product with all their images', async () => {
    const added = await Promise.all(
      [1, 2, 3, 4].map(async (i) =>
        t.core.catalog.addImage(
          t.merchantId,
          { externalId: 'SHARED-1', mode: 'ensure', title: 'Shared' },
          await photo(i),
        ),
      ),
    );
    expect(new Set(added.map((a) => a.product.id)).size).toBe(1);
    expect(added.filter((a) => a.createdProduct)).toHaveLength(1);
    const productId = added[0]?.product.id as string;
    expect(await t.db.images.list(t.merchantId, productId)).toHaveLength(4);
    for (const a of added) {
      expect(a.image.status).toBe('READY');
      expect(await t.core.store.has(a.image.sha256)).toBe(true);
      expect(await t.db.embeddings.get(t.merchantId, 'fashion-resnet-v1', a.image.id)).toHaveLength(
        128,
      );
    }
  });

  it('concurrent creates of one new externalId: one wins, the others are CONFLICT and leave nothing', async () => {
    const before = await snapshot();
    const results = await Promise.allSettled(
      [11, 12, 13].map(async (i) =>
        t.core.catalog.addImage(
          t.merchantId,
          { externalId: 'CREATE-RACE', mode: 'create' },
          await photo(i),
        ),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      expect(r.reason).toMatchObject({ code: 'CONFLICT' });
    }
    const after = await snapshot();
    expect(after).toEqual({
      products: before.products + 1,
      images: before.images + 1,
      vectors: before.vectors + 1,
    });
    const { sha256Hex } = await import('@lookalike/inference');
    const kept = await Promise.all(
      [11, 12, 13].map(async (i) => t.core.store.has(sha256Hex(await photo(i)))),
    );
    expect(kept.filter(Boolean)).toHaveLength(1);
  });

  it('attach needs the product, create refuses an existing one; neither leaves anything behind', async () => {
    const before = await snapshot();
    const bytes = await photo(50);
    await expect(
      t.core.catalog.addImage(t.merchantId, { externalId: 'NOPE', mode: 'attach' }, bytes),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(
      t.core.catalog.addImage(t.merchantId, { externalId: 'SHARED-1', mode: 'create' }, bytes),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    const corrupt = bytes.subarray(0, 200);
    await expect(
      t.core.catalog.addImage(t.merchantId, { externalId: 'NEW-X', mode: 'ensure' }, corrupt),
    ).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(await snapshot()).toEqual(before);
    expect(await t.core.catalog.getByExternalId(t.merchantId, 'NEW-X')).toBeNull();
  });

  it('a failure inside the transaction rolls back the new product and image, and removes the file', async () => {
    const before = await snapshot();
    const bytes = await photo(60);
    const original = t.db.transaction.bind(t.db);
    const spy = vi.spyOn(t.db, 'transaction').mockImplementation((fn, options) =>
      original((tx) => {
        const failing: Repositories = {
          ...tx,
          embeddings: Object.assign(Object.create(tx.embeddings) as typeof tx.embeddings, {
            upsert: () => Promise.reject(new Error('disk full')),
          }),
        };
        return fn(failing);
      }, options),
    );
    try {
      await expect(
        t.core.catalog.addImage(t.merchantId, { externalId: 'ROLLBACK-1', mode: 'ensure' }, bytes),
      ).rejects.toThrow('disk full');
    } finally {
      spy.mockRestore();
    }
    expect(await snapshot()).toEqual(before);
    expect(await t.core.catalog.getByExternalId(t.merchantId, 'ROLLBACK-1')).toBeNull();
    const { sha256Hex } = await import('@lookalike/inference');
    expect(await t.core.store.has(sha256Hex(bytes))).toBe(false);
  });

  it('keeps a file while any image uses its bytes, and deletes it with the last one', async () => {
    const bytes = await photo(70);
    const a = await t.core.catalog.addImage(
      t.merchantId,
      { externalId: 'GC-A', mode: 'create' },
      bytes,
    );
    const b = await t.core.catalog.addImage(
      t.merchantId,
      { externalId: 'GC-B', mode: 'create' },
      bytes,
    );
    expect(b.image.sha256).toBe(a.image.sha256);
    // The same bytes again on the same product are one image.
    const again = await t.core.catalog.addImage(t.merchantId, { productId: a.product.id }, bytes);
    expect(again).toMatchObject({ createdImage: false, image: { id: a.image.id } });
    expect(await t.core.catalog.delete(t.merchantId, a.product.id)).toBe(true);
    expect(await t.core.store.has(a.image.sha256)).toBe(true);
    expect(await t.core.catalog.removeImage(t.merchantId, b.image.id)).toBe(true);
    expect(await t.core.store.has(a.image.sha256)).toBe(false);
  });
});
