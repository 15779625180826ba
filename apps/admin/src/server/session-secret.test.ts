import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheUnlessRejected, loadSessionSecret, SECRET_FILE } from './session-secret';

describe('loadSessionSecret', () => {
  let dir = '';
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prefers ADMIN_SESSION_SECRET and writes nothing', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'admin-secret-'));
    expect(await loadSessionSecret('x'.repeat(40), dir)).toBe('x'.repeat(40));
    await expect(stat(path.join(dir, SECRET_FILE))).rejects.toThrow();
  });

  it('generates DATA_DIR/admin-session-secret once, mode 0600, and reuses it', async () => {
    dir = path.join(await mkdtemp(path.join(tmpdir(), 'admin-secret-')), 'nested');
    const [a, b] = await Promise.all([
      loadSessionSecret(undefined, dir),
      loadSessionSecret(undefined, dir),
    ]);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(b).toBe(a);
    expect(await loadSessionSecret(undefined, dir)).toBe(a);
    expect((await stat(path.join(dir, SECRET_FILE))).mode & 0o777).toBe(0o600);
    expect((await readFile(path.join(dir, SECRET_FILE), 'utf8')).trim()).toBe(a);
  });

  it('refuses a file too short to be a secret', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'admin-secret-'));
    await writeFile(path.join(dir, SECRET_FILE), 'short\n');
    await expect(loadSessionSecret(undefined, dir)).rejects.toThrow(/under 32 characters/);
  });
});

describe('cacheUnlessRejected', () => {
  it('loads once and shares the answer', async () => {
    let calls = 0;
    const get = cacheUnlessRejected(() => Promise.resolve(`secret ${++calls}`));
    expect(await Promise.all([get(), get()])).toEqual(['secret 1', 'secret 1']);
    expect(await get()).toBe('secret 1');
    expect(calls).toBe(1);
  });

  it('forgets a failure, so the next caller loads again', async () => {
    let calls = 0;
    const get = cacheUnlessRejected(() =>
      ++calls === 1 ? Promise.reject(new Error('unreadable')) : Promise.resolve('secret'),
    );
    await expect(get()).rejects.toThrow('unreadable');
    expect(await get()).toBe('secret');
    expect(await get()).toBe('secret');
    expect(calls).toBe(2);
  });
});
