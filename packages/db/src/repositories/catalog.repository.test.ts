import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { testEngines, type TestDatabase } from '../testing/engines.js';
import type { AddImageInput } from './image.repository.js';

const MODEL = 'fashion-resnet-v1';
const vector = (seed: number) => Array.from({ length: 128 }, (_, i) => Math.sin(seed * 31 + i));
const sha = (n: number) => n.toString(16).padStart(64, '0');

describe.each(testEngines())('catalog repositories ($name)', (engine) => {
  let t: TestDatabase;
  let merchantId: string;

  beforeAll(async () => {
    t = await engine.create();
    merchantId = (await t.db.merchants.create('Shop')).id;
  });
  afterAll(() => t.drop());

  const image = (productId: string, n: number): AddImageInput => ({
    productId,
    sha256: sha(n),
    mime: 'image/jpeg',
    width: 640,
    height: 480,
    byteSize: 1234,
    storageKey: `ab/${sha(n)}.jpg`,
  });

  describe('products', () => {
    it('creates, reads, updates and deletes', async () => {
      const created = await t.db.products.create(merchantId, {
        externalId: 'SKU-1',
        title: 'Linen shirt',
        description: 'White',
        category: 'shirt',
        labels: { color: 'white', sizes: ['S', 'M'] },
        price: 49.9,
        currency: 'EUR',
        url: 'https://shop.example/sku-1',
      });
      expect(created).toMatchObject({
        externalId: 'SKU-1',
        price: 49.9,
        labels: { color: 'white' },
      });
      expect(created.createdAt).toBeInstanceOf(Date);
      expect(await t.db.products.get(merchantId, created.id)).toEqual(created);
      expect(await t.db.products.getByExternalId(merchantId, 'SKU-1')).toEqual(created);

      const updated = await t.db.products.update(merchantId, created.id, {
        price: 39.95,
        description: null,
      });
      expect(updated).toMatchObject({ price: 39.95, description: null, title: 'Linen shirt' });
      expect(updated?.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());

      expect(await t.db.products.delete(merchantId, created.id)).toBe(true);
      expect(await t.db.products.get(merchantId, created.id)).toBeNull();
      expect(await t.db.products.delete(merchantId, created.id)).toBe(false);
      expect(await t.db.products.update(merchantId, created.id, { title: 'x' })).toBeNull();
    });

    it('keeps externalId unique per merchant', async () => {
      await t.db.products.create(merchantId, { externalId: 'DUP', title: 'One' });
      await expect(
        t.db.products.create(merchantId, { externalId: 'DUP', title: 'Two' }),
      ).rejects.toThrow(ConflictError);
      const other = await t.db.merchants.create('Other shop');
      // Another merchant may use the same externalId.
      await expect(
        t.db.products.create(other.id, { externalId: 'DUP', title: 'Theirs' }),
      ).resolves.toMatchObject({ externalId: 'DUP' });
    });

    it('upserts by externalId idempotently', async () => {
      const input = { externalId: 'UPS-1', title: 'Boot', category: 'boot', price: 120 };
      const first = await t.db.products.upsert(merchantId, input);
      const second = await t.db.products.upsert(merchantId, input);
      expect(second.id).toBe(first.id);
      const replaced = await t.db.products.upsert(merchantId, {
        externalId: 'UPS-1',
        title: 'Ankle boot',
      });
      expect(replaced).toMatchObject({
        id: first.id,
        title: 'Ankle boot',
        category: null,
        price: null,
      });
      expect(await t.db.products.count(merchantId, { query: 'ankle boot' })).toBe(1);
      // Concurrent upserts of a new externalId leave one product.
      const racing = await Promise.all(
        [1, 2, 3].map((n) =>
          t.db.products.upsert(merchantId, { externalId: 'RACE', title: `R${n}` }),
        ),
      );
      expect(new Set(racing.map((p) => p.id)).size).toBe(1);
    });

    it('refuses invalid input with a clear message', async () => {
      const bad = [
        [{ externalId: '', title: 'x' }, /externalId/],
        [{ externalId: 'a', title: '' }, /title/],
        [{ externalId: 'a', title: 'x', price: -1 }, /price/],
        [{ externalId: 'a', title: 'x', price: Infinity }, /price/],
        [{ externalId: 'a', title: 'x', currency: 'euro' }, /currency/],
        [{ externalId: 'a', title: 'x', url: 'javascript:alert(1)' }, /url/],
        [{ externalId: 'a', title: 'x', labels: ['not', 'an', 'object'] }, /labels/],
        [{ externalId: 'a'.repeat(300), title: 'x' }, /externalId/],
      ] as const;
      for (const [input, message] of bad) {
        await expect(t.db.products.create(merchantId, input as never)).rejects.toThrow(message);
      }
      await expect(
        t.db.products.create(merchantId, { externalId: 'a', title: 'x', price: -1 }),
      ).rejects.toThrow(InvalidArgumentError);
    });

    it('lists newest first with cursor pagination, totals and filters', async () => {
      const shop = (await t.db.merchants.create('Paged')).id;
      const made = [];
      for (let i = 0; i < 25; i++) {
        made.push(
          await t.db.products.create(shop, {
            externalId: `P${i}`,
            title: i % 5 === 0 ? `Red dress ${i}` : `Blue jeans ${i}`,
            category: i % 5 === 0 ? 'dress' : 'trouser',
            labels: {
              color: i % 5 === 0 ? 'red' : 'blue',
              season: i % 2 === 0 ? 'summer' : 'winter',
            },
            price: 10 + i,
          }),
        );
      }
      const seen: string[] = [];
      let after: string | undefined;
      let pages = 0;
      for (;;) {
        const page = await t.db.products.list(shop, { first: 10, after });
        expect(page.totalCount).toBe(25);
        seen.push(...page.items.map((p) => p.externalId));
        pages++;
        if (!page.hasNextPage) break;
        after = page.endCursor ?? undefined;
      }
      expect(pages).toBe(3);
      expect(seen).toEqual(made.map((p) => p.externalId).reverse());

      const dresses = await t.db.products.list(shop, { first: 100, filter: { category: 'dress' } });
      expect(dresses.items.map((p) => p.externalId)).toEqual(['P20', 'P15', 'P10', 'P5', 'P0']);
      expect(dresses.totalCount).toBe(5);
      const either = await t.db.products.list(shop, {
        first: 100,
        filter: { categories: ['dress', 'trouser'] },
      });
      expect(either.totalCount).toBe(25);
      const redSummer = await t.db.products.list(shop, {
        first: 100,
        filter: { labels: { color: 'red', season: 'summer' } },
      });
      expect(redSummer.items.map((p) => p.externalId)).toEqual(['P20', 'P10', 'P0']);
      const priced = await t.db.products.list(shop, {
        first: 100,
        filter: { minPrice: 20, maxPrice: 22.5 },
      });
      expect(priced.items.map((p) => p.price)).toEqual([32, 31, 30].map((x) => x - 10));
      const text = await t.db.products.list(shop, { first: 100, filter: { query: 'RED DRESS 1' } });
      expect(text.items.map((p) => p.externalId)).toEqual(['P15', 'P10']);
      const none = await t.db.products.list(shop, { first: 5, filter: { category: 'hat' } });
      expect(none).toEqual({ items: [], totalCount: 0, hasNextPage: false, endCursor: null });

      await expect(t.db.products.list(shop, { first: 0 })).rejects.toThrow(/first/);
      await expect(t.db.products.list(shop, { first: 10, after: 'garbage' })).rejects.toThrow(
        /cursor/,
      );
      expect(await t.db.products.categories(shop)).toEqual([
        { category: 'trouser', count: 20 },
        { category: 'dress', count: 5 },
      ]);
    });
  });

  describe('images', () => {
    it('adds with content-hash dedupe per product', async () => {
      const p = await t.db.products.create(merchantId, { externalId: 'IMG-1', title: 'Sneaker' });
      const q = await t.db.products.create(merchantId, { externalId: 'IMG-2', title: 'Sneaker 2' });
      const first = await t.db.images.add(merchantId, image(p.id, 1));
      expect(first.created).toBe(true);
      expect(first.image).toMatchObject({ productId: p.id, sha256: sha(1), status: 'PENDING' });
      const again = await t.db.images.add(merchantId, image(p.id, 1));
      expect(again).toEqual({ image: first.image, created: false });
      // The same bytes on another product are another image.
      expect((await t.db.images.add(merchantId, image(q.id, 1))).created).toBe(true);
      await t.db.images.add(merchantId, image(p.id, 2));
      expect((await t.db.images.list(merchantId, p.id)).map((i) => i.sha256)).toEqual([
        sha(1),
        sha(2),
      ]);
      expect(
        (await t.db.images.findBySha256(merchantId, sha(1))).map((i) => i.productId).sort(),
      ).toEqual([p.id, q.id].sort());
      expect(await t.db.images.countByStorageKey(`ab/${sha(1)}.jpg`)).toBe(2);
      const grouped = await t.db.images.listForProducts(merchantId, [p.id, q.id]);
      expect(grouped.get(p.id)).toHaveLength(2);
      expect(grouped.get(q.id)).toHaveLength(1);

      expect(await t.db.images.setStatus(merchantId, first.image.id, 'READY')).toBe(true);
      expect((await t.db.images.get(merchantId, first.image.id))?.status).toBe('READY');
    });

    it('refuses images for unknown products and bad metadata', async () => {
      await expect(
        t.db.images.add(merchantId, image('00000000-0000-7000-8000-000000000000', 3)),
      ).rejects.toThrow(NotFoundError);
      const p = await t.db.products.create(merchantId, { externalId: 'IMG-BAD', title: 'x' });
      await expect(
        t.db.images.add(merchantId, { ...image(p.id, 4), sha256: 'xyz' }),
      ).rejects.toThrow(/sha256/);
      await expect(t.db.images.add(merchantId, { ...image(p.id, 4), width: 0 })).rejects.toThrow(
        /width/,
      );
      expect(await t.db.images.list(merchantId, p.id)).toEqual([]);
    });

    it('removing an image removes its embeddings', async () => {
      const p = await t.db.products.create(merchantId, { externalId: 'IMG-RM', title: 'x' });
      const { image: img } = await t.db.images.add(merchantId, image(p.id, 5));
      await t.db.embeddings.upsert(merchantId, MODEL, { imageId: img.id, vector: vector(5) });
      expect(await t.db.embeddings.get(merchantId, MODEL, img.id)).not.toBeNull();
      expect((await t.db.images.remove(merchantId, img.id))?.id).toBe(img.id);
      expect(await t.db.embeddings.get(merchantId, MODEL, img.id)).toBeNull();
      expect(await t.db.images.remove(merchantId, img.id)).toBeNull();
    });
  });

  describe('images left PENDING, and files nobody references', () => {
    it('lists PENDING images older than the grace period, pages them, and settles each once', async () => {
      const other = (await t.db.merchants.create('Other')).id;
      const p = await t.db.products.create(other, { externalId: 'PENDING-1', title: 'x' });
      const old1 = (await t.db.images.add(other, image(p.id, 101))).image;
      const old2 = (await t.db.images.add(other, image(p.id, 102))).image;
      const young = (await t.db.images.add(other, image(p.id, 103))).image;
      const ready = (await t.db.images.add(other, { ...image(p.id, 104), status: 'READY' })).image;
      await t.db.prisma.$executeRaw`
        UPDATE product_images SET created_at = now() - interval '1 hour'
        WHERE id IN (${old1.id}::uuid, ${old2.id}::uuid, ${ready.id}::uuid)`;

      const pending = await t.db.images.listPending({ graceSeconds: 1800, limit: 100 });
      expect(pending.map((i) => i.id)).toEqual([old1.id, old2.id]);
      expect(pending[0]).toMatchObject({ merchantId: other, sha256: sha(101), status: 'PENDING' });
      expect(pending[0]?.createdAt).toBeInstanceOf(Date);
      const first = await t.db.images.listPending({ graceSeconds: 1800, limit: 1 });
      expect(first.map((i) => i.id)).toEqual([old1.id]);
      const next = await t.db.images.listPending({ graceSeconds: 1800, limit: 1, after: old1.id });
      expect(next.map((i) => i.id)).toEqual([old2.id]);
      expect(
        (await t.db.images.listPending({ graceSeconds: 0, limit: 100 })).map((i) => i.id),
      ).toContain(young.id);

      expect(await t.db.images.settlePending(merchantId, old1.id, 'FAILED')).toBe(false);
      expect(await t.db.images.settlePending(other, old1.id, 'FAILED')).toBe(true);
      expect(await t.db.images.settlePending(other, old1.id, 'READY')).toBe(false);
      expect(await t.db.images.settlePending(other, ready.id, 'FAILED')).toBe(false);
      expect((await t.db.images.get(other, old1.id))?.status).toBe('FAILED');
      expect(
        (await t.db.images.listPending({ graceSeconds: 1800, limit: 100 })).map((i) => i.id),
      ).toEqual([old2.id]);
    });

    it('tells which storage keys some image still references, across merchants', async () => {
      const other = (await t.db.merchants.create('Other 2')).id;
      const p = await t.db.products.create(other, { externalId: 'KEYS-1', title: 'x' });
      await t.db.images.add(other, image(p.id, 111));
      const used = await t.db.images.referencedStorageKeys([
        `ab/${sha(111)}.jpg`,
        `ab/${sha(112)}.jpg`,
      ]);
      expect([...used]).toEqual([`ab/${sha(111)}.jpg`]);
      expect(await t.db.images.referencedStorageKeys([])).toEqual(new Set());
    });

    it('locks a product of the merchant, and only that', async () => {
      const p = await t.db.products.create(merchantId, { externalId: 'LOCK-1', title: 'x' });
      const other = (await t.db.merchants.create('Other 3')).id;
      expect(await t.db.transaction((tx) => tx.products.lock(merchantId, p.id))).toBe(true);
      expect(await t.db.transaction((tx) => tx.products.lock(other, p.id))).toBe(false);
      expect(await t.db.transaction((tx) => tx.products.lock(merchantId, 'nope'))).toBe(false);
    });
  });

  it('deleting a product removes its images and their embeddings', async () => {
    const p = await t.db.products.create(merchantId, { externalId: 'CASCADE', title: 'x' });
    const keep = await t.db.products.create(merchantId, { externalId: 'KEEP', title: 'y' });
    const ids = [];
    for (const [product, n] of [
      [p, 10],
      [p, 11],
      [keep, 12],
    ] as const) {
      const { image: img } = await t.db.images.add(merchantId, image(product.id, n));
      await t.db.embeddings.upsert(merchantId, MODEL, { imageId: img.id, vector: vector(n) });
      ids.push(img.id);
    }
    const before = await t.db.embeddings.count(merchantId, MODEL);
    expect(await t.db.products.delete(merchantId, p.id)).toBe(true);
    expect(await t.db.images.list(merchantId, p.id)).toEqual([]);
    expect(await t.db.images.get(merchantId, ids[0] as string)).toBeNull();
    expect(await t.db.embeddings.get(merchantId, MODEL, ids[1] as string)).toBeNull();
    expect(await t.db.embeddings.count(merchantId, MODEL)).toBe(before - 2);
    // The other product is untouched.
    expect(await t.db.embeddings.get(merchantId, MODEL, ids[2] as string)).not.toBeNull();
    const rows = await t.db.sql.withSession((s) =>
      s.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM image_embeddings e LEFT JOIN product_images i ON i.id = e.image_id WHERE i.id IS NULL',
      ),
    );
    expect(rows[0]?.n).toBe(0);
  });

  describe('search settings', () => {
    it('returns defaults until changed, then the stored values', async () => {
      const shop = (await t.db.merchants.create('Settings')).id;
      expect(await t.db.settings.get(shop, MODEL)).toEqual({
        metric: 'cosine',
        searchThreshold: null,
        matchThreshold: null,
        topK: 10,
        updatedAt: null,
      });
      const saved = await t.db.settings.update(shop, MODEL, {
        searchThreshold: 0.5,
        matchThreshold: 0.9,
        topK: 20,
      });
      expect(saved).toMatchObject({
        metric: 'cosine',
        searchThreshold: 0.5,
        matchThreshold: 0.9,
        topK: 20,
      });
      expect(saved.updatedAt).toBeInstanceOf(Date);
      expect(await t.db.settings.get(shop, MODEL)).toEqual(saved);
    });

    it('validates thresholds on the scale of the metric and clears them on a metric switch', async () => {
      const shop = (await t.db.merchants.create('Settings 2')).id;
      await t.db.settings.update(shop, MODEL, { searchThreshold: 0.6, matchThreshold: 0.85 });
      await expect(t.db.settings.update(shop, MODEL, { matchThreshold: 1.2 })).rejects.toThrow(
        /\[-1, 1\]/,
      );
      await expect(t.db.settings.update(shop, MODEL, { topK: 0 })).rejects.toThrow(/topK/);
      await expect(t.db.settings.update(shop, MODEL, { topK: 101 })).rejects.toThrow(/topK/);
      const switched = await t.db.settings.update(shop, MODEL, { metric: 'euclidean' });
      expect(switched).toMatchObject({
        metric: 'euclidean',
        searchThreshold: null,
        matchThreshold: null,
      });
      await expect(t.db.settings.update(shop, MODEL, { searchThreshold: -0.5 })).rejects.toThrow(
        />= 0/,
      );
      const l2 = await t.db.settings.update(shop, MODEL, {
        searchThreshold: 1.1,
        matchThreshold: 0.4,
      });
      expect(l2).toMatchObject({ metric: 'euclidean', searchThreshold: 1.1, matchThreshold: 0.4 });
    });
  });

  describe('API keys', () => {
    it('creates, finds by prefix, lists, touches and revokes', async () => {
      const key = await t.db.apiKeys.create(merchantId, {
        name: 'ci',
        prefix: 'abc123def',
        secretHash: 'f'.repeat(64),
        scopes: ['SEARCH', 'SEARCH', 'CATALOG_WRITE'],
      });
      expect(key.scopes).toEqual(['SEARCH', 'CATALOG_WRITE']);
      expect(await t.db.apiKeys.findByPrefix('abc123def')).toEqual(key);
      expect(await t.db.apiKeys.findByPrefix('nope!')).toBeNull();
      await t.db.apiKeys.touch(key.id, new Date('2026-01-02T03:04:05Z'));
      expect((await t.db.apiKeys.get(merchantId, key.id))?.lastUsedAt?.toISOString()).toBe(
        '2026-01-02T03:04:05.000Z',
      );
      expect((await t.db.apiKeys.list(merchantId)).map((k) => k.id)).toContain(key.id);
      expect(await t.db.apiKeys.revoke(merchantId, key.id)).toBe(true);
      expect(await t.db.apiKeys.revoke(merchantId, key.id)).toBe(false);
      expect((await t.db.apiKeys.findByPrefix('abc123def'))?.revokedAt).toBeInstanceOf(Date);
      await expect(
        t.db.apiKeys.create(merchantId, {
          name: 'x',
          prefix: 'abc123def',
          secretHash: 'f'.repeat(64),
          scopes: ['SEARCH'],
        }),
      ).rejects.toThrow();
      await expect(
        t.db.apiKeys.create(merchantId, {
          name: 'x',
          prefix: 'zzz999zzz',
          secretHash: 'f'.repeat(64),
          scopes: [],
        }),
      ).rejects.toThrow(/scope/);
    });
  });

  it('counts are plain numbers on this engine', async () => {
    const counts = [
      await t.db.products.count(merchantId),
      (await t.db.products.list(merchantId, { first: 1 })).totalCount,
      await t.db.images.count(merchantId),
      await t.db.embeddings.count(merchantId, MODEL),
      await t.db.merchants.count(),
    ];
    for (const n of counts) expect(typeof n).toBe('number');
    expect(counts[0]).toBe(counts[1]);
  });
});
