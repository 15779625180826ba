import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb } from './create-db.js';
import { DataDirLockedError } from './errors.js';

const run = promisify(execFile);

describe('embedded database under DATA_DIR', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'lookalike-data-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('persists across restarts, migrated once', async () => {
    const first = await createDb({ dataDir, migrate: true });
    expect(first.engine).toBe('pglite');
    const merchant = await first.merchants.create('Persistent');
    await first.products.create(merchant.id, { externalId: 'KEEP-1', title: 'Survives restarts' });
    await first.close();
    expect((await stat(path.join(dataDir, 'pglite'))).isDirectory()).toBe(true);

    const second = await createDb({ dataDir, migrate: true });
    try {
      expect((await second.migrate()).applied).toEqual([]);
      expect((await second.products.getByExternalId(merchant.id, 'KEEP-1'))?.title).toBe(
        'Survives restarts',
      );
      expect((await second.migrationStatus()).pending).toEqual([]);
    } finally {
      await second.close();
    }
  });

  it('a second opener, in this process or another, gets a clear error while the first is open', async () => {
    const holder = await createDb({ dataDir });
    try {
      const error = await createDb({ dataDir }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataDirLockedError);
      expect((error as Error).message).toMatch(/in use by another process \(pid \d+/);

      // A real second process, as a second `npm start` would be.
      const script = `
        import { createDb } from '@lookalike/db';
        try { await createDb({ dataDir: ${JSON.stringify(dataDir)} }); console.log('opened'); }
        catch (e) { console.log(e.code + ': ' + e.message); }`;
      const { stdout } = await run(
        process.execPath,
        ['--conditions=@lookalike/source', '--import', 'tsx', '--input-type=module', '-e', script],
        { cwd: path.resolve(import.meta.dirname, '..') },
      );
      expect(stdout).toMatch(
        /^DATA_DIR_LOCKED: The embedded database in .* is in use by another process/,
      );
    } finally {
      await holder.close();
    }
    // Released on close: the next opener gets in.
    const next = await createDb({ dataDir });
    await next.close();
  });

  it('takes over a lock left by a process that died', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--conditions=@lookalike/source',
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `
        import { createDb } from '@lookalike/db';
        await createDb({ dataDir: ${JSON.stringify(dataDir)} });
        console.log('locked'); process.kill(process.pid, 'SIGKILL');`,
      ],
      { cwd: path.resolve(import.meta.dirname, '..') },
    ).catch((e: unknown) => e as { stdout: string });
    expect(stdout).toContain('locked');
    await expect(stat(path.join(dataDir, 'lookalike.lock'))).resolves.toBeTruthy();
    const db = await createDb({ dataDir });
    await db.ping();
    await db.close();
  });
});
