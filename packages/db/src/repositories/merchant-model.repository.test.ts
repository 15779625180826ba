import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../errors.js';
import { seedCatalog, type SeededItem } from '../testing/catalog.js';
import { testEngines, type TestDatabase } from '../testing/engines.js';
import { clusteredVectors } from '../testing/vectors.js';

const MODEL = 'fashion-resnet-v1';
const SMALL = 'tiny-test-v1';
const SMALL_DIMS = 6;

describe.each(testEngines())('models per merchant, transactions, round trips ($name)', (engine) => {
  let t: TestDatabase;
  let merchantId: string;
  let items: SeededItem[];

  beforeAll(async () => {
    t = await engine.create();
    merchantId = (await t.db.merchants.create('Models')).id;
    const { vectors } = clusteredVectors({ n: 40, dims: 128, clusters: 4, spread: 0.5, seed: 7 });
    items = await seedCatalog(t.db, merchantId, vectors);
  });
  afterAll(() => t.drop());

  it('gives a new merchant the model it is given, once; a second call keeps the first', async () => {
    expect(await t.db.merchantModels.active(merchantId)).toBeNull();
    const first = await t.db.merchantModels.activateIfNone(merchantId, MODEL);
    expect(first).toMatchObject({ modelId: MODEL, status: 'ACTIVE' });
    await t.db.models.register(SMALL, SMALL_DIMS);
    const again = await t.db.merchantModels.activateIfNone(merchantId, SMALL);
    expect(again.modelId).toBe(MODEL);
    expect(await t.db.merchantModels.maintained(merchantId)).toEqual([MODEL]);
  });

  it('keeps two models of different dimensions side by side, each with its own indexes', async () => {
    await t.db.models.ensureIndexes(SMALL);
    expect(await t.db.models.indexes(SMALL)).toEqual([
      'image_embeddings_tiny_test_v1_cosine_idx',
      'image_embeddings_tiny_test_v1_l2_idx',
    ]);
    const small = (i: number) => Array.from({ length: SMALL_DIMS }, (_, d) => Math.sin(i * 3 + d));
    const written = await t.db.embeddings.upsertMany(
      merchantId,
      SMALL,
      items.slice(0, 10).map((item, i) => ({ imageId: item.imageId, vector: small(i) })),
    );
    expect(written).toBe(10);
    // A 128-d vector cannot go into the 6-d model, nor the other way round.
    await expect(
      t.db.embeddings.upsert(merchantId, SMALL, { imageId: items[11]!.imageId, vector: [1, 2] }),
    ).rejects.toThrow(/2 dimensions, the model has 6/);
    const hits = await t.db.embeddings.nearest({
      merchantId,
      modelId: SMALL,
      vector: small(3),
      metric: 'cosine',
      k: 3,
    });
    expect(hits[0]).toMatchObject({ imageId: items[3]!.imageId });
    expect(hits[0]?.score).toBeCloseTo(1, 5);
    const big = await t.db.embeddings.nearest({
      merchantId,
      modelId: MODEL,
      vector: items[3]!.vector,
      metric: 'euclidean',
      k: 3,
    });
    expect(big[0]?.imageId).toBe(items[3]!.imageId);
    expect(await t.db.embeddings.count(merchantId, MODEL)).toBe(40);
    expect(await t.db.embeddings.count(merchantId, SMALL)).toBe(10);
  });

  it('re-indexes under a lease one owner holds at a time, reports coverage, and finishes as READY', async () => {
    const started = await t.db.merchantModels.startReindex(merchantId, SMALL);
    expect(started).toMatchObject({ status: 'BACKFILLING', reindexFinishedAt: null });
    expect(await t.db.merchantModels.maintained(merchantId)).toEqual([MODEL, SMALL]);
    expect(await t.db.merchantModels.claimReindex(merchantId, SMALL, 'a', 60_000)).toBe(true);
    expect(await t.db.merchantModels.claimReindex(merchantId, SMALL, 'b', 60_000)).toBe(false);
    expect(await t.db.merchantModels.claimReindex(merchantId, SMALL, 'a', 60_000)).toBe(true);
    expect((await t.db.merchantModels.pendingReindexes()).map((r) => r.modelId)).toEqual([SMALL]);

    const coverage = await t.db.merchantModels.coverage(merchantId);
    expect(coverage.get(SMALL)).toMatchObject({ total: 40, embedded: 10, failed: 0 });
    expect(coverage.get(MODEL)).toMatchObject({ total: 40, embedded: 40 });

    // The batches a backfill takes: READY images without a vector of the model, not failed,
    // in id order from a cursor.
    const sorted = items.map((i) => i.imageId).sort();
    const first = await t.db.embeddings.missing(merchantId, SMALL, null, 100);
    const embedded = new Set(items.slice(0, 10).map((i) => i.imageId));
    expect(first.map((m) => m.imageId)).toEqual(sorted.filter((id) => !embedded.has(id)));
    await t.db.merchantModels.recordFailures(merchantId, SMALL, [
      { imageId: items[12]!.imageId, reason: 'file unreadable' },
    ]);
    expect((await t.db.merchantModels.coverage(merchantId)).get(SMALL)?.failed).toBe(1);
    const page = await t.db.embeddings.missing(merchantId, SMALL, first[4]!.imageId, 3);
    expect(page.map((m) => m.imageId)).toEqual(
      first
        .slice(5)
        .map((m) => m.imageId)
        .filter((id) => id !== items[12]!.imageId)
        .slice(0, 3),
    );
    expect(await t.db.embeddings.missing(merchantId, MODEL, null, 10)).toEqual([]);

    // Only the lease holder finishes; a lost lease is a no-op.
    expect(await t.db.merchantModels.finishReindex(merchantId, SMALL, 'b')).toBe(false);
    expect(await t.db.merchantModels.finishReindex(merchantId, SMALL, 'a')).toBe(true);
    expect(await t.db.merchantModels.get(merchantId, SMALL)).toMatchObject({
      status: 'READY',
      reindexLeaseOwner: null,
    });
    expect(await t.db.merchantModels.pendingReindexes()).toEqual([]);
    expect(await t.db.merchantModels.claimReindex(merchantId, SMALL, 'a', 60_000)).toBe(false);
  });

  it('an expired lease is taken over by another owner', async () => {
    await t.db.merchantModels.startReindex(merchantId, SMALL);
    expect(await t.db.merchantModels.claimReindex(merchantId, SMALL, 'a', 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(await t.db.merchantModels.claimReindex(merchantId, SMALL, 'b', 60_000)).toBe(true);
    expect(await t.db.merchantModels.finishReindex(merchantId, SMALL, 'b')).toBe(true);
  });

  it('switches the ACTIVE model atomically, keeps exactly one, and switches back', async () => {
    await t.db.settings.update(merchantId, MODEL, { metric: 'euclidean', topK: 7 });
    const previous = await t.db.transaction(async (tx) => {
      const was = await tx.merchantModels.activate(merchantId, SMALL);
      await tx.settings.inherit(merchantId, MODEL, SMALL);
      return was;
    });
    expect(previous).toBe(MODEL);
    expect((await t.db.merchantModels.active(merchantId))?.modelId).toBe(SMALL);
    expect((await t.db.merchantModels.get(merchantId, MODEL))?.status).toBe('READY');
    // The new model starts with the merchant's metric and page size, its own thresholds.
    expect(await t.db.settings.get(merchantId, SMALL)).toMatchObject({
      metric: 'euclidean',
      topK: 7,
      searchThreshold: null,
      matchThreshold: null,
    });
    const serving = await t.db.merchantModels.serving(merchantId);
    expect(serving).toMatchObject({ modelId: SMALL, dims: SMALL_DIMS, maintained: [MODEL, SMALL] });
    expect(serving?.settings).toMatchObject({ metric: 'euclidean', topK: 7 });

    // The database refuses a second ACTIVE row, whatever the caller does.
    await expect(
      t.db.prisma.merchantModel.update({
        where: { merchantId_modelId: { merchantId, modelId: MODEL } },
        data: { status: 'ACTIVE' },
      }),
    ).rejects.toThrow();

    expect(await t.db.merchantModels.activate(merchantId, MODEL)).toBe(SMALL);
    expect((await t.db.merchantModels.active(merchantId))?.modelId).toBe(MODEL);
    const statuses = (await t.db.merchantModels.list(merchantId)).map((m) => [m.modelId, m.status]);
    expect(statuses).toEqual([
      [MODEL, 'ACTIVE'],
      [SMALL, 'READY'],
    ]);
  });

  it('keeps the intent to switch when a re-index completes; finishing, activating or retiring clears it', async () => {
    const OTHER = 'tiny-other-v1';
    await t.db.models.register(OTHER, SMALL_DIMS);
    const started = await t.db.merchantModels.startReindex(merchantId, OTHER, {
      activateWhenReady: true,
    });
    expect(started).toMatchObject({ status: 'BACKFILLING', activateWhenReady: true });
    expect(
      (await t.db.merchantModels.withStatus(['BACKFILLING'])).map((r) => [r.modelId, r.status]),
    ).toEqual([[OTHER, 'BACKFILLING']]);
    expect((await t.db.merchantModels.withStatus(['ACTIVE'])).map((r) => r.modelId)).toEqual([
      MODEL,
    ]);
    // The serving model never carries it: it serves already.
    expect(
      await t.db.merchantModels.startReindex(merchantId, MODEL, { activateWhenReady: true }),
    ).toMatchObject({ status: 'ACTIVE', activateWhenReady: false });
    expect(await t.db.merchantModels.claimReindex(merchantId, MODEL, 'a', 60_000)).toBe(true);
    expect(await t.db.merchantModels.finishReindex(merchantId, MODEL, 'a')).toBe(true);
    expect(await t.db.merchantModels.claimReindex(merchantId, OTHER, 'a', 60_000)).toBe(true);
    expect(await t.db.merchantModels.finishReindex(merchantId, OTHER, 'a')).toBe(true);
    expect(await t.db.merchantModels.get(merchantId, OTHER)).toMatchObject({
      status: 'READY',
      activateWhenReady: false,
    });
    await t.db.merchantModels.startReindex(merchantId, OTHER, { activateWhenReady: true });
    expect((await t.db.merchantModels.get(merchantId, OTHER))?.activateWhenReady).toBe(true);
    expect(await t.db.merchantModels.activate(merchantId, OTHER)).toBe(MODEL);
    expect(await t.db.merchantModels.get(merchantId, OTHER)).toMatchObject({
      status: 'ACTIVE',
      activateWhenReady: false,
    });
    expect(await t.db.merchantModels.activate(merchantId, MODEL)).toBe(OTHER);
    await t.db.merchantModels.startReindex(merchantId, OTHER, { activateWhenReady: true });
    expect(await t.db.merchantModels.retire(merchantId, OTHER)).toMatchObject({
      status: 'RETIRED',
      activateWhenReady: false,
    });
    // Restarted without the intent, a re-index does not keep an earlier one.
    await t.db.merchantModels.startReindex(merchantId, OTHER, { activateWhenReady: true });
    expect((await t.db.merchantModels.startReindex(merchantId, OTHER)).activateWhenReady).toBe(
      false,
    );
    await t.db.merchantModels.retire(merchantId, OTHER);
  });

  it('retires a model that does not serve, never the ACTIVE one', async () => {
    await expect(t.db.merchantModels.retire(merchantId, MODEL)).rejects.toBeInstanceOf(
      ConflictError,
    );
    const retired = await t.db.merchantModels.retire(merchantId, SMALL);
    expect(retired.status).toBe('RETIRED');
    expect(await t.db.embeddings.deleteModel(merchantId, SMALL)).toBe(10);
    expect(await t.db.merchantModels.users(SMALL)).toBe(0);
    await t.db.models.dropIndexes(SMALL);
    expect(await t.db.models.indexes(SMALL)).toEqual([]);
    await expect(t.db.merchantModels.activate(merchantId, SMALL)).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(await t.db.merchantModels.maintained(merchantId)).toEqual([MODEL]);
  });

  it('db.transaction commits everything together, or nothing when it throws', async () => {
    const before = await t.db.products.count(merchantId);
    await expect(
      t.db.transaction(async (tx) => {
        await tx.products.create(merchantId, { externalId: 'TX-1', title: 'one' });
        // Inside, the transaction sees its own write.
        expect(await tx.products.getByExternalId(merchantId, 'TX-1')).not.toBeNull();
        await tx.products.create(merchantId, { externalId: 'TX-2', title: 'two' });
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await t.db.products.count(merchantId)).toBe(before);
    expect(await t.db.products.getByExternalId(merchantId, 'TX-1')).toBeNull();

    const made = await t.db.transaction(async (tx) => {
      const a = await tx.products.create(merchantId, { externalId: 'TX-3', title: 'three' });
      const { product, created } = await tx.products.ensure(merchantId, {
        externalId: 'TX-3',
        title: 'ignored',
      });
      expect(created).toBe(false);
      expect(product.id).toBe(a.id);
      return a;
    });
    expect((await t.db.products.getByExternalId(merchantId, 'TX-3'))?.id).toBe(made.id);
  });

  it('ensure() gives concurrent callers of a new externalId one product', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        t.db.transaction((tx) =>
          tx.products.ensure(merchantId, { externalId: 'RACE-1', title: 'Race' }),
        ),
      ),
    );
    expect(new Set(results.map((r) => r.product.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('counts round trips: a default nearest query is one statement, hydration included', async () => {
    const args = {
      merchantId,
      modelId: MODEL,
      vector: items[5]!.vector,
      metric: 'cosine' as const,
      k: 5,
    };
    await t.db.embeddings.nearestProducts(args); // model dims cached
    let before = t.db.roundTrips();
    const hits = await t.db.embeddings.nearestProducts(args);
    expect(t.db.roundTrips() - before).toBe(1);
    expect(hits[0]).toMatchObject({ imageId: items[5]!.imageId, productId: items[5]!.productId });
    expect(hits[0]?.product).toMatchObject({ id: items[5]!.productId, title: 'Product 5' });
    expect(hits[0]?.image).toMatchObject({ id: items[5]!.imageId, status: 'READY', width: 28 });
    // The same hits as the id-only query, in the same order.
    const plain = await t.db.embeddings.nearest({ ...args, distinctProducts: true });
    expect(hits.map((h) => [h.imageId, h.distance])).toEqual(
      plain.map((h) => [h.imageId, h.distance]),
    );
    // Another strategy needs its settings first: BEGIN, settings, query, COMMIT.
    before = t.db.roundTrips();
    await t.db.embeddings.nearest({ ...args, strategy: 'exact' });
    expect(t.db.roundTrips() - before).toBe(4);
  });
});
