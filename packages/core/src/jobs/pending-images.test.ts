import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { testEngines } from '@lookalike/db';
import { sha256Hex } from '@lookalike/inference';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { solidPhoto, until } from '../testing/fixtures.js';
import { startTestCore, type TestCore } from '../testing/test-core.js';

const MODEL = 'fashion-resnet-v1';
const HOUR_MS = 3_600_000;

describe.each(testEngines())('PENDING images are repaired by the worker ($name)', (engine) => {
  let t: TestCore;
  let productId: string;

  beforeAll(async () => {
    t = await startTestCore(engine, { backfill: { autoStart: false } });
    productId = (await t.core.catalog.create(t.merchantId, { externalId: 'P-1', title: 'Boot' }))
      .id;
  });
  afterAll(() => t.stop());

  // Each test starts its worker in a core of its own (a process of its own): stopping a worker
  // stops its core's queue.

  /**
   * An image row as a process that died between writing it and embedding it leaves it: PENDING,
   * no vector; the file stored or not; `ageMs` old.
   */
  async function pendingImage(
    content: number | Uint8Array,
    { stored, ageMs }: { stored: boolean; ageMs: number },
  ): Promise<string> {
    const bytes = typeof content === 'number' ? await solidPhoto(content) : content;
    const sha256 = sha256Hex(bytes);
    if (stored) await t.core.store.put(bytes);
    const { image } = await t.db.images.add(t.merchantId, {
      productId,
      sha256,
      mime: 'image/png',
      width: 64,
      height: 64,
      byteSize: bytes.length,
      storageKey: t.core.store.keyOf(sha256),
    });
    expect(image.status).toBe('PENDING');
    await t.db.prisma.$executeRaw`
      UPDATE product_images SET created_at = now() - make_interval(secs => ${ageMs / 1000})
      WHERE id = ${image.id}::uuid`;
    return image.id;
  }

  const status = async (id: string) => (await t.db.images.get(t.merchantId, id))?.status;
  const vector = (id: string) => t.db.embeddings.get(t.merchantId, MODEL, id);

  it('on start: old PENDING rows are embedded (file there) or marked FAILED (file gone); young ones wait', async () => {
    const withFile = await pendingImage(1, { stored: true, ageMs: HOUR_MS });
    const missing = await pendingImage(2, { stored: false, ageMs: HOUR_MS });
    const young = await pendingImage(3, { stored: true, ageMs: 0 });
    const logs: string[] = [];
    const worker = await (
      await t.reopen({ backfill: { autoStart: false } })
    ).startWorker({
      webhooks: false,
      pendingImages: { graceMs: 10 * 60_000, intervalMs: 60 * 60_000 },
      log: (m) => logs.push(m),
    });
    try {
      await until(
        async () => (await status(withFile)) !== 'PENDING' && (await status(missing)) !== 'PENDING',
        'the start-up repair',
      );
      expect(await status(withFile)).toBe('READY');
      expect(await vector(withFile)).toHaveLength(128);
      expect(await status(missing)).toBe('FAILED');
      expect(await vector(missing)).toBeNull();
      expect(await status(young)).toBe('PENDING');
      await until(
        () => logs.some((l) => /pending images: 1 embedded, 1 failed/.test(l)),
        'the repair log line',
      );
      expect(logs.join('\n')).toMatch(new RegExp(`image ${missing}.*file is missing`));
    } finally {
      await worker.stop();
    }
  });

  it('periodically: a row that outlives the grace period later is repaired too', async () => {
    const late = await pendingImage(4, { stored: true, ageMs: 0 });
    const worker = await (
      await t.reopen({ backfill: { autoStart: false } })
    ).startWorker({
      webhooks: false,
      pendingImages: { graceMs: 200, intervalMs: 100 },
    });
    try {
      await until(async () => (await status(late)) === 'READY', 'the periodic repair');
      expect(await vector(late)).toHaveLength(128);
    } finally {
      await worker.stop();
    }
  });

  it('a stored file that is not an image, or not the bytes its row names, is marked FAILED', async () => {
    // Bytes that hash right but are no image (they passed no check: written by hand, a bug).
    const notImage = await pendingImage(new TextEncoder().encode('not an image at all'), {
      stored: true,
      ageMs: HOUR_MS,
    });
    // A file under the row's key that is not its bytes (truncated, overwritten).
    const damaged = await pendingImage(7, { stored: false, ageMs: HOUR_MS });
    const row = await t.db.images.get(t.merchantId, damaged);
    const file = path.join(t.dataDir, row?.storageKey ?? '');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, (await solidPhoto(7)).subarray(0, 100));
    const logs: string[] = [];
    const worker = await (
      await t.reopen({ backfill: { autoStart: false } })
    ).startWorker({
      webhooks: false,
      pendingImages: { graceMs: 60_000, intervalMs: 60 * 60_000 },
      log: (m) => logs.push(m),
    });
    try {
      await until(
        async () => (await status(notImage)) === 'FAILED' && (await status(damaged)) === 'FAILED',
        'both to fail',
      );
      expect(await vector(notImage)).toBeNull();
      expect(await vector(damaged)).toBeNull();
      const log = logs.join('\n');
      expect(log).toMatch(new RegExp(`image ${notImage}.*cannot be embedded`));
      expect(log).toMatch(new RegExp(`image ${damaged}.*does not hold the bytes`));
    } finally {
      await worker.stop();
    }
  });

  it('off: pendingImages false leaves PENDING rows alone', async () => {
    const left = await pendingImage(6, { stored: true, ageMs: HOUR_MS });
    const worker = await (
      await t.reopen({ backfill: { autoStart: false } })
    ).startWorker({ webhooks: false, pendingImages: false });
    await worker.stop();
    expect(await status(left)).toBe('PENDING');
  });
});
