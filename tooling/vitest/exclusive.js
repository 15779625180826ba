import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const checkout = path.resolve(import.meta.dirname, '..', '..');

/** Whether a process with this pid runs on this machine. */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/**
 * Holds `name` for this checkout across the test run's worker processes, until `release()`:
 * for suites that must not overlap, such as those that build the dashboard into
 * apps/admin/.next and serve it (a Turborepo build, even a cache hit, rewrites the files another
 * suite's `next start` is serving). A lock left by a process that died is taken over.
 * @param {string} name
 * @param {{ pollMs?: number }} [options]
 * @returns {Promise<() => Promise<void>>}
 */
export async function exclusive(name, { pollMs = 500 } = {}) {
  const id = createHash('sha256').update(checkout).digest('hex').slice(0, 12);
  const dir = path.join(tmpdir(), `lookalike-${name}-${id}.lock`);
  const owner = path.join(dir, 'pid');
  for (;;) {
    try {
      await mkdir(dir);
      await writeFile(owner, String(process.pid));
      return async () => {
        await rm(dir, { recursive: true, force: true });
      };
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    const pid = Number(await readFile(owner, 'utf8').catch(() => ''));
    const since = await stat(dir).then(
      (s) => s.mtimeMs,
      () => Date.now(),
    );
    // No pid yet: its owner is between mkdir and writeFile, unless that was long ago.
    const stale = pid > 0 ? !alive(pid) : Date.now() - since > 10_000;
    if (stale) await rm(dir, { recursive: true, force: true });
    else await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
