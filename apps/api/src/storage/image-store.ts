import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

const SHA256 = /^[0-9a-f]{64}$/;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Content-addressed image files under DATA_DIR/images: the key of some bytes is their sha256,
 * so the same image uploaded twice (by any product or merchant) is stored once, and a stored
 * file never changes (its URL can be cached forever).
 */
export class ImageStore {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'images');
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
    const target = this.file(sha256);
    await mkdir(path.dirname(target), { recursive: true });
    const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temp, bytes, { flag: 'wx' });
    await rename(temp, target);
    return { sha256, storageKey: this.keyOf(sha256) };
  }

  /** The bytes, or null when nothing is stored under this sha256 (or it is not one). */
  async get(sha256: string): Promise<Buffer | null> {
    if (!SHA256.test(sha256)) return null;
    try {
      return await readFile(this.file(sha256));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async delete(sha256: string): Promise<void> {
    if (!SHA256.test(sha256)) return;
    await rm(this.file(sha256), { force: true });
  }
}
