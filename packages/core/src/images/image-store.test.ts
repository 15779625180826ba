import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '@lookalike/inference';
import { ImageStore } from './image-store.js';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe('ImageStore', () => {
  let dataDir: string;
  let store: ImageStore;
  let png: Buffer;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'lookalike-store-'));
    store = new ImageStore(dataDir);
    png = await sharp({
      create: { width: 300, height: 200, channels: 3, background: { r: 200, g: 40, b: 40 } },
    })
      .png()
      .toBuffer();
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('stores bytes under their sha256, once', async () => {
    const first = await store.put(png);
    const second = await store.put(png);
    expect(first).toEqual(second);
    expect(first.sha256).toBe(sha256Hex(png));
    expect(first.storageKey).toBe(store.keyOf(first.sha256));
    expect((await store.get(first.sha256))?.equals(png)).toBe(true);
    expect(await store.get('not-a-hash')).toBeNull();
    expect(await store.get('0'.repeat(64))).toBeNull();
  });

  it('renders a thumbnail once, also when many first requests arrive together', async () => {
    const { sha256 } = await store.put(png);
    const thumbs = await Promise.all(Array.from({ length: 8 }, () => store.thumbnail(sha256, 64)));
    for (const thumb of thumbs) {
      expect(thumb?.equals(thumbs[0] as Buffer)).toBe(true);
    }
    const meta = await sharp(thumbs[0] as Buffer).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 64, height: 43 });
    // Every writer renamed its own temp file into place: nothing half-written is left over.
    expect((await filesUnder(dataDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(await store.thumbnail('0'.repeat(64), 64)).toBeNull();
    await expect(store.thumbnail(sha256, 13)).rejects.toThrow(/no thumbnail width 13/);
  });

  it('deletes the original together with its thumbnails', async () => {
    const { sha256 } = await store.put(png);
    await store.thumbnail(sha256, 128);
    await store.delete(sha256);
    expect(await store.get(sha256)).toBeNull();
    expect(await store.thumbnail(sha256, 128)).toBeNull();
    expect(await filesUnder(dataDir)).toEqual([]);
  });

  it('a thumbnail rendered while its original was being deleted is not served afterwards', async () => {
    const { sha256 } = await store.put(png);
    // The render read the original just before the delete, and writes its thumbnail just after.
    const originalGet = store.get.bind(store);
    let rendering = true;
    store.get = async (sha) => {
      const bytes = await originalGet(sha);
      if (rendering) {
        rendering = false;
        await store.delete(sha);
      }
      return bytes;
    };
    expect(await store.thumbnail(sha256, 64)).toBeNull();
    expect(await store.thumbnail(sha256, 64)).toBeNull();
    expect(await filesUnder(dataDir)).toEqual([]);
  });

  it('a thumbnail left on disk without its original is not served', async () => {
    const { sha256 } = await store.put(png);
    expect(await store.thumbnail(sha256, 64)).not.toBeNull();
    // The original went (a delete that stopped before the thumbnails, a hand clean-up).
    await rm(path.join(dataDir, store.keyOf(sha256)));
    expect(await store.thumbnail(sha256, 64)).toBeNull();
  });
});
