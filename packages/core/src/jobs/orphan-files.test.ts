import { utimes } from 'node:fs/promises';
import path from 'node:path';
import { testEngines } from '@lookalike/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { solidPhoto, until } from '../testing/fixtures.js';
import { startTestCore, type TestCore } from '../testing/test-core.js';

const HOUR_MS = 3_600_000;

describe.each(testEngines())('image files no row references are swept ($name)', (engine) => {
  let t: TestCore;

  beforeAll(async () => {
    t = await startTestCore(engine, { backfill: { autoStart: false } });
  });
  afterAll(() => t.stop());

  /** Make a stored file look `ageMs` old. */
  async function age(sha256: string, ageMs: number): Promise<void> {
    const at = new Date(Date.now() - ageMs);
    await utimes(path.join(t.dataDir, t.core.store.keyOf(sha256)), at, at);
  }

  it('on start: an old unreferenced file goes; referenced files (any merchant) and young ones stay', async () => {
    // Left by a process that died after a delete committed and before it removed the file, or
    // by an older version that lost track of it.
    const orphan = await t.core.store.put(await solidPhoto(1));
    await age(orphan.sha256, HOUR_MS * 3);
    // An upload's file written a moment ago, its transaction still to come.
    const young = await t.core.store.put(await solidPhoto(2));
    const ours = await t.core.catalog.addImage(
      t.merchantId,
      { externalId: 'KEEP-1', mode: 'create' },
      await solidPhoto(3),
    );
    await age(ours.image.sha256, HOUR_MS * 3);
    const other = await t.db.merchants.create('Other shop');
    const theirs = await t.core.catalog.addImage(
      other.id,
      { externalId: 'KEEP-2', mode: 'create' },
      await solidPhoto(4),
    );
    await age(theirs.image.sha256, HOUR_MS * 3);

    const logs: string[] = [];
    const worker = await (
      await t.reopen({ backfill: { autoStart: false } })
    ).startWorker({
      webhooks: false,
      orphanFiles: { graceMs: HOUR_MS, intervalMs: 24 * HOUR_MS },
      log: (m) => logs.push(m),
    });
    try {
      await until(async () => !(await t.core.store.has(orphan.sha256)), 'the sweep');
      await until(() => logs.some((l) => /image files: 1 removed/.test(l)), 'its log line');
      expect(await t.core.store.has(young.sha256)).toBe(true);
      expect(await t.core.store.has(ours.image.sha256)).toBe(true);
      expect(await t.core.store.has(theirs.image.sha256)).toBe(true);
    } finally {
      await worker.stop();
    }
  });

  it('off: orphanFiles false removes nothing', async () => {
    const orphan = await t.core.store.put(await solidPhoto(5));
    await age(orphan.sha256, HOUR_MS * 3);
    const worker = await (
      await t.reopen({ backfill: { autoStart: false } })
    ).startWorker({
      webhooks: false,
      orphanFiles: false,
    });
    await worker.stop();
    expect(await t.core.store.has(orphan.sha256)).toBe(true);
  });
});
