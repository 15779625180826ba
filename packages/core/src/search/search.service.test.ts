import { testEngines } from '@lookalike/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFashionSample } from '../demo/fashion-sample.js';
import { COLOURS, renderCatalogImage, renderShopperPhoto, type Colour } from '../demo/render.js';
import { seedDemoCatalog } from '../demo/seed.js';
import { startTestCore, type TestCore } from '../testing/test-core.js';

const FASHION = 'fashion-resnet-v1';

describe.each(testEngines())('search sources and the lean path ($name)', (engine) => {
  let t: TestCore;
  let catalogPhoto: (externalId: string) => Promise<Buffer>;
  const idOf = async (externalId: string) =>
    (await t.core.catalog.getByExternalId(t.merchantId, externalId))?.id as string;

  beforeAll(async () => {
    t = await startTestCore(engine);
    await seedDemoCatalog(t.core.catalog, t.merchantId, { count: 60, extraPhotoShare: 0.3 });
    const sample = await readFashionSample();
    catalogPhoto = async (externalId) => {
      const product = await t.core.catalog.getByExternalId(t.merchantId, externalId);
      const colour = COLOURS.find((c) => c.name === product?.labels.color) as Colour;
      const i = Number(externalId.slice(-5)) - 1;
      return renderCatalogImage(sample.images[i] as Uint8Array, colour);
    };
  });
  afterAll(() => t.stop());

  it('takes exactly one of image, imageUrl, productIds and imageId, naming them when it gets another count', async () => {
    const image = await catalogPhoto('DEMO-00001');
    const imageId = (await t.db.images.list(t.merchantId, await idOf('DEMO-00001')))[0]?.id;
    for (const source of [
      {},
      { image, productIds: [await idOf('DEMO-00002')] },
      { image, imageId },
      { productIds: [await idOf('DEMO-00002')], imageId },
    ]) {
      await expect(t.core.search.similarProducts(t.merchantId, source, {})).rejects.toMatchObject({
        code: 'BAD_USER_INPUT',
        message: expect.stringMatching(
          /exactly one of image, imageUrl, productIds and imageId/,
        ) as string,
      });
    }
    await expect(
      t.core.search.similarProducts(
        t.merchantId,
        { imageId, region: { x: 0, y: 0, width: 5, height: 5 } },
        {},
      ),
    ).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'region' } });
  });

  it('imageId searches with the stored vector: the image itself first (EXACT), no inference', async () => {
    const productId = await idOf('DEMO-00003');
    const [image] = await t.db.images.list(t.merchantId, productId);
    const embed = t.core.registry.default.stats().images;
    const r = await t.core.search.similarProducts(
      t.merchantId,
      { imageId: image?.id ?? '' },
      { first: 5 },
    );
    expect(t.core.registry.default.stats().images).toBe(embed);
    expect(r.hits[0]).toMatchObject({ verdict: 'EXACT', image: { id: image?.id } });
    expect(r.hits[0]?.distance).toBeCloseTo(0, 5);
    // The same answer as uploading that image's bytes.
    const uploaded = await t.core.search.similarProducts(
      t.merchantId,
      { image: await catalogPhoto('DEMO-00003') },
      { first: 5 },
    );
    expect(r.hits.map((h) => h.product.id)).toEqual(uploaded.hits.map((h) => h.product.id));
    await expect(
      t.core.search.similarProducts(
        t.merchantId,
        { imageId: '0190a000-0000-7000-8000-000000000000' },
        {},
      ),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('more like these products: their averaged vectors, the products themselves left out', async () => {
    const a = await idOf('DEMO-00001');
    const b = await idOf('DEMO-00010');
    const one = await t.core.search.similarProducts(
      t.merchantId,
      { productIds: [a] },
      { first: 5, threshold: -1 },
    );
    expect(one.hits).toHaveLength(5);
    expect(one.hits.map((h) => h.product.id)).not.toContain(a);
    // A product with one image is "more like that image": the image's own neighbours after
    // itself.
    let single: { productId: string; imageId: string } | undefined;
    for (let i = 1; !single; i++) {
      const productId = await idOf(`DEMO-${String(i).padStart(5, '0')}`);
      const images = await t.db.images.list(t.merchantId, productId);
      if (images.length === 1) single = { productId, imageId: images[0]?.id ?? '' };
    }
    const like = await t.core.search.similarProducts(
      t.merchantId,
      { productIds: [single.productId] },
      { first: 5, threshold: -1 },
    );
    const byImage = await t.core.search.similarProducts(
      t.merchantId,
      { imageId: single.imageId },
      { first: 6, threshold: -1 },
    );
    expect(byImage.hits[0]?.product.id).toBe(single.productId);
    expect(like.hits.map((h) => h.product.id)).toEqual(
      byImage.hits.slice(1).map((h) => h.product.id),
    );
    const both = await t.core.search.similarProducts(
      t.merchantId,
      { productIds: [a, b, a] },
      { first: 10, threshold: -1 },
    );
    const ids = both.hits.map((h) => h.product.id);
    expect(ids).not.toContain(a);
    expect(ids).not.toContain(b);
    // Scores are against the normalised mean: each lies between -1 and 1 and they fall.
    for (let i = 1; i < both.hits.length; i++) {
      expect(both.hits[i]?.score).toBeLessThanOrEqual(both.hits[i - 1]?.score ?? 1);
    }
    await expect(
      t.core.search.similarProducts(
        t.merchantId,
        { productIds: [a, '0190a000-0000-7000-8000-000000000000'] },
        {},
      ),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('0190a000-0000-7000-8000-000000000000') as string,
    });
    await expect(
      t.core.search.similarProducts(
        t.merchantId,
        { productIds: Array.from({ length: 21 }, (_, i) => `${i}`) },
        {},
      ),
    ).rejects.toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'productIds' } });
  });

  it('a warm search costs one database round trip (image), two for "more like this"', async () => {
    const photo = await renderShopperPhoto(await catalogPhoto('DEMO-00007'), 5);
    await t.core.search.similarProducts(t.merchantId, { image: photo }, { first: 10 }); // warm
    let before = t.db.roundTrips();
    const r = await t.core.search.similarProducts(t.merchantId, { image: photo }, { first: 10 });
    expect(t.db.roundTrips() - before).toBe(1);
    expect(r.model).toBe(FASHION);
    expect(r.hits[0]?.product.externalId).toBe('DEMO-00007');
    before = t.db.roundTrips();
    await t.core.search.similarProducts(
      t.merchantId,
      { productIds: [await idOf('DEMO-00007')] },
      {},
    );
    // idOf itself is one; the search two (the products' vectors, then the neighbours).
    expect(t.db.roundTrips() - before).toBe(3);
  });

  it('a saved setting applies to the next search in this process (the cache is invalidated)', async () => {
    const photo = await catalogPhoto('DEMO-00008');
    expect(
      (await t.core.search.similarProducts(t.merchantId, { image: photo }, { threshold: -1 })).hits,
    ).toHaveLength(10);
    await t.core.settings.update(t.merchantId, { topK: 4 });
    expect(
      (await t.core.search.similarProducts(t.merchantId, { image: photo }, { threshold: -1 })).hits,
    ).toHaveLength(4);
    await t.core.settings.update(t.merchantId, { topK: 10 });
  });
});
