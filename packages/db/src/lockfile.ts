import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { DataDirLockedError } from './errors.js';

/** The lock's file name in the data directory. */
export const LOCK_FILE = 'lookalike.lock';

export interface DirLock {
  release(): Promise<void>;
}

export interface LockOptions {
  /** Told when a stale lock is taken over (whose it was and why it was stale). */
  log?: (message: string) => void;
}

interface LockOwner {
  pid: number;
  host: string;
  since?: string;
}

/**
 * A claim is held for the few milliseconds a process reads the lock, judges it and writes its
 * own: every decision about the lock is taken under it, so two processes starting at once on a
 * stale lock cannot both take it over (one would remove the lock the other had just written).
 * A claim left by a process killed inside that window is abandoned after CLAIM_ABANDONED_MS, far
 * longer than reading and writing two small files takes; a start that finds a younger claim
 * waits, up to CLAIM_WAIT_MS.
 */
const CLAIM_ABANDONED_MS = 5_000;
const CLAIM_WAIT_MS = 10_000;

/** Lock files this process holds: a lock naming our pid is ours only when it is one of these. */
const held = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseOwner(raw: string): LockOwner | undefined {
  try {
    const value = JSON.parse(raw) as Partial<LockOwner> | null;
    if (
      typeof value?.pid === 'number' &&
      Number.isInteger(value.pid) &&
      value.pid > 0 &&
      typeof value.host === 'string'
    ) {
      return { pid: value.pid, host: value.host, ...(value.since ? { since: value.since } : {}) };
    }
  } catch {
    // Not JSON: torn or overwritten.
  }
  return undefined;
}

const describeOwner = (o: LockOwner) =>
  `pid ${o.pid} on ${o.host}${o.since ? ` since ${o.since}` : ''}`;

/** What a lock that is not ours means: why it is stale, or the error that refuses the start. */
function judge(
  dir: string,
  file: string,
  raw: string,
): { stale: string } | { refuse: DataDirLockedError } {
  // Our own locks are written whole under the claim, so a lock read under the claim that is
  // empty or unreadable was torn by a crash (or a full disk) while being written.
  if (raw.trim() === '') return { stale: 'the lock file was empty' };
  const owner = parseOwner(raw);
  if (!owner)
    return { stale: `the lock file was unreadable (${JSON.stringify(raw.slice(0, 40))})` };
  const holder = describeOwner(owner);
  // Another host's pid cannot be checked from here. DATA_DIR may be a volume shared between
  // machines (NFS, a cluster volume, two containers mounting one volume), where that process
  // may well be running: taking its lock over would put a second writer on the database, which
  // loses data silently. A wrong refusal costs a person one `rm`; a wrong takeover costs data.
  // So it is refused, with the file to remove once the other host is known to be done with it.
  if (owner.host !== hostname()) {
    return {
      refuse: new DataDirLockedError(
        dir,
        holder,
        `That process runs on another host, so this one (${hostname()}) cannot tell whether it still does. ` +
          `If nothing on ${owner.host} uses ${dir} any more (a replaced container, a moved volume), ` +
          `remove ${file} and start again; otherwise use another DATA_DIR, or set DATABASE_URL to a native Postgres.`,
      ),
    };
  }
  // Our pid, in a lock this process does not hold: it cannot be ours, so an earlier process
  // with the same pid left it (a restarted container starts at pid 1 again).
  if (owner.pid === process.pid) {
    return {
      stale: `${holder} names this process's pid: an earlier process with the same pid left it`,
    };
  }
  if (!isAlive(owner.pid)) return { stale: `${holder} is no longer running` };
  return {
    refuse: new DataDirLockedError(
      dir,
      holder,
      `Stop the other process, use another DATA_DIR, or set DATABASE_URL to a native Postgres. ` +
        `If pid ${owner.pid} is not a Lookalike process (its pid was reused), remove ${file}.`,
    ),
  };
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Run `fn` holding the claim on `file` (see CLAIM_ABANDONED_MS). */
async function withClaim<T>(dir: string, file: string, fn: () => Promise<T>): Promise<T> {
  const claim = `${file}.claim`;
  const deadline = Date.now() + CLAIM_WAIT_MS;
  for (;;) {
    try {
      await writeFile(claim, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const since = await stat(claim).then(
      (s) => s.mtimeMs,
      () => undefined,
    );
    if (since !== undefined && Date.now() - since > CLAIM_ABANDONED_MS) {
      await rm(claim, { force: true });
    } else if (Date.now() > deadline) {
      throw new DataDirLockedError(
        dir,
        `another process is taking the lock (${claim})`,
        `If no other process is starting on ${dir}, remove ${claim} and start again.`,
      );
    } else {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(claim, { force: true });
  }
}

/**
 * Take an exclusive lock on a data directory: `<dir>/lookalike.lock` holding our pid, host and
 * start time. A lock left by a process that cannot be running any more is taken over, with a
 * log line: an empty or torn file, a dead pid on this host, our own pid while this process does
 * not hold it. A live holder, or a holder on another host, refuses the start with a
 * DataDirLockedError that says who holds it and what to do. Locks are per process: a second
 * PGlite instance in the same process is refused too. Released by release(), and when the
 * process exits without it (a crash that skips 'exit', SIGKILL, leaves a stale one).
 */
export async function lockDataDir(dir: string, options: LockOptions = {}): Promise<DirLock> {
  const log = options.log ?? (() => undefined);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  if (held.has(file)) {
    throw new DataDirLockedError(
      dir,
      `${describeOwner({ pid: me.pid, host: me.host })}, which is this process`,
      'This process already has it open: close that database handle first.',
    );
  }
  held.add(file);
  const content = `${JSON.stringify(me)}\n`;
  try {
    await withClaim(dir, file, async () => {
      try {
        // O_EXCL: atomic even against a process that takes no claim.
        await writeFile(file, content, { flag: 'wx', mode: 0o600 });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const raw = (await readIfExists(file)) ?? '';
      const verdict = judge(dir, file, raw);
      if ('refuse' in verdict) throw verdict.refuse;
      // Replace it in one step (write aside, rename over): the lock file never goes missing.
      const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
      try {
        await writeFile(temp, content, { mode: 0o600 });
        await rename(temp, file);
      } finally {
        await rm(temp, { force: true });
      }
      log(`took over the lock ${file}: ${verdict.stale}`);
    });
  } catch (error) {
    held.delete(file);
    throw error;
  }

  let released = false;
  // A process that exits without release() leaves no lock behind.
  const onExit = () => {
    if (released) return;
    try {
      if (readFileSync(file, 'utf8') === content) rmSync(file, { force: true });
    } catch {
      // Gone already.
    }
  };
  process.once('exit', onExit);
  return {
    async release() {
      if (released) return;
      released = true;
      process.removeListener('exit', onExit);
      // Only our own: a lock someone replaced (by hand) is theirs now.
      if ((await readIfExists(file)) === content) await rm(file, { force: true });
      held.delete(file);
    },
  };
}
