import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testEngines, type TestEngine } from '@lookalike/db';
import type { Embedder } from '@lookalike/inference';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../core.js';
import { readFashionSample } from '../demo/fashion-sample.js';
import { COLOURS, renderCatalogImage, type Colour } from '../demo/render.js';
import { seedDemoCatalog } from '../demo/seed.js';
import { sharedEmbedder, startTestCore, type TestCore } from '../testing/test-core.js';
import { writeVersionedModels } from '../testing/versioned-models.js';
import { loadModels, ModelRegistry } from './model-registry.js';

// Two versions of one model, as an installation sees when a new version is bundled: same
// manifest id, versions 1 and 2 (the colour thumbnail's weights, so it is fast; a new key).
const ID = 'test-thumb';
const V1 = `${ID}-v1`;
const V2 = `${ID}-v2`;

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** An embedder whose batches after the first `gate.allow` wait (a re-index held mid-way). */
function gated(embedder: Embedder, gate: { allow: number; batches: number }): Embedder {
  return {
    ...embedder,
    embedBatch: async (items) => {
      const mine = ++gate.batches;
      while (mine > gate.allow) await new Promise((r) => setTimeout(r, 5));
      return embedder.embedBatch(items);
    },
  };
}

describe.each(testEngines())('a new version of the default model on start ($name)', (engine) => {
  let dir: string;
  let v1: Embedder;
  let v2: Embedder;
  let query: Buffer;
  const cleanup: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lookalike-versions-'));
    const folders = await writeVersionedModels(dir, { id: ID, versions: [1, 2] });
    v1 = await sharedEmbedder(folders.get(1) as string);
    v2 = await sharedEmbedder(folders.get(2) as string);
    const sample = await readFashionSample();
    query = await renderCatalogImage(sample.images[3] as Uint8Array, COLOURS[1] as Colour);
  });
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
    await rm(dir, { recursive: true, force: true });
  });

  /**
   * An existing installation: a database whose merchants are served by v1, with a catalog, and
   * the process that wrote it stopped.
   */
  async function installedOnV1(e: TestEngine, products = 16): Promise<TestCore> {
    const t = await startTestCore(e, { models: [v1FolderOf()], backfill: { pollMs: 0 } });
    cleanup.push(() => t.stop());
    await seedDemoCatalog(t.core.catalog, t.merchantId, { count: products, extraPhotoShare: 0 });
    await t.core.close();
    return t;
  }
  const v1FolderOf = () => path.join(dir, ID);

  const search = async (core: Core, merchantId: string) =>
    (await core.search.similarProducts(merchantId, { image: query }, { first: 3 })).model;

  it('loads the old version still serving, re-indexes to the new one while searches answer from the old, then switches', async () => {
    const t = await installedOnV1(engine, 20);
    // A second merchant on v1 is upgraded too.
    const other = (await t.db.merchants.create('Second shop')).id;
    const reopened = await t.reopen({ backfill: { pollMs: 0 } });
    await seedDemoCatalog(reopened.catalog, other, { count: 4, extraPhotoShare: 0 });
    await reopened.close();
    const v1Vectors = await t.db.embeddings.count(t.merchantId, V1);
    expect(v1Vectors).toBe(20);

    // The new process: MODELS names the id, so the newest version (v2) is the default.
    const logs: string[] = [];
    const log = (m: string) => logs.push(m);
    const registry = await loadModels({
      models: [ID],
      modelsDir: dir,
      db: t.db,
      log,
      device: 'cpu',
    });
    cleanup.push(() => registry.close());
    expect(registry.keys()).toEqual([V2, V1]);
    expect(logs).toEqual([
      `kept loaded: merchants Default merchant (${t.merchantId}), Second shop (${other}) are served by ${V1} (bundled, not in MODELS)`,
    ]);

    const core = await t.reopen({
      models: registry,
      log,
      backfill: { batchSize: 2, pollMs: 0, progressMs: 60_000 },
    });
    expect(core.upgrades.map((u) => [u.merchantId, u.from, u.to, u.action])).toEqual([
      [t.merchantId, V1, V2, 'started'],
      [other, V1, V2, 'started'],
    ]);
    expect((await core.models.get(t.merchantId, V2)).activateWhenReady).toBe(true);
    const answered: string[] = [];
    const errors: unknown[] = [];
    while (core.backfiller.isRunning(t.merchantId, V2) || core.backfiller.isRunning(other, V2)) {
      try {
        answered.push(await search(core, t.merchantId));
      } catch (error) {
        errors.push(error);
      }
    }
    await core.backfiller.idle();
    expect(errors).toEqual([]);
    expect(answered.length).toBeGreaterThan(2);
    expect(answered[0]).toBe(V1);
    // Once it has switched, it never answers from the old version again.
    expect(
      answered.slice(answered.indexOf(V2) >= 0 ? answered.indexOf(V2) : answered.length),
    ).not.toContain(V1);
    expect(await search(core, t.merchantId)).toBe(V2);
    expect(await search(core, other)).toBe(V2);

    const models = await core.models.list(t.merchantId);
    expect(models.map((m) => [m.key, m.status, m.activateWhenReady])).toEqual([
      [V2, 'ACTIVE', false],
      [V1, 'READY', false],
    ]);
    expect(models[0]?.coverage).toMatchObject({ embedded: 20, total: 20, fraction: 1 });
    // The old version's vectors stay: switching back is instant.
    expect(await t.db.embeddings.count(t.merchantId, V1)).toBe(v1Vectors);

    const text = logs.join('\n');
    expect(text).toContain(
      `upgrading merchant Default merchant (${t.merchantId}) from ${V1} to ${V2}: re-indexing its 20 images in the background`,
    );
    expect(text).toMatch(
      new RegExp(
        `re-index of ${V2} for merchant ${t.merchantId}: \\d+/20 images \\(\\d+%\\), [\\d.]+ images/s, ETA \\d+`,
      ),
    );
    expect(text).toContain(
      `re-index of ${V2} for merchant ${t.merchantId} finished (20 images); ${V2} now serves merchant ${t.merchantId} instead of ${V1}`,
    );

    // A merchant who switches back stays there: the next start leaves a READY v2 alone.
    await core.models.activate(t.merchantId, V1);
    await core.close();
    const again = await t.reopen({ models: registry, log, backfill: { pollMs: 0 } });
    expect(again.upgrades.map((u) => [u.merchantId, u.action])).toEqual([
      [t.merchantId, 'skipped'],
    ]);
    expect(again.backfiller.isRunning(t.merchantId, V2)).toBe(false);
    expect(await search(again, t.merchantId)).toBe(V1);
    await again.close();
  });

  it('a restart mid-backfill resumes from what is stored and still switches', async () => {
    const t = await installedOnV1(engine, 16);
    const gate = { allow: 1, batches: 0 };
    const first = await t.reopen({
      models: new ModelRegistry([gated(v2, gate), v1]),
      backfill: { batchSize: 4, pollMs: 0 },
    });
    await waitFor(() => gate.batches >= 2, 'the second batch');
    // The process stops: its loop ends after the batch in hand and gives the lease back.
    const closing = first.close();
    gate.allow = Infinity;
    await closing;
    const partial = await t.db.embeddings.count(t.merchantId, V2);
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(16);
    expect(await t.db.merchantModels.get(t.merchantId, V2)).toMatchObject({
      status: 'BACKFILLING',
      activateWhenReady: true,
      reindexLeaseOwner: null,
    });
    expect((await t.db.merchantModels.active(t.merchantId))?.modelId).toBe(V1);

    const logs: string[] = [];
    const restarted = await t.reopen({
      models: new ModelRegistry([v2, v1]),
      log: (m) => logs.push(m),
      backfill: { batchSize: 4, pollMs: 20 },
    });
    expect(restarted.upgrades.map((u) => u.action)).toEqual(['resumed']);
    await waitFor(
      async () => (await t.db.merchantModels.active(t.merchantId))?.modelId === V2,
      'the switch',
    );
    await restarted.backfiller.idle();
    expect(await search(restarted, t.merchantId)).toBe(V2);
    expect(await t.db.embeddings.count(t.merchantId, V2)).toBe(16);
    const [{ n } = { n: -1 }] = await t.db.prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int - count(DISTINCT image_id)::int AS n FROM image_embeddings
      WHERE model_id = ${V2}`;
    expect(n).toBe(0);
    expect(logs.join('\n')).toMatch(
      new RegExp(
        `re-index of ${V2} for merchant ${t.merchantId} resumed: \\d+ of 16 images to embed`,
      ),
    );
    await restarted.close();
  });

  it('MODEL_UPGRADE=off changes nothing and says so', async () => {
    const t = await installedOnV1(engine, 6);
    const logs: string[] = [];
    const core = await t.reopen({
      models: new ModelRegistry([v2, v1]),
      modelUpgrade: 'off',
      log: (m) => logs.push(m),
      backfill: { pollMs: 0 },
    });
    expect(core.upgrades.map((u) => u.action)).toEqual(['off']);
    expect(logs.join('\n')).toMatch(
      new RegExp(
        `MODEL_UPGRADE=off: merchant Default merchant \\(${t.merchantId}\\) stays on ${V1}`,
      ),
    );
    expect(await t.db.merchantModels.get(t.merchantId, V2)).toBeNull();
    expect(core.backfiller.isRunning(t.merchantId, V2)).toBe(false);
    expect(await search(core, t.merchantId)).toBe(V1);
    await core.close();
  });

  it('activateWhenReady does not force a switch past an image that failed: the model stays READY', async () => {
    const t = await installedOnV1(engine, 8);
    // One stored file is gone: the new version cannot embed that image.
    const [lost] = await t.db.embeddings.missing(t.merchantId, V2, null, 1);
    await t.core.store.delete(lost?.sha256 as string);
    const logs: string[] = [];
    const core = await t.reopen({
      models: new ModelRegistry([v2, v1]),
      modelUpgrade: 'off',
      log: (m) => logs.push(m),
      backfill: { pollMs: 0 },
    });
    const started = await core.models.startReindex(t.merchantId, V2, { activateWhenReady: true });
    expect(started).toMatchObject({ status: 'BACKFILLING', activateWhenReady: true });
    await core.backfiller.idle();
    expect(await core.models.get(t.merchantId, V2)).toMatchObject({
      status: 'READY',
      activateWhenReady: false,
      coverage: { total: 8, embedded: 7, failed: 1 },
    });
    expect((await t.db.merchantModels.active(t.merchantId))?.modelId).toBe(V1);
    expect(await search(core, t.merchantId)).toBe(V1);
    expect(logs.join('\n')).toContain(
      `re-index of ${V2} for merchant ${t.merchantId} finished (7 images), but it covers 7 of 8 images (87.5%; 1 failed): not switching to ${V2}, which stays READY`,
    );
    await core.close();
  });
});
