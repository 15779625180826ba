import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * The dashboard's live sessions, on disk: one empty file per session under `dir`, named by the
 * SHA-256 of the session id, its modification time the moment the session opened. The sealed
 * cookie says who a visitor is; this says whether that session is still open, so signing out
 * (deleting the file) ends it on the server and a copy of the cookie taken before is refused.
 *
 * Files rather than one JSON file: creating (`wx`), checking (`stat`) and ending (`unlink`) are
 * each one atomic file-system call, so concurrent requests (and several processes sharing the
 * folder) need no lock and can never lose each other's writes.
 */
export interface SessionStoreOptions {
  /** The folder of session records, created (mode 0700) on the first sign-in. */
  dir: string;
  /** A session older than this is refused and deleted, whatever its cookie says. */
  maxAgeMs: number;
  /**
   * The most sessions kept; past it the oldest end (their users sign in again). A bound, so a
   * key holder signing in in a loop cannot fill the disk; far above what a team keeps open.
   */
  maxSessions?: number;
  /** The clock (tests). */
  now?: () => number;
}

export interface SessionStore {
  /** Opens a session and returns its id (128 random bits); prunes expired ones. */
  create(): Promise<string>;
  /** Whether `id` names a session that is open and younger than the maximum age. */
  isLive(id: string): Promise<boolean>;
  /** Ends a session; ending an unknown or ended one is not an error. */
  end(id: string): Promise<void>;
}

export const DEFAULT_MAX_SESSIONS = 1000;

const RECORD = /^[0-9a-f]{64}$/;

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

async function removeIfThere(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
}

export function createSessionStore({
  dir,
  maxAgeMs,
  maxSessions = DEFAULT_MAX_SESSIONS,
  now = Date.now,
}: SessionStoreOptions): SessionStore {
  // Hashed, so a listing (or a backup) of the folder gives away no session id, and any id a
  // cookie carries maps to a plain file name.
  const recordOf = (id: string) => path.join(dir, createHash('sha256').update(id).digest('hex'));

  /** When a record's session opened, or null when there is none (ended, pruned meanwhile). */
  const openedAt = async (file: string): Promise<number | null> => {
    try {
      return (await stat(file)).mtimeMs;
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  };

  /** Deletes expired records, then the oldest ones beyond the cap. */
  const prune = async (): Promise<void> => {
    const names = (await readdir(dir)).filter((n) => RECORD.test(n));
    const live: { file: string; opened: number }[] = [];
    for (const name of names) {
      const file = path.join(dir, name);
      const opened = await openedAt(file);
      if (opened === null) continue;
      if (now() - opened >= maxAgeMs) await removeIfThere(file);
      else live.push({ file, opened });
    }
    live.sort((a, b) => a.opened - b.opened);
    for (const { file } of live.slice(0, Math.max(0, live.length - maxSessions)))
      await removeIfThere(file);
  };

  return {
    async create() {
      const id = randomBytes(16).toString('base64url');
      await mkdir(dir, { recursive: true, mode: 0o700 });
      // Dated under a name no listing counts, then renamed into place: a prune running beside
      // this never sees the record before it has its opening time.
      const pending = path.join(dir, `.pending-${randomBytes(8).toString('hex')}`);
      const handle = await open(pending, 'wx', 0o600);
      try {
        const opened = now() / 1000;
        await handle.utimes(opened, opened);
      } finally {
        await handle.close();
      }
      await rename(pending, recordOf(id));
      await prune();
      return id;
    },

    async isLive(id) {
      const file = recordOf(id);
      const opened = await openedAt(file);
      if (opened === null) return false;
      if (now() - opened < maxAgeMs) return true;
      await removeIfThere(file);
      return false;
    },

    async end(id) {
      await removeIfThere(recordOf(id));
    },
  };
}
