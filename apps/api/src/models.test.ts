import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  COLOURS,
  readFashionSample,
  renderCatalogImage,
  seedDemoCatalog,
  type Colour,
  writeVersionedModels,
} from '@lookalike/core';
import { testEngines, type TestDatabase } from '@lookalike/db';
import { GraphQLClient } from '@lookalike/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiConfig } from './env.js';
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

describe.each(testEngines())(
  'an existing installation meets a new model version ($name)',
  (engine) => {
    // Versions 1 and 2 of one model (the colour thumbnail's weights under a test id), bundled in a
    // temporary models directory as an installation sees a new version arrive.
    const V1 = 'test-thumb-v1';
    const V2 = 'test-thumb-v2';
    let modelsDir: string;
    let dataDir: string;
    let database: TestDatabase;
    let photo: Buffer;
    const logs: string[] = [];
    const logger = {
      info: (m: string) => logs.push(m),
      error: (m: string, e?: unknown) => logs.push(`${m} ${String(e)}`),
    };

    beforeAll(async () => {
      modelsDir = await mkdtemp(path.join(tmpdir(), 'lookalike-versions-'));
      await writeVersionedModels(modelsDir, { id: 'test-thumb', versions: [1, 2] });
      dataDir = await mkdtemp(path.join(tmpdir(), 'lookalike-upgrade-'));
      database = await engine.create();
      const sample = await readFashionSample();
      photo = await renderCatalogImage(sample.images[4] as Uint8Array, COLOURS[2] as Colour);
    });
    afterAll(async () => {
      await database.drop();
      await rm(modelsDir, { recursive: true, force: true });
      await rm(dataDir, { recursive: true, force: true });
    });

    const start = (config: Partial<ApiConfig>) =>
      createServer({
        config: testConfig({ dataDir, INFERENCE_DEVICE: 'cpu', ...config }),
        db: database.db,
        modelsDir,
        detector: null,
        logger,
        // Small batches: the re-index lasts long enough for searches to run during it.
        backfill: { batchSize: 2, pollMs: 50 },
      });
    const FIELDS = `key status activateWhenReady coverage { embedded total failed }`;
    const modelsOf = async (client: GraphQLClient) =>
      (
        await client.query<{
          embeddingModels: {
            key: string;
            status: string;
            activateWhenReady: boolean;
            coverage: { embedded: number; total: number; failed: number };
          }[];
        }>(`{ embeddingModels { ${FIELDS} } }`)
      ).data?.embeddingModels ?? [];
    const search = (client: GraphQLClient) =>
      client.upload<{ similarProducts: { model: string } }>(
        `query($image: Upload!) { similarProducts(image: $image, first: 3) { model } }`,
        {},
        { image: { bytes: photo, type: 'image/png' } },
      );

    it('keeps v1 loaded and answering while it re-indexes to v2 on start, then switches; off does nothing', async () => {
      // The installation as it was: MODELS named v1.
      const first = await start({ MODELS: [V1] });
      const key = first.bootstrap.generatedKey as string;
      await seedDemoCatalog(first.core.catalog, first.bootstrap.merchantId, {
        count: 20,
        extraPhotoShare: 0,
      });
      await first.close();
      const who = `merchant Default merchant (${first.bootstrap.merchantId})`;

      // MODEL_UPGRADE=off: v2 is the default, v1 is kept loaded, nothing else happens.
      logs.length = 0;
      const off = await start({ MODELS: ['test-thumb'], MODEL_UPGRADE: 'off' });
      expect(off.core.registry.keys()).toEqual([V2, V1]);
      expect(logs).toContain(
        `[core] kept loaded: ${who} is served by ${V1} (bundled, not in MODELS)`,
      );
      expect(logs.join('\n')).toContain(`[core] MODEL_UPGRADE=off: ${who} stays on ${V1}`);
      const offClient = new GraphQLClient(await off.listen(0, '127.0.0.1'), key);
      expect((await modelsOf(offClient)).map((m) => [m.key, m.status])).toEqual([
        [V1, 'ACTIVE'],
        [V2, 'AVAILABLE'],
      ]);
      expect((await search(offClient)).data?.similarProducts.model).toBe(V1);
      await off.close();
      expect(await database.db.merchantModels.get(first.bootstrap.merchantId, V2)).toBeNull();

      // auto (the default): the re-index starts on start; searches answer from v1 until the switch.
      logs.length = 0;
      const server = await start({ MODELS: ['test-thumb'] });
      const client = new GraphQLClient(await server.listen(0, '127.0.0.1'), key);
      expect(logs.join('\n')).toContain(
        `[core] upgrading ${who} from ${V1} to ${V2}: re-indexing its 20 images in the background`,
      );
      expect(logs.join('\n')).not.toMatch(/stays on/);
      const answered: string[] = [];
      const errors: unknown[] = [];
      const state = { switched: false };
      const searching = (async () => {
        while (!state.switched) {
          const res = await search(client);
          if (res.errors) errors.push(res.errors);
          else if (res.data) answered.push(res.data.similarProducts.model);
        }
      })();
      const deadline = Date.now() + 60_000;
      while (!state.switched && Date.now() < deadline) {
        state.switched = (await modelsOf(client))[0]?.key === V2;
      }
      state.switched = true;
      await searching;
      expect(errors).toEqual([]);
      expect(answered.length).toBeGreaterThan(1);
      expect(answered[0]).toBe(V1);
      // Once v2 answers, v1 never does again.
      const firstV2 = answered.indexOf(V2);
      expect(answered.slice(firstV2 >= 0 ? firstV2 : answered.length)).not.toContain(V1);
      expect(answered.every((m) => m === V1 || m === V2)).toBe(true);
      const models = await modelsOf(client);
      expect(models.map((m) => [m.key, m.status, m.activateWhenReady])).toEqual([
        [V2, 'ACTIVE', false],
        [V1, 'READY', false],
      ]);
      expect(models[0]?.coverage).toEqual({ embedded: 20, total: 20, failed: 0 });
      expect((await search(client)).data?.similarProducts.model).toBe(V2);
      expect(logs.join('\n')).toMatch(
        new RegExp(
          `re-index of ${V2} for merchant \\S+: \\d+/20 images \\(\\d+%\\), [\\d.]+ images/s, ETA`,
        ),
      );
      expect(logs.join('\n')).toContain(
        `${V2} now serves merchant ${first.bootstrap.merchantId} instead of ${V1}`,
      );

      // The same intent through the API: back to v1 (its vectors were kept) once it is complete.
      const again = await client.query<{
        startReindex: { key: string; status: string; activateWhenReady: boolean };
      }>(
        `mutation { startReindex(model: "${V1}", activateWhenReady: true) { key status activateWhenReady } }`,
      );
      expect(again.errors).toBeUndefined();
      expect(again.data?.startReindex).toEqual({
        key: V1,
        status: 'BACKFILLING',
        activateWhenReady: true,
      });
      const back = Date.now() + 60_000;
      while ((await modelsOf(client))[0]?.key !== V1 && Date.now() < back) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect((await search(client)).data?.similarProducts.model).toBe(V1);
      const plain = await client.query<{ startReindex: { activateWhenReady: boolean } }>(
        `mutation { startReindex(model: "${V2}") { activateWhenReady } }`,
      );
      expect(plain.data?.startReindex.activateWhenReady).toBe(false);
      await server.core.backfiller.idle();
      await server.close();

      // A merchant who went back stays there: a READY v2 is not switched to on the next start.
      logs.length = 0;
      const later = await start({ MODELS: ['test-thumb'] });
      expect(later.core.upgrades.map((u) => u.action)).toEqual(['skipped']);
      expect(logs.join('\n')).toMatch(/stays on test-thumb-v1/);
      await later.close();
    });
  },
);
