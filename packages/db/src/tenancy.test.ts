import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from './errors.js';
import { testEngines, type TestDatabase } from './testing/engines.js';

const MODEL = 'fashion-resnet-v1';
const vector = Array.from({ length: 128 }, (_, i) => Math.cos(i));

/**
 * Merchant A holds B's ids (guessed, leaked, or from an old link) and tries every repository
 * call with them. Each must behave as if the row did not exist, and B's data must not change.
 */
describe.each(testEngines())('tenant isolation ($name)', (engine) => {
  let t: TestDatabase;
  let a: string;
  let b: string;
  const ids = { product: '', image: '', key: '', externalId: 'B-SECRET', sha: 'b'.repeat(64) };

  async function snapshotOfB() {
    const db = t.db;
    return {
      products: await db.prisma.product.findMany({
        where: { merchantId: b },
        orderBy: { id: 'asc' },
      }),
      images: await db.prisma.productImage.findMany({
        where: { merchantId: b },
        orderBy: { id: 'asc' },
      }),
      vectors: await db.embeddings.get(b, MODEL, ids.image),
      settings: await db.settings.get(b, MODEL),
      keys: await db.apiKeys.list(b),
    };
  }

  beforeAll(async () => {
    t = await engine.create();
    a = (await t.db.merchants.create('A')).id;
    b = (await t.db.merchants.create('B')).id;
    const product = await t.db.products.create(b, {
      externalId: ids.externalId,
      title: 'B only',
      category: 'secret',
      labels: { tier: 'vip' },
      price: 99,
    });
    ids.product = product.id;
    const { image } = await t.db.images.add(b, {
      productId: product.id,
      sha256: ids.sha,
      mime: 'image/png',
      width: 5,
      height: 5,
      byteSize: 5,
      storageKey: 'b/key',
    });
    ids.image = image.id;
    await t.db.embeddings.upsert(b, MODEL, { imageId: image.id, vector });
    await t.db.settings.update(b, MODEL, { metric: 'euclidean', searchThreshold: 0.9, topK: 7 });
    ids.key = (
      await t.db.apiKeys.create(b, {
        name: 'b',
        prefix: 'bbbbbbbb',
        secretHash: 'c'.repeat(64),
        scopes: ['SEARCH'],
      })
    ).id;
    // A has a little catalog of its own.
    const mine = await t.db.products.create(a, {
      externalId: 'A-1',
      title: 'A only',
      category: 'open',
    });
    const { image: img } = await t.db.images.add(a, {
      productId: mine.id,
      sha256: 'a'.repeat(64),
      mime: 'image/png',
      width: 5,
      height: 5,
      byteSize: 5,
      storageKey: 'a/key',
    });
    await t.db.embeddings.upsert(a, MODEL, { imageId: img.id, vector: vector.map((x) => -x) });
  });
  afterAll(() => t.drop());

  it('A cannot read, change or delete B’s rows through any repository call', async () => {
    const before = await snapshotOfB();
    const db = t.db;

    // products
    expect(await db.products.get(a, ids.product)).toBeNull();
    expect(await db.products.getByExternalId(a, ids.externalId)).toBeNull();
    expect(await db.products.getMany(a, [ids.product])).toEqual([]);
    expect(await db.products.update(a, ids.product, { title: 'pwned', price: 0 })).toBeNull();
    expect(await db.products.delete(a, ids.product)).toBe(false);
    const page = await db.products.list(a, { first: 100 });
    expect(page.items.map((p) => p.externalId)).toEqual(['A-1']);
    expect(page.totalCount).toBe(1);
    expect(await db.products.count(a, { category: 'secret' })).toBe(0);
    expect(
      await db.products.list(a, { first: 10, filter: { labels: { tier: 'vip' } } }),
    ).toMatchObject({ totalCount: 0 });
    expect(await db.products.categories(a)).toEqual([{ category: 'open', count: 1 }]);
    // An upsert with B's externalId makes A's own product; B's is untouched.
    const own = await db.products.upsert(a, {
      externalId: ids.externalId,
      title: 'A reuses the id',
    });
    expect(own.merchantId).toBe(a);
    expect(own.id).not.toBe(ids.product);

    // images
    await expect(
      db.images.add(a, {
        productId: ids.product,
        sha256: 'd'.repeat(64),
        mime: 'image/png',
        width: 1,
        height: 1,
        byteSize: 1,
        storageKey: 'x',
      }),
    ).rejects.toThrow(NotFoundError);
    expect(await db.images.get(a, ids.image)).toBeNull();
    expect(await db.images.list(a, ids.product)).toEqual([]);
    expect(await db.images.getMany(a, [ids.image])).toEqual([]);
    expect((await db.images.listForProducts(a, [ids.product])).get(ids.product)).toEqual([]);
    expect(await db.images.findBySha256(a, ids.sha)).toEqual([]);
    expect(await db.images.setStatus(a, ids.image, 'FAILED')).toBe(false);
    expect(await db.images.remove(a, ids.image)).toBeNull();
    expect(await db.images.count(a)).toBe(1);

    // embeddings
    await expect(db.embeddings.upsert(a, MODEL, { imageId: ids.image, vector })).rejects.toThrow(
      NotFoundError,
    );
    expect(await db.embeddings.upsertMany(a, MODEL, [{ imageId: ids.image, vector }])).toBe(0);
    expect(await db.embeddings.get(a, MODEL, ids.image)).toBeNull();
    expect(await db.embeddings.delete(a, ids.image)).toBe(0);
    expect(await db.embeddings.count(a, MODEL)).toBe(1);
    for (const strategy of ['auto', 'index', 'exact'] as const) {
      const hits = await db.embeddings.nearest({
        merchantId: a,
        modelId: MODEL,
        vector,
        metric: 'cosine',
        k: 10,
        strategy,
      });
      expect(hits.map((h) => h.productId)).not.toContain(ids.product);
    }

    // settings and keys
    expect(await db.settings.get(a, MODEL)).toMatchObject({
      metric: 'cosine',
      topK: 10,
      updatedAt: null,
    });
    await db.settings.update(a, MODEL, { topK: 3 });
    expect(await db.apiKeys.get(a, ids.key)).toBeNull();
    expect((await db.apiKeys.list(a)).map((k) => k.id)).not.toContain(ids.key);
    expect(await db.apiKeys.revoke(a, ids.key)).toBe(false);

    expect(await snapshotOfB()).toEqual(before);
  });
});
