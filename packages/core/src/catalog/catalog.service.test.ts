import { testEngines, type Repositories } from '@lookalike/db';
import { sha256Hex } from '@lookalike/inference';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { until } from '../testing/fixtures.js';
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

  describe('image files follow the rows: a delete racing an upload leaves no file behind', () => {
    /** Resolves once `check` holds; polls a condition (no fixed sleeps). */
    it('an upload that commits just before the product is deleted leaves no file (nor row)', async () => {
      const { product } = await t.core.catalog.addImage(
        t.merchantId,
        { externalId: 'RACE-DEL-1', mode: 'create' },
        await photo(80),
      );
      const bytes = await photo(81);
      const sha256 = sha256Hex(bytes);
      // The upload runs to its commit at the last moment the delete leaves open: after anything
      // the delete read before it removes the product, and outside any transaction of its own.
      let upload: Promise<unknown> | undefined;
      const race = () =>
        (upload ??= t.core.catalog.addImage(t.merchantId, { productId: product.id }, bytes));
      const originalDelete = t.db.products.delete.bind(t.db.products);
      const originalTransaction = t.db.transaction.bind(t.db);
      const onDelete = vi.spyOn(t.db.products, 'delete').mockImplementation(async (...args) => {
        await race();
        return originalDelete(...args);
      });
      const onTransaction = vi
        .spyOn(t.db, 'transaction')
        .mockImplementation(async (fn, options) => {
          if (!upload) await race();
          return originalTransaction(fn, options);
        });
      try {
        expect(await t.core.catalog.delete(t.merchantId, product.id)).toBe(true);
      } finally {
        onDelete.mockRestore();
        onTransaction.mockRestore();
      }
      await expect(upload).resolves.toMatchObject({ image: { sha256 } });
      expect(await t.db.images.list(t.merchantId, product.id)).toEqual([]);
      expect(await t.db.images.findBySha256(t.merchantId, sha256)).toEqual([]);
      expect(await t.core.store.has(sha256)).toBe(false);
      expect(await t.core.store.get(sha256)).toBeNull();
    });

    // Native only: PGlite has one connection, so a delete cannot wait on another transaction's
    // lock there (it queues behind the whole transaction instead).
    it.runIf(engine.name === 'postgres')(
      'a delete waiting on an upload’s open transaction removes the image it then commits',
      async () => {
        const { product } = await t.core.catalog.addImage(
          t.merchantId,
          { externalId: 'RACE-DEL-2', mode: 'create' },
          await photo(82),
        );
        const bytes = await photo(83);
        const sha256 = sha256Hex(bytes);
        let inserted!: () => void;
        const rowWritten = new Promise<void>((r) => (inserted = r));
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        const original = t.db.transaction.bind(t.db);
        // The upload's transaction stops after inserting its image row (uncommitted) until
        // the delete is seen waiting on a lock.
        const spy = vi.spyOn(t.db, 'transaction').mockImplementationOnce((fn, options) =>
          original(
            (tx) =>
              fn({
                ...tx,
                images: Object.assign(Object.create(tx.images) as typeof tx.images, {
                  add: async (...args: Parameters<typeof tx.images.add>) => {
                    const added = await tx.images.add(...args);
                    inserted();
                    await gate;
                    return added;
                  },
                }),
              }),
            options,
          ),
        );
        const upload = t.core.catalog.addImage(t.merchantId, { productId: product.id }, bytes);
        try {
          await rowWritten;
        } finally {
          spy.mockRestore();
        }
        const deletion = t.core.catalog.delete(t.merchantId, product.id);
        await until(
          async () => {
            const rows = await t.db.prisma.$queryRaw<{ n: number }[]>`
            SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock'`;
            return (rows[0]?.n ?? 0) > 0;
          },
          'the delete to wait on the upload',
          { timeoutMs: 10_000, intervalMs: 10 },
        );
        release();
        await expect(upload).resolves.toMatchObject({ image: { sha256 } });
        expect(await deletion).toBe(true);
        expect(await t.db.images.findBySha256(t.merchantId, sha256)).toEqual([]);
        expect(await t.core.store.has(sha256)).toBe(false);
      },
    );

    it('an upload whose product is deleted before its transaction removes the file it wrote', async () => {
      const { product } = await t.core.catalog.addImage(
        t.merchantId,
        { externalId: 'RACE-DEL-3', mode: 'create' },
        await photo(84),
      );
      const bytes = await photo(85);
      const sha256 = sha256Hex(bytes);
      const originalPut = t.core.store.put.bind(t.core.store);
      const spy = vi.spyOn(t.core.store, 'put').mockImplementationOnce(async (b) => {
        const stored = await originalPut(b);
        expect(await t.core.catalog.delete(t.merchantId, product.id)).toBe(true);
        return stored;
      });
      try {
        await expect(
          t.core.catalog.addImage(t.merchantId, { productId: product.id }, bytes),
        ).rejects.toMatchObject({ code: 'NOT_FOUND' });
      } finally {
        spy.mockRestore();
      }
      expect(await t.db.images.findBySha256(t.merchantId, sha256)).toEqual([]);
      expect(await t.core.store.has(sha256)).toBe(false);
    });

    it('a delete keeps a file whose bytes another merchant’s product still uses', async () => {
      const bytes = await photo(86);
      const sha256 = sha256Hex(bytes);
      const other = await t.db.merchants.create('Other shop');
      const theirs = await t.core.catalog.addImage(
        other.id,
        { externalId: 'SAME-BYTES', mode: 'create' },
        bytes,
      );
      const ours = await t.core.catalog.addImage(
        t.merchantId,
        { externalId: 'SAME-BYTES', mode: 'create' },
        bytes,
      );
      expect(await t.core.catalog.delete(t.merchantId, ours.product.id)).toBe(true);
      expect(await t.core.store.has(sha256)).toBe(true);
      expect(await t.db.images.get(other.id, theirs.image.id)).toMatchObject({ sha256 });
      expect(await t.core.catalog.delete(other.id, theirs.product.id)).toBe(true);
      expect(await t.core.store.has(sha256)).toBe(false);
    });
  });
});
