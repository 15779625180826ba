import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testEngines, type Repositories, type TestDatabase } from '@lookalike/db';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createCore, type Core } from '../core.js';
import { ModelRegistry } from '../models/model-registry.js';
import { sharedEmbedder } from '../testing/test-core.js';

describe.each(testEngines())('first start ($name)', (engine) => {
  let database: TestDatabase;
  let core: Core;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'lookalike-boot-'));
    database = await engine.create();
    core = await createCore({
      db: database.db,
      models: new ModelRegistry([await sharedEmbedder('fashion-resnet')]),
      dataDir,
      backfill: { autoStart: false },
    });
  });
  afterAll(async () => {
    await core.close();
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('creates the merchant, its model and its key together, or none of them', async () => {
    const db = database.db;
    const original = db.transaction.bind(db);
    const spy = vi.spyOn(db, 'transaction').mockImplementationOnce((fn, options) =>
      original(
        (tx) =>
          fn({
            ...tx,
            apiKeys: Object.assign(Object.create(tx.apiKeys) as Repositories['apiKeys'], {
              create: () => Promise.reject(new Error('connection lost')),
            }),
          }),
        options,
      ),
    );
    await expect(core.bootstrap({ dataDir })).rejects.toThrow('connection lost');
    spy.mockRestore();
    expect(await db.merchants.count()).toBe(0);
    expect(await db.prisma.merchantModel.count()).toBe(0);

    const boot = await core.bootstrap({ dataDir });
    expect(boot).toMatchObject({ created: true, servingModel: 'fashion-resnet-v1' });
    expect(await core.apiKeys.authenticate(boot.generatedKey ?? '')).toMatchObject({
      merchantId: boot.merchantId,
      scopes: ['SEARCH', 'CATALOG_WRITE', 'SETTINGS_WRITE', 'KEYS_ADMIN', 'MERCHANTS_ADMIN'],
    });
    expect((await readFile(boot.keyFile ?? '', 'utf8')).trim()).toBe(boot.generatedKey);
    expect((await stat(boot.keyFile ?? '')).mode & 0o777).toBe(0o600);
    // Idempotent: a second start finds the merchant and generates nothing.
    const again = await core.bootstrap({ dataDir });
    expect(again).toMatchObject({ created: false, merchantId: boot.merchantId });
    expect(again.generatedKey).toBeUndefined();
    expect(await db.merchants.count()).toBe(1);
  });
});
