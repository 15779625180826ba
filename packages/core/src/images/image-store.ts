import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256Hex } from '@lookalike/inference';
import sharp from 'sharp';

const SHA256 = /^[0-9a-f]{64}$/;

/** The widths `/images/:sha256?w=` serves. */
export const THUMBNAIL_WIDTHS: readonly number[] = [64, 128, 256, 512];

async function readOrNull(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Write through a uniquely named temp file and rename: readers never see half a file, and
 * concurrent writers of the same (content-addressed, hence identical) file cannot collide. */
async function writeAtomic(target: string, bytes: Uint8Array): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, bytes, { flag: 'wx' });
  await rename(temp, target);
}

/**
 * Content-addressed image files under DATA_DIR/images: the key of some bytes is their sha256,
 * so the same image uploaded twice (by any product or merchant) is stored once, and a stored
 * file never changes (its URL can be cached forever).
 */
export class ImageStore {
  readonly root: string;
  private readonly thumbs: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'images');
    this.thumbs = path.join(dataDir, 'thumbs');
  }

  /** The storage key of a sha256: `images/ab/<sha256>` relative to DATA_DIR. */
  keyOf(sha256: string): string {
    return `images/${sha256.slice(0, 2)}/${sha256}`;
  }

  private file(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return path.join(this.root, sha256.slice(0, 2), sha256);
  }

  /** Write the bytes (once); atomic: a reader never sees a half-written file. */
  async put(bytes: Uint8Array): Promise<{ sha256: string; storageKey: string }> {
    const sha256 = sha256Hex(bytes);
    await writeAtomic(this.file(sha256), bytes);
    return { sha256, storageKey: this.keyOf(sha256) };
  }

  private thumbFile(sha256: string, width: number): string {
    return path.join(this.thumbs, String(width), `${sha256}.webp`);
  }

  /**
   * A WebP at most `width` px on each side (one of THUMBNAIL_WIDTHS), or null when no original
   * is stored. Derived from immutable content, so rendered once and kept on disk. A thumbnail
   * lives only as long as its original: one whose original has gone (deleted while it was being
   * rendered) is not served, and is removed.
   */
  async thumbnail(sha256: string, width: number): Promise<Buffer | null> {
    if (!SHA256.test(sha256)) return null;
    if (!THUMBNAIL_WIDTHS.includes(width)) throw new Error(`no thumbnail width ${width}`);
    const file = this.thumbFile(sha256, width);
    const cached = await readOrNull(file);
    if (cached) return (await this.has(sha256)) ? cached : this.dropThumbnail(file);
    const original = await this.get(sha256);
    if (!original) return null;
    const rendered = await sharp(original, { limitInputPixels: 100_000_000 })
      .rotate()
      .resize({ width, height: width, fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer();
    await writeAtomic(file, rendered);
    // A delete between reading the original and writing this file has missed it.
    return (await this.has(sha256)) ? rendered : this.dropThumbnail(file);
  }

  private async dropThumbnail(file: string): Promise<null> {
    await rm(file, { force: true });
    return null;
  }

  /** The bytes, or null when nothing is stored under this sha256 (or it is not one). */
  async get(sha256: string): Promise<Buffer | null> {
    if (!SHA256.test(sha256)) return null;
    return readOrNull(this.file(sha256));
  }

  /** Whether the original is stored. */
  async has(sha256: string): Promise<boolean> {
    if (!SHA256.test(sha256)) return false;
    try {
      await access(this.file(sha256));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Every stored original with when it was written, folder by folder (`images/ab/…`). Files that are not named by a sha256 (a temp file of a write
   * in progress) are left out.
   */
  async *list(): AsyncGenerator<{ sha256: string; writtenAt: Date }> {
    const folders = await readdir(this.root).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    });
    for (const folder of folders.sort()) {
      if (!/^[0-9a-f]{2}$/.test(folder)) continue;
      const names = await readdir(path.join(this.root, folder)).catch(() => []);
      for (const name of names) {
        if (!SHA256.test(name) || !name.startsWith(folder)) continue;
        const info = await stat(path.join(this.root, folder, name)).catch(() => null);
        if (info?.isFile()) yield { sha256: name, writtenAt: info.mtime };
      }
    }
  }

  /** Remove the original and its thumbnails. */
  async delete(sha256: string): Promise<void> {
    if (!SHA256.test(sha256)) return;
    await rm(this.file(sha256), { force: true });
    for (const width of THUMBNAIL_WIDTHS) {
      await rm(this.thumbFile(sha256, width), { force: true });
    }
  }
}
