import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { seedCatalog, type SeededItem } from '../testing/catalog.js';
import { testEngines, type TestDatabase } from '../testing/engines.js';
import { bruteForceNearest, clusteredVectors, distance } from '../testing/vectors.js';
import type { Metric } from './embedding.repository.js';

const MODEL = 'fashion-resnet-v1';
const DIMS = 128;
const N = 2000;
const QUERIES = 30;
const K = 10;
const metrics: Metric[] = ['cosine', 'euclidean'];

describe.each(testEngines())('embeddings and nearest neighbours ($name)', (engine) => {
  let t: TestDatabase;
  let merchantId: string;
  let otherMerchantId: string;
  let items: SeededItem[];
  let queries: Float32Array[];

  beforeAll(async () => {
    t = await engine.create();
    merchantId = (await t.db.merchants.create('A')).id;
    otherMerchantId = (await t.db.merchants.create('B')).id;
    // One draw from one distribution: the first N vectors are the catalog, the rest queries.
    const { vectors } = clusteredVectors({
      n: N + QUERIES,
      dims: DIMS,
      clusters: 12,
      spread: 0.6,
      seed: 42,
    });
    // Every 100th product is "rare": a filter that matches 1% of the catalog.
    items = await seedCatalog(t.db, merchantId, vectors.slice(0, N), {
      category: (i) => (i % 100 === 7 ? 'rare' : 'common'),
    });
    queries = vectors.slice(N);
    // Merchant B's catalog lies exactly on the query points: if tenancy leaked, B's rows would
    // be the nearest hits of every query.
    await seedCatalog(t.db, otherMerchantId, queries, { prefix: 'b' });
    await t.db.prisma.$executeRawUnsafe('ANALYZE');
  });
  afterAll(() => t.drop());

  const catalog = () => items.map((i) => ({ id: i.imageId, vector: i.vector }));

  it.each(metrics)('exact search equals a brute-force computation (%s)', async (metric) => {
    for (const query of queries) {
      const expected = bruteForceNearest(metric, query, catalog(), K);
      const hits = await t.db.embeddings.nearest({
        merchantId,
        modelId: MODEL,
        vector: query,
        metric,
        k: K,
        strategy: 'exact',
      });
      expect(hits.map((h) => h.imageId)).toEqual(expected.map((e) => e.id));
      for (const [i, hit] of hits.entries()) {
        // pgvector computes in float32; the reference in float64.
        expect(hit.distance).toBeCloseTo(expected[i]?.distance ?? NaN, 4);
      }
    }
  });

  it.each(metrics)(
    'the HNSW index finds at least 95 percent of the true top 10 (%s)',
    async (metric) => {
      const plan = await t.db.embeddings.explainNearest({
        merchantId,
        modelId: MODEL,
        vector: queries[0] as Float32Array,
        metric,
        k: K,
        strategy: 'index',
      });
      expect(plan).toContain(
        `image_embeddings_fashion_resnet_v1_${metric === 'cosine' ? 'cosine' : 'l2'}_idx`,
      );
      let found = 0;
      for (const query of queries) {
        const truth = new Set(bruteForceNearest(metric, query, catalog(), K).map((e) => e.id));
        const hits = await t.db.embeddings.nearest({
          merchantId,
          modelId: MODEL,
          vector: query,
          metric,
          k: K,
          strategy: 'index',
        });
        expect(hits).toHaveLength(K);
        found += hits.filter((h) => truth.has(h.imageId)).length;
      }
      const recall = found / (QUERIES * K);
      console.info(
        `[${engine.name}] ${metric} HNSW recall@${K} = ${recall.toFixed(4)} over ${QUERIES} queries, ${N} vectors`,
      );
      expect(recall).toBeGreaterThanOrEqual(0.95);
    },
  );

  it.each(metrics)('scores and distances follow the metric convention (%s)', async (metric) => {
    const query = queries[3] as Float32Array;
    const [hit] = await t.db.embeddings.nearest({
      merchantId,
      modelId: MODEL,
      vector: query,
      metric,
      k: 1,
    });
    const item = items.find((i) => i.imageId === hit?.imageId) as SeededItem;
    const d = distance(metric, query, item.vector);
    expect(hit?.distance).toBeCloseTo(d, 4);
    expect(hit?.score).toBeCloseTo(metric === 'cosine' ? 1 - d : 1 / (1 + d), 4);
    expect(hit?.productId).toBe(item.productId);
  });

  it('a cosine threshold is a minimum similarity; a Euclidean one a maximum distance', async () => {
    const query = queries[5] as Float32Array;
    const all = await t.db.embeddings.nearest({
      merchantId,
      modelId: MODEL,
      vector: query,
      metric: 'cosine',
      k: 50,
    });
    const similarity = all[19]?.score ?? NaN;
    const cut = await t.db.embeddings.nearest({
      merchantId,
      modelId: MODEL,
      vector: query,
      metric: 'cosine',
      k: 50,
      threshold: similarity,
    });
    expect(cut.length).toBeGreaterThanOrEqual(20);
    expect(cut.length).toBeLessThan(50);
    expect(cut.every((h) => h.score >= similarity)).toBe(true);
    expect(cut.map((h) => h.imageId)).toEqual(
      all.filter((h) => h.score >= similarity).map((h) => h.imageId),
    );

    const l2 = await t.db.embeddings.nearest({
      merchantId,
      modelId: MODEL,
      vector: query,
      metric: 'euclidean',
      k: 50,
    });
    const maxDistance = l2[9]?.distance ?? NaN;
    const near = await t.db.embeddings.nearest({
      merchantId,
      modelId: MODEL,
      vector: query,
      metric: 'euclidean',
      k: 50,
      threshold: maxDistance,
    });
    expect(near.map((h) => h.imageId)).toEqual(
      l2.filter((h) => h.distance <= maxDistance).map((h) => h.imageId),
    );
    expect(near.length).toBeGreaterThanOrEqual(10);
    // The same number on the other scale means something else entirely.
    const none = await t.db.embeddings.nearest({
      merchantId,
      modelId: MODEL,
      vector: query,
      metric: 'euclidean',
      k: 50,
      threshold: 0.5,
    });
    expect(none).toEqual([]);
  });

  it('rejects thresholds off the metric scale', async () => {
    const base = { merchantId, modelId: MODEL, vector: queries[0] as Float32Array, k: 5 };
    await expect(
      t.db.embeddings.nearest({ ...base, metric: 'cosine', threshold: 1.5 }),
    ).rejects.toThrow(/\[-1, 1\]/);
    await expect(
      t.db.embeddings.nearest({ ...base, metric: 'euclidean', threshold: -0.1 }),
    ).rejects.toThrow(/>= 0/);
    await expect(
      t.db.embeddings.nearest({ ...base, metric: 'cosine', threshold: NaN }),
    ).rejects.toThrow(InvalidArgumentError);
  });

  it.each(metrics)(
    'a filter matching one percent of rows still returns k rows through the index (%s)',
    async (metric) => {
      const rare = items.filter((i) => i.category === 'rare');
      expect(rare.length).toBe(N / 100);
      const query = queries[1] as Float32Array;
      const args = {
        merchantId,
        modelId: MODEL,
        vector: query,
        metric,
        k: K,
        filter: { category: 'rare' },
      } as const;
      const plan = await t.db.embeddings.explainNearest({ ...args, strategy: 'index' });
      expect(plan).toMatch(/Index Scan using image_embeddings_fashion_resnet_v1_\w+_idx/);
      for (const strategy of ['index', 'auto'] as const) {
        const hits = await t.db.embeddings.nearest({ ...args, strategy });
        expect(hits).toHaveLength(K);
        const rareIds = new Set(rare.map((r) => r.imageId));
        expect(hits.every((h) => rareIds.has(h.imageId))).toBe(true);
        const truth = bruteForceNearest(
          metric,
          query,
          rare.map((r) => ({ id: r.imageId, vector: r.vector })),
          K,
        );
        const overlap = hits.filter((h) => truth.some((e) => e.id === h.imageId)).length;
        expect(overlap).toBeGreaterThanOrEqual(K - 1);
      }
      // Control: the same index scan without iterative scanning stops after ef_search candidates
      // and finds only a few rare rows. This is what the iterative scan setting fixes.
      const withoutIterative = await t.db.sql.withSession(async (s) => {
        await s.exec('BEGIN');
        try {
          await s.exec(
            'SET LOCAL hnsw.iterative_scan = off; SET LOCAL enable_sort = off; SET LOCAL hnsw.ef_search = 100',
          );
          const op = metric === 'cosine' ? '<=>' : '<->';
          return await s.query(
            `SELECT e.image_id FROM image_embeddings e JOIN products p ON p.id = e.product_id
            WHERE e.model_id = $1 AND e.merchant_id = $2 AND p.category = 'rare'
            ORDER BY e.embedding::vector(128) ${op} $3::vector(128) LIMIT ${K}`,
            [MODEL, merchantId, `[${Array.from(query).join(',')}]`],
          );
        } finally {
          await s.exec('ROLLBACK');
        }
      });
      expect(withoutIterative.length).toBeLessThan(K);
    },
  );

  it('filters by labels, price and title text in nearest queries', async () => {
    const target = items[123] as SeededItem;
    await t.db.products.update(merchantId, target.productId, {
      labels: { color: 'red', tags: ['sale', 'summer'] },
      price: 19.99,
      title: 'Red 100% cotton_shirt',
    });
    const base = {
      merchantId,
      modelId: MODEL,
      vector: queries[2] as Float32Array,
      metric: 'cosine' as const,
      k: 5,
    };
    const only = async (filter: object) =>
      (await t.db.embeddings.nearest({ ...base, filter })).map((h) => h.productId);
    expect(await only({ labels: { color: 'red' } })).toEqual([target.productId]);
    expect(await only({ labels: { tags: ['sale'] } })).toEqual([target.productId]);
    expect(await only({ labels: { color: 'blue' } })).toEqual([]);
    expect(await only({ minPrice: 19.99, maxPrice: 19.99 })).toEqual([target.productId]);
    expect(await only({ minPrice: 20 })).toEqual([]);
    expect(await only({ query: '100% COTTON_' })).toEqual([target.productId]);
    // LIKE wildcards in the text are literal: "%" alone matches no title without a "%".
    expect(await only({ query: '0%c' })).toEqual([]);
    expect(await only({ categories: [] })).toEqual([]);
  });

  it('never returns another merchant’s vectors', async () => {
    for (const query of queries.slice(0, 5)) {
      for (const strategy of ['auto', 'index', 'exact'] as const) {
        const hits = await t.db.embeddings.nearest({
          merchantId,
          modelId: MODEL,
          vector: query,
          metric: 'cosine',
          k: 20,
          strategy,
        });
        const mine = new Set(items.map((i) => i.imageId));
        expect(hits.every((h) => mine.has(h.imageId))).toBe(true);
      }
      // B's catalog contains the query itself, at distance 0.
      const theirs = await t.db.embeddings.nearest({
        merchantId: otherMerchantId,
        modelId: MODEL,
        vector: query,
        metric: 'euclidean',
        k: 1,
      });
      expect(theirs[0]?.distance).toBeCloseTo(0, 5);
    }
  });

  it('excludes images, and returns one hit per product when asked', async () => {
    const query = items[10]?.vector as Float32Array;
    const [self] = await t.db.embeddings.nearest({
      merchantId,
      modelId: MODEL,
      vector: query,
      metric: 'cosine',
      k: 1,
    });
    expect(self?.imageId).toBe(items[10]?.imageId);
    expect(self?.score).toBeCloseTo(1, 5);
    const others = await t.db.embeddings.nearest({
      merchantId,
      modelId: MODEL,
      vector: query,
      metric: 'cosine',
      k: 3,
      excludeImageIds: [items[10]?.imageId as string],
    });
    expect(others.map((h) => h.imageId)).not.toContain(items[10]?.imageId);

    // Give product 10 four more images that are near copies of its vector.
    const product = items[10] as SeededItem;
    for (let j = 0; j < 4; j++) {
      const { image } = await t.db.images.add(merchantId, {
        productId: product.productId,
        sha256: `${j}`.repeat(64),
        mime: 'image/jpeg',
        width: 10,
        height: 10,
        byteSize: 10,
        storageKey: `extra/${j}`,
      });
      await t.db.embeddings.upsert(merchantId, MODEL, {
        imageId: image.id,
        vector: product.vector.map((x, d) => (d === j ? x + 0.01 : x)),
      });
    }
    const crowded = await t.db.embeddings.nearest({
      merchantId,
      modelId: MODEL,
      vector: query,
      metric: 'cosine',
      k: 3,
    });
    expect(crowded.every((h) => h.productId === product.productId)).toBe(true);
    const distinct = await t.db.embeddings.nearest({
      merchantId,
      modelId: MODEL,
      vector: query,
      metric: 'cosine',
      k: 3,
      distinctProducts: true,
    });
    expect(new Set(distinct.map((h) => h.productId)).size).toBe(3);
    expect(distinct[0]?.imageId).toBe(product.imageId);
  });

  it('validates vectors and ids before any SQL runs', async () => {
    const base = { merchantId, modelId: MODEL, metric: 'cosine' as const, k: 5 };
    await expect(
      t.db.embeddings.nearest({ ...base, vector: new Float32Array(64) }),
    ).rejects.toThrow(/64 dimensions, the model has 128/);
    await expect(
      t.db.embeddings.nearest({ ...base, vector: new Float32Array(128) }),
    ).rejects.toThrow(/zero vector/);
    await expect(
      t.db.embeddings.nearest({ ...base, vector: new Float32Array(128).fill(NaN) }),
    ).rejects.toThrow(/non-finite/);
    await expect(
      t.db.embeddings.nearest({ ...base, vector: queries[0] as Float32Array, k: 0 }),
    ).rejects.toThrow(/k must be/);
    await expect(
      t.db.embeddings.nearest({ ...base, vector: queries[0] as Float32Array, k: 1001 }),
    ).rejects.toThrow(/k must be/);
    await expect(
      t.db.embeddings.nearest({ ...base, modelId: 'nope', vector: queries[0] as Float32Array }),
    ).rejects.toThrow(NotFoundError);
    await expect(
      t.db.embeddings.upsert(merchantId, MODEL, {
        imageId: items[0]?.imageId as string,
        vector: [1, 2, 3],
      }),
    ).rejects.toThrow(/3 dimensions/);
  });

  it('reads several vectors at once, only the merchant’s own', async () => {
    const own = items.slice(0, 3).map((i) => i.imageId);
    const foreign = (await t.db.embeddings.catalog(otherMerchantId, MODEL))[0]?.imageId as string;
    const got = await t.db.embeddings.getMany(merchantId, MODEL, [...own, foreign, 'not-a-uuid']);
    expect([...got.keys()].sort()).toEqual([...own].sort());
    for (const id of own) {
      expect(got.get(id)).toEqual(await t.db.embeddings.get(merchantId, MODEL, id));
    }
    expect(await t.db.embeddings.getMany(merchantId, MODEL, [])).toEqual(new Map());
  });

  it('upserts replace the vector of an image and reads return it', async () => {
    const item = items[50] as SeededItem;
    const replacement = Float32Array.from(item.vector, (x) => -x);
    await t.db.embeddings.upsert(merchantId, MODEL, { imageId: item.imageId, vector: replacement });
    const stored = await t.db.embeddings.get(merchantId, MODEL, item.imageId);
    expect(stored).toHaveLength(DIMS);
    stored?.forEach((x, i) => {
      expect(x).toBeCloseTo(replacement[i] as number, 5);
    });
    expect(await t.db.embeddings.count(merchantId, MODEL)).toBe(N + 4);
    await t.db.embeddings.upsert(merchantId, MODEL, { imageId: item.imageId, vector: item.vector });
    expect(await t.db.embeddings.count(merchantId, MODEL)).toBe(N + 4);
  });
});
