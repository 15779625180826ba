import { testEngines } from '@lookalike/db';
import { cosineSimilarity } from '@lookalike/search';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLOURS, renderCatalogImage, type Colour } from '../demo/render.js';
import { readFashionSample } from '../demo/fashion-sample.js';
import { seedDemoCatalog } from '../demo/seed.js';
import { CoreError } from '../errors.js';
import { startTestCore, sharedEmbedder, type TestCore } from '../testing/test-core.js';

const FASHION = 'fashion-resnet-v1';
const THUMB = 'colour-thumbnail-v1';
const PRODUCTS = 40;

describe.each(testEngines())('model lifecycle ($name)', (engine) => {
  let t: TestCore;
  /** A new product photo (not in the catalog). */
  let photo: (i: number) => Promise<Buffer>;
  /** The catalog photo of a demo product, exactly as the seed rendered it. */
  let catalogPhoto: (externalId: string) => Promise<Buffer>;

  beforeAll(async () => {
    t = await startTestCore(engine, {
      models: ['fashion-resnet', 'colour-thumbnail'],
      // Small batches: the backfill lasts long enough for searches to run during it.
      backfill: { batchSize: 3, pollMs: 0 },
    });
    await seedDemoCatalog(t.core.catalog, t.merchantId, { count: PRODUCTS, extraPhotoShare: 0.3 });
    const sample = await readFashionSample();
    photo = (i) =>
      renderCatalogImage(sample.images[i] as Uint8Array, COLOURS[i % COLOURS.length] as Colour);
    catalogPhoto = async (externalId) => {
      const product = await t.core.catalog.getByExternalId(t.merchantId, externalId);
      const colour = COLOURS.find((c) => c.name === product?.labels.color) as Colour;
      return renderCatalogImage(
        sample.images[Number(externalId.slice(-5)) - 1] as Uint8Array,
        colour,
      );
    };
  });

  async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  afterAll(() => t.stop());

  const statusOf = async (key: string) =>
    (await t.core.models.list(t.merchantId)).find((m) => m.key === key);

  it('a fresh database serves the configured default; the other loaded model is AVAILABLE', async () => {
    const models = await t.core.models.list(t.merchantId);
    expect(models.map((m) => [m.key, m.status, m.dims, m.loaded, m.defaultsMeasured])).toEqual([
      [FASHION, 'ACTIVE', 128, true, true],
      [THUMB, 'AVAILABLE', 48, true, false],
    ]);
    const images = models[0]?.coverage.total ?? 0;
    expect(images).toBeGreaterThan(PRODUCTS);
    expect(models[0]?.coverage).toMatchObject({ embedded: images, fraction: 1 });
    expect(models[1]?.coverage).toMatchObject({ total: images, embedded: 0, fraction: 0 });
  });

  it('re-indexes in the background while every search keeps answering from the serving model; new images get both vectors', async () => {
    const query = await catalogPhoto('DEMO-00004');
    const started = await t.core.models.startReindex(t.merchantId, THUMB);
    expect(started.status).toBe('BACKFILLING');
    expect(started.reindex?.running).toBe(true);
    const answered: string[] = [];
    const errors: unknown[] = [];
    let added: string | undefined;
    while (t.core.backfiller.isRunning(t.merchantId, THUMB)) {
      try {
        const r = await t.core.search.similarProducts(t.merchantId, { image: query }, { first: 3 });
        answered.push(r.model);
        expect(r.hits[0]?.product.externalId).toBe('DEMO-00004');
      } catch (error) {
        errors.push(error);
      }
      if (!added) {
        const p = await t.core.catalog.create(t.merchantId, { externalId: 'NEW-1', title: 'New' });
        added = (await t.core.catalog.addImage(t.merchantId, { productId: p.id }, await photo(77)))
          .image.id;
      }
    }
    await t.core.backfiller.idle();
    expect(errors).toEqual([]);
    expect(answered.length).toBeGreaterThan(3);
    expect(new Set(answered)).toEqual(new Set([FASHION]));
    expect(await t.db.embeddings.modelsOf(t.merchantId, added as string)).toEqual(
      [THUMB, FASHION].sort(),
    );
    const done = await statusOf(THUMB);
    expect(done).toMatchObject({ status: 'READY', coverage: { fraction: 1, failed: 0 } });
    expect(done?.reindex).toMatchObject({ running: false, remaining: 0, etaSeconds: null });
    expect(done?.reindex?.done).toBe(done?.coverage.total);
    expect(done?.reindex?.rate).toBeGreaterThan(0);
  });

  it('after the switch every result and score comes from the new model, on its own thresholds', async () => {
    await t.core.settings.update(t.merchantId, { topK: 7 });
    // Before the switch, its settings say what it will start on.
    expect(await t.core.settings.get(t.merchantId, THUMB)).toMatchObject({
      model: THUMB,
      metric: 'cosine',
      topK: 7,
      usingModelDefaults: true,
      updatedAt: null,
    });
    const switched = await t.core.models.activate(t.merchantId, THUMB);
    expect(switched).toMatchObject({ previous: FASHION, coverage: 1, forced: false });
    expect(switched.model.status).toBe('ACTIVE');
    const query = await catalogPhoto('DEMO-00006');
    const r = await t.core.search.similarProducts(t.merchantId, { image: query }, {});
    expect(r.model).toBe(THUMB);
    expect(r.hits).toHaveLength(7); // the merchant's page size came along
    expect(r.hits[0]).toMatchObject({ verdict: 'EXACT' });
    expect(r.hits[0]?.product.externalId).toBe('DEMO-00006');
    // Scores are the new model's own cosine between the query and each hit's stored image.
    const thumb = await sharedEmbedder('colour-thumbnail');
    const q = (await thumb.embed(query)).vector;
    for (const hit of r.hits.slice(0, 3)) {
      const stored = await t.db.embeddings.get(t.merchantId, THUMB, hit.image.id);
      expect(hit.score).toBeCloseTo(cosineSimilarity(q, stored ?? []), 4);
    }
    // The new model starts on its manifest's thresholds (none measured: the fallback).
    expect(await t.core.settings.get(t.merchantId)).toMatchObject({
      model: THUMB,
      metric: 'cosine',
      topK: 7,
      usingModelDefaults: true,
      searchThreshold: -1,
    });
    const [key] = await t.core.apiKeys.list(t.merchantId);
    const viewer = await t.core.accounts.viewer({
      merchantId: t.merchantId,
      keyId: key?.id ?? '',
      keyPrefix: key?.prefix ?? '',
      scopes: key?.scopes ?? [],
    });
    expect(viewer.model).toMatchObject({ key: THUMB, dims: 48, executionProvider: 'cpu' });
    const m = await t.core.search.matchImages(t.merchantId, query, query, {});
    expect(m).toMatchObject({ model: THUMB, verdict: 'EXACT' });
  });

  it('switches back at once: the old model was kept in sync, with its own settings', async () => {
    // Added while the thumbnail served: the kept model gets its vector too.
    const p = await t.core.catalog.create(t.merchantId, { externalId: 'NEW-2', title: 'New 2' });
    const { image } = await t.core.catalog.addImage(
      t.merchantId,
      { productId: p.id },
      await photo(88),
    );
    expect(await t.db.embeddings.modelsOf(t.merchantId, image.id)).toEqual([THUMB, FASHION].sort());
    // A subscriber hears of the switch: the event is written with it (the outbox).
    const { endpoint } = await t.core.webhooks.create(t.merchantId, {
      url: 'https://shop.example/hooks',
      events: ['model.switched'],
    });
    const back = await t.core.models.activate(t.merchantId, FASHION);
    expect(back).toMatchObject({ previous: THUMB, coverage: 1, forced: false });
    const deliveries = await t.core.webhooks.deliveries(t.merchantId, endpoint.id, {});
    expect(deliveries.items.map((d) => [d.eventType, d.status])).toEqual([
      ['model.switched', 'PENDING'],
    ]);
    const events = await t.db.prisma.webhookEvent.findMany({ where: { merchantId: t.merchantId } });
    expect(events.map((e) => e.payload)).toEqual([{ model: FASHION, previous: THUMB }]);
    const r = await t.core.search.similarProducts(
      t.merchantId,
      { image: await catalogPhoto('DEMO-00006') },
      { threshold: -1 },
    );
    expect(r.model).toBe(FASHION);
    expect(r.hits[0]).toMatchObject({ verdict: 'EXACT' });
    expect(r.hits[0]?.product.externalId).toBe('DEMO-00006');
    expect(r.hits).toHaveLength(7);
    expect((await t.core.settings.get(t.merchantId)).model).toBe(FASHION);
    expect((await statusOf(THUMB))?.status).toBe('READY');
  });

  it('refuses a switch to a model with incomplete coverage unless forced, and says what it switched at', async () => {
    // A merchant whose thumbnail re-index has not run: only some images have its vectors.
    const other = (await t.db.merchants.create('Partial')).id;
    await seedDemoCatalog(t.core.catalog, other, { count: 6, extraPhotoShare: 0 });
    await t.db.merchantModels.startReindex(other, THUMB);
    const images = await t.db.embeddings.missing(other, THUMB, null, 100);
    const thumb = await sharedEmbedder('colour-thumbnail');
    for (const img of images.slice(0, 3)) {
      const bytes = await t.core.store.get(img.sha256);
      await t.db.embeddings.upsert(other, THUMB, {
        imageId: img.imageId,
        vector: (await thumb.embed(bytes as Buffer)).vector,
      });
    }
    const refused = await t.core.models.activate(other, THUMB).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CoreError);
    expect(refused).toMatchObject({ code: 'CONFLICT', details: { coverage: 0.5 } });
    expect((await t.db.merchantModels.active(other))?.modelId).toBe(FASHION);
    const forced = await t.core.models.activate(other, THUMB, { force: true });
    expect(forced).toMatchObject({ previous: FASHION, coverage: 0.5, forced: true });
    expect(
      (await t.core.search.similarProducts(other, { image: await photo(1) }, { first: 6 })).hits,
    ).toHaveLength(3);
    // A forced switch leaves the re-index pending: it fills the rest in the background.
    expect((await t.db.merchantModels.get(other, THUMB))?.reindexFinishedAt).toBeNull();
    const unknown = await t.core.models.activate(other, 'nope-v1').catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a restart mid-backfill resumes from what is stored, without duplicates', async () => {
    await t.core.models.retire(t.merchantId, THUMB);
    expect(await t.db.embeddings.count(t.merchantId, THUMB)).toBe(0);
    await t.core.models.startReindex(t.merchantId, THUMB);
    while ((await t.db.embeddings.count(t.merchantId, THUMB)) === 0) {
      await new Promise((r) => setTimeout(r, 5));
    }
    // The process stops (its loop ends after the batch in hand and gives the lease back)...
    await t.core.close();
    const partial = await t.db.embeddings.count(t.merchantId, THUMB);
    const total = (await statusOf(THUMB))?.coverage.total ?? 0;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(total);
    // ...and one that crashed would leave its lease behind, expiring soon.
    expect(await t.db.merchantModels.claimReindex(t.merchantId, THUMB, 'crashed', 200)).toBe(true);
    const restarted = await t.reopen({ backfill: { batchSize: 8, pollMs: 50 } });
    await waitFor(
      async () => (await t.db.merchantModels.pendingReindexes()).length === 0,
      'the resumed re-indexes',
    );
    await restarted.backfiller.idle();
    expect((await restarted.models.list(t.merchantId)).find((m) => m.key === THUMB)).toMatchObject({
      status: 'READY',
      coverage: { embedded: total, fraction: 1 },
    });
    expect(await t.db.embeddings.count(t.merchantId, THUMB)).toBe(total);
    const [{ n } = { n: -1 }] = await t.db.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int - count(DISTINCT image_id)::int AS n FROM image_embeddings
      WHERE model_id = ${THUMB}`;
    expect(n).toBe(0);
  });

  it('retires a model with its vectors and indexes; never the serving one', async () => {
    const merchants = (await t.db.merchants.list()).map((m) => m.id);
    await expect(t.core.models.retire(t.merchantId, FASHION)).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    for (const id of merchants) {
      const row = await t.db.merchantModels.get(id, THUMB);
      if (row?.status === 'ACTIVE') await t.core.models.activate(id, FASHION, { force: true });
      if (row && row.status !== 'RETIRED') await t.core.models.retire(id, THUMB);
    }
    expect(await t.db.models.indexes(THUMB)).toEqual([]);
    expect((await statusOf(THUMB))?.status).toBe('RETIRED');
    expect(await t.db.embeddings.count(t.merchantId, THUMB)).toBe(0);
    // Fashion vectors are all still there.
    expect((await statusOf(FASHION))?.coverage.fraction).toBe(1);
  });
});
