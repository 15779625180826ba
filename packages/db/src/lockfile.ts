import { rmSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { DataDirLockedError } from './errors.js';

export interface DirLock {
  release(): Promise<void>;
}

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(file: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

/**
 * Take an exclusive lock on a data directory with an O_EXCL lockfile holding our pid. A lock
 * left behind by a dead process on this host is taken over; a live holder is an error.
 * Locks are per process: a second PGlite instance in the same process is refused too.
 */
export async function lockDataDir(dir: string): Promise<DirLock> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'lookalike.lock');
  const me: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(JSON.stringify(me));
      await handle.close();
      let released = false;
      // A process that exits without close() leaves no lock behind (a crash that skips 'exit'
      // leaves a stale one, taken over by the next start because its pid is dead).
      const onExit = () => {
        if (!released) rmSync(file, { force: true });
      };
      process.once('exit', onExit);
      return {
        async release() {
          if (released) return;
          released = true;
          process.removeListener('exit', onExit);
          const owner = await readOwner(file);
          if (owner?.pid === me.pid && owner.since === me.since) await rm(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = await readOwner(file);
      const stale = owner !== undefined && owner.host === me.host && !isAlive(owner.pid);
      if (!stale || attempt > 0) {
        const holder = owner
          ? `pid ${owner.pid} on ${owner.host} since ${owner.since}`
          : `lockfile ${file}`;
        throw new DataDirLockedError(dir, holder);
      }
      await rm(file, { force: true });
    }
  }
  throw new DataDirLockedError(dir, `lockfile ${file}`);
}
