import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCatalog } from './testing/catalog.js';
import { testEngines, type TestDatabase } from './testing/engines.js';
import { clusteredVectors } from './testing/vectors.js';

describe.each(testEngines())('planner statistics and plans ($name)', (engine) => {
  let t: TestDatabase;
  let merchantId: string;
  let small: string;
  let query: Float32Array;

  beforeAll(async () => {
    t = await engine.create();
    merchantId = (await t.db.merchants.create('big')).id;
    small = (await t.db.merchants.create('small')).id;
    const { vectors } = clusteredVectors({
      n: 3020,
      dims: 128,
      clusters: 10,
      spread: 0.4,
      seed: 3,
    });
    await seedCatalog(t.db, merchantId, vectors.slice(0, 3000));
    await seedCatalog(t.db, small, vectors.slice(3000, 3019), { prefix: 's' });
    query = vectors[3019] as Float32Array;
  });
  afterAll(() => t.drop());

  const plan = (m: string) =>
    t.db.embeddings.explainNearest({
      merchantId: m,
      modelId: 'fashion-resnet-v1',
      vector: query,
      metric: 'cosine',
      k: 10,
    });

  it('refreshes statistics after bulk writes, so a large catalog is searched through its HNSW index', async () => {
    // seedCatalog writes through the repository: enough rows changed for an ANALYZE.
    await new Promise((r) => setTimeout(r, 200));
    const rows = await t.db.prisma.$queryRaw<{ n: number }[]>`
      SELECT reltuples::float8 AS n FROM pg_class WHERE relname = 'image_embeddings'`;
    expect(rows[0]?.n).toBeGreaterThan(1000);
    expect(await plan(merchantId)).toMatch(
      /Index Scan using image_embeddings_fashion_resnet_v1_cosine_idx/,
    );
  });

  it('and a merchant with a handful of images is scanned exactly', async () => {
    expect(await plan(small)).not.toMatch(/image_embeddings_fashion_resnet_v1_cosine_idx/);
  });
});
