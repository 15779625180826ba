import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { testEngines, type Repositories } from '@lookalike/db';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Core } from '../core.js';
import { generateApiKey } from '../keys/api-key.js';
import { ALL_SCOPES } from '../keys/api-key.service.js';
import { openTestCore, type OpenTestCore } from '../testing/test-core.js';

describe.each(testEngines())('first start ($name)', (engine) => {
  let t: OpenTestCore;
  let core: Core;
  let dataDir: string;

  beforeAll(async () => {
    t = await openTestCore(engine, { backfill: { autoStart: false } });
    ({ core, dataDir } = t);
  });
  afterAll(() => t.stop());

  it('creates the merchant, its model and its key together, or none of them', async () => {
    const db = t.db;
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
    // Nor a key file whose key was never stored.
    await expect(stat(path.join(dataDir, 'bootstrap-key'))).rejects.toThrow(/ENOENT/);

    const boot = await core.bootstrap({ dataDir });
    expect(boot).toMatchObject({ created: true, servingModel: 'fashion-resnet-v1' });
    expect(await core.apiKeys.authenticate(boot.generatedKey ?? '')).toMatchObject({
      merchantId: boot.merchantId,
      scopes: [...ALL_SCOPES],
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

describe.each(testEngines())('first start, interrupted ($name)', (engine) => {
  let t: OpenTestCore;
  let core: Core;
  let dataDir: string;

  beforeEach(async () => {
    t = await openTestCore(engine, { backfill: { autoStart: false } });
    ({ core, dataDir } = t);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await t.stop();
  });

  /** Make the next write of an API key fail, however the start writes it. */
  function failNextKeyWrite(): void {
    const db = t.db;
    let failed = false;
    const fail = () => {
      failed = true;
      return Promise.reject(new Error('connection lost'));
    };
    const create = db.apiKeys.create.bind(db.apiKeys);
    vi.spyOn(db.apiKeys, 'create').mockImplementation((...args) =>
      failed ? create(...args) : fail(),
    );
    const original = db.transaction.bind(db);
    vi.spyOn(db, 'transaction').mockImplementation((fn, options) =>
      original((tx) => {
        const txCreate = tx.apiKeys.create.bind(tx.apiKeys);
        return fn({
          ...tx,
          apiKeys: Object.assign(Object.create(tx.apiKeys) as Repositories['apiKeys'], {
            create: (...args: Parameters<Repositories['apiKeys']['create']>) =>
              failed ? txCreate(...args) : fail(),
          }),
        });
      }, options),
    );
  }

  it('with BOOTSTRAP_API_KEY: a failure writing the key leaves no merchant, and the next start makes both', async () => {
    const db = t.db;
    const { token } = generateApiKey();
    failNextKeyWrite();
    await expect(core.bootstrap({ dataDir, bootstrapKey: token })).rejects.toThrow(
      'connection lost',
    );
    vi.restoreAllMocks();
    expect(await db.merchants.count()).toBe(0);
    expect(await db.prisma.merchantModel.count()).toBe(0);

    const boot = await core.bootstrap({ dataDir, bootstrapKey: token });
    expect(boot).toMatchObject({ created: true, servingModel: 'fashion-resnet-v1' });
    expect(boot.generatedKey).toBeUndefined();
    expect(await core.apiKeys.authenticate(token)).toMatchObject({
      merchantId: boot.merchantId,
      scopes: [...ALL_SCOPES],
    });
    expect(await db.merchants.count()).toBe(1);
    expect(await db.apiKeys.list(boot.merchantId)).toHaveLength(1);
  });

  it('a generated key that cannot be saved leaves nothing half-made, and the next start succeeds', async () => {
    const db = t.db;
    // DATA_DIR's parent is a file: the key file cannot be written.
    const blocked = path.join(dataDir, 'not-a-dir');
    await writeFile(blocked, 'x');
    await expect(core.bootstrap({ dataDir: path.join(blocked, 'data') })).rejects.toThrow();
    expect(await db.merchants.count()).toBe(0);
    expect(await db.prisma.apiKey.count()).toBe(0);

    const boot = await core.bootstrap({ dataDir });
    expect(boot.created).toBe(true);
    expect((await readFile(boot.keyFile ?? '', 'utf8')).trim()).toBe(boot.generatedKey);
    expect(await core.apiKeys.authenticate(boot.generatedKey ?? '')).toMatchObject({
      merchantId: boot.merchantId,
    });
    expect(await db.merchants.count()).toBe(1);
  });

  it('a merchant left without any key by an earlier, interrupted start gets one, and no second merchant is made', async () => {
    const db = t.db;
    const merchant = await db.merchants.create('Default merchant');
    await db.models.ensureIndexes('fashion-resnet-v1');
    await db.merchantModels.activateIfNone(merchant.id, 'fashion-resnet-v1');

    const boot = await core.bootstrap({ dataDir });
    expect(boot).toMatchObject({ created: false, merchantId: merchant.id });
    expect(boot.generatedKey).toBeDefined();
    expect((await readFile(boot.keyFile ?? '', 'utf8')).trim()).toBe(boot.generatedKey);
    expect(await core.apiKeys.authenticate(boot.generatedKey ?? '')).toMatchObject({
      merchantId: merchant.id,
      scopes: [...ALL_SCOPES],
    });
    expect(await db.merchants.count()).toBe(1);

    const again = await core.bootstrap({ dataDir });
    expect(again).toMatchObject({ created: false, merchantId: merchant.id });
    expect(again.generatedKey).toBeUndefined();
    expect(await db.apiKeys.list(merchant.id)).toHaveLength(1);
  });

  it('a merchant whose keys were all revoked is not given a new one', async () => {
    const db = t.db;
    const boot = await core.bootstrap({ dataDir });
    const [key] = await db.apiKeys.list(boot.merchantId);
    expect(await db.apiKeys.revoke(boot.merchantId, key?.id ?? '')).toBe(true);
    const again = await core.bootstrap({ dataDir });
    expect(again.generatedKey).toBeUndefined();
    expect(await db.apiKeys.list(boot.merchantId)).toHaveLength(1);
  });
});
