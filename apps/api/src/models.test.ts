import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  COLOURS,
  readFashionSample,
  renderCatalogImage,
  seedDemoCatalog,
  type Colour,
} from '@lookalike/core';
import { testEngines } from '@lookalike/db';
import { GraphQLClient } from '@lookalike/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from './server.js';
import { sharedEmbedder, startTestServer, testConfig, type TestServer } from './testing/server.js';

const MODELS = `{ embeddingModels { key dims status loaded coverage { total embedded fraction } reindex { running done remaining rate etaSeconds } } }`;

interface ModelRow {
  key: string;
  dims: number;
  status: string;
  loaded: boolean;
  coverage: { total: number; embedded: number; fraction: number };
  reindex: { running: boolean; done: number; remaining: number; rate: number | null } | null;
}

describe.each(testEngines())('models over the API ($name)', (engine) => {
  let t: TestServer;
  let photo: Buffer;

  beforeAll(async () => {
    t = await startTestServer(engine, {}, { models: ['fashion-resnet', 'colour-thumbnail'] });
    await seedDemoCatalog(t.server.core.catalog, t.server.bootstrap.merchantId, {
      count: 30,
      extraPhotoShare: 0.2,
    });
    const sample = await readFashionSample();
    const product = await t.db.products.getByExternalId(
      t.server.bootstrap.merchantId,
      'DEMO-00002',
    );
    const colour = COLOURS.find((c) => c.name === product?.labels.color) as Colour;
    photo = await renderCatalogImage(sample.images[1] as Uint8Array, colour);
  });
  afterAll(() => t.stop());

  const models = async () =>
    (await t.client.query<{ embeddingModels: ModelRow[] }>(MODELS)).data?.embeddingModels ?? [];
  const search = async () =>
    t.client.upload<{
      similarProducts: {
        model: string;
        hits: { verdict: string; product: { externalId: string } }[];
      };
    }>(
      `query($image: Upload!) { similarProducts(image: $image, first: 3) { model hits { verdict product { externalId } } } }`,
      {},
      { image: { bytes: photo, type: 'image/png' } },
    );

  it('re-indexes, switches with the new model answering, switches back and retires', async () => {
    expect((await models()).map((m) => [m.key, m.status, m.dims])).toEqual([
      ['fashion-resnet-v1', 'ACTIVE', 128],
      ['colour-thumbnail-v1', 'AVAILABLE', 48],
    ]);
    // Changing models needs SETTINGS_WRITE.
    const { token } = await t.server.core.apiKeys.create(t.server.bootstrap.merchantId, 'ro', [
      'SEARCH',
    ]);
    const readOnly = await t.client
      .withKey(token)
      .query(`mutation { startReindex(model: "colour-thumbnail-v1") { status } }`);
    expect(readOnly.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });

    const started = await t.client.query<{ startReindex: ModelRow }>(
      `mutation { startReindex(model: "colour-thumbnail-v1") { key status reindex { running } } }`,
    );
    expect(started.data?.startReindex).toMatchObject({
      status: 'BACKFILLING',
      reindex: { running: true },
    });
    const deadline = Date.now() + 60_000;
    let thumb: ModelRow | undefined;
    do {
      const res = await search();
      expect(res.errors).toBeUndefined();
      expect(res.data?.similarProducts.model).toBe('fashion-resnet-v1');
      thumb = (await models()).find((m) => m.key === 'colour-thumbnail-v1');
    } while (thumb?.status !== 'READY' && Date.now() < deadline);
    expect(thumb).toMatchObject({
      status: 'READY',
      coverage: { fraction: 1 },
      reindex: { running: false, remaining: 0 },
    });

    const switched = await t.client.query<{
      activateModel: {
        previous: string;
        coverage: number;
        forced: boolean;
        model: { status: string };
      };
    }>(
      `mutation { activateModel(model: "colour-thumbnail-v1") { previous coverage forced model { status } } }`,
    );
    expect(switched.data?.activateModel).toEqual({
      previous: 'fashion-resnet-v1',
      coverage: 1,
      forced: false,
      model: { status: 'ACTIVE' },
    });
    const after = await search();
    expect(after.data?.similarProducts.model).toBe('colour-thumbnail-v1');
    expect(after.data?.similarProducts.hits[0]).toEqual({
      verdict: 'EXACT',
      product: { externalId: 'DEMO-00002' },
    });
    const viewer = await t.client.query<{ viewer: { model: { key: string; dims: number } } }>(
      `{ viewer { model { key dims } } searchSettings { model } }`,
    );
    expect(viewer.data?.viewer.model).toEqual({ key: 'colour-thumbnail-v1', dims: 48 });
    const match = await t.client.upload<{ matchImages: { model: string; verdict: string } }>(
      `query($a: Upload!, $b: Upload!) { matchImages(a: $a, b: $b) { model verdict } }`,
      {},
      { a: { bytes: photo, type: 'image/png' }, b: { bytes: photo, type: 'image/png' } },
    );
    expect(match.data?.matchImages).toEqual({ model: 'colour-thumbnail-v1', verdict: 'EXACT' });

    const retireActive = await t.client.query(
      `mutation { retireModel(model: "colour-thumbnail-v1") { status } }`,
    );
    expect(retireActive.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const back = await t.client.query<{ activateModel: { previous: string } }>(
      `mutation { activateModel(model: "fashion-resnet-v1") { previous } }`,
    );
    expect(back.data?.activateModel.previous).toBe('colour-thumbnail-v1');
    expect((await search()).data?.similarProducts.model).toBe('fashion-resnet-v1');
    const retired = await t.client.query<{
      retireModel: { status: string; coverage: { embedded: number } };
    }>(`mutation { retireModel(model: "colour-thumbnail-v1") { status coverage { embedded } } }`);
    expect(retired.data?.retireModel).toEqual({ status: 'RETIRED', coverage: { embedded: 0 } });
    const unknown = await t.client.query(
      `mutation { startReindex(model: "resnet50-imagenet-v1") { status } }`,
    );
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(unknown.errors?.[0]?.message).toMatch(/add it to MODELS/);
  });
});

describe('start-up and the serving model', () => {
  const engine = testEngines()[0];
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'lookalike-startup-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('a fresh database activates the configured default; an existing one keeps its model and says so', async () => {
    const database = await engine!.create();
    const db = database.db;
    const logs: string[] = [];
    const logger = { info: (m: string) => logs.push(m), error: (m: string) => logs.push(m) };
    const start = async (models: string[]) =>
      createServer({
        config: testConfig({ dataDir, MODELS: models }),
        db,
        embedders: await Promise.all(models.map((m) => sharedEmbedder(m))),
        logger,
      });
    try {
      const first = await start(['colour-thumbnail', 'fashion-resnet']);
      expect(first.bootstrap).toMatchObject({ created: true, servingModel: 'colour-thumbnail-v1' });
      await first.close();
      const second = await start(['fashion-resnet', 'colour-thumbnail']);
      expect(second.bootstrap).toMatchObject({
        created: false,
        servingModel: 'colour-thumbnail-v1',
        configuredModel: 'fashion-resnet-v1',
      });
      expect(logs.join('\n')).toMatch(/stays on colour-thumbnail-v1/);
      const url = await second.listen(0, '127.0.0.1');
      const key = first.bootstrap.generatedKey as string;
      const viewer = await new GraphQLClient(url, key).query<{
        viewer: { model: { key: string } };
      }>(`{ viewer { model { key } } }`);
      expect(viewer.data?.viewer.model.key).toBe('colour-thumbnail-v1');
      await second.close();
    } finally {
      await database.drop();
    }
  });
});
