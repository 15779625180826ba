import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DataDirLockedError } from './errors.js';
import { lockDataDir } from './lockfile.js';

const LOCK = 'lookalike.lock';

/** A pid that named a process a moment ago and names none now. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  const pid = child.pid!;
  await new Promise((r) => child.once('exit', r));
  return pid;
}

const owner = (pid: number, host = hostname()) =>
  JSON.stringify({ pid, host, since: '2026-01-01T00:00:00.000Z' });

describe('the DATA_DIR lock', () => {
  let dir: string;
  let logs: string[];
  const log = (m: string) => {
    logs.push(m);
  };
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lookalike-lock-'));
    logs = [];
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const lockFile = () => path.join(dir, LOCK);
  const holder = async () => JSON.parse(await readFile(lockFile(), 'utf8')) as { pid: number };

  it('is created holding our pid, and removed on release', async () => {
    const lock = await lockDataDir(dir, { log });
    expect((await holder()).pid).toBe(process.pid);
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
    expect(logs).toEqual([]);
  });

  it.each([
    ['empty', ''],
    ['truncated', '{"pid":12'],
    ['garbage', '\u0000\u0000\u0000\u0000'],
  ])('takes over a %s lock file, with a log line', async (kind, content) => {
    await writeFile(lockFile(), content);
    const lock = await lockDataDir(dir, { log });
    expect((await holder()).pid).toBe(process.pid);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain(lockFile());
    expect(logs[0]).toMatch(kind === 'empty' ? /empty/ : /unreadable/);
    await lock.release();
  });

  it('takes over a lock naming a dead process on this host, with a log line naming it', async () => {
    const pid = await deadPid();
    await writeFile(lockFile(), owner(pid));
    const lock = await lockDataDir(dir, { log });
    expect((await holder()).pid).toBe(process.pid);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(new RegExp(`pid ${pid} on ${hostname()}.*no longer running`));
    await lock.release();
  });

  it("takes over a lock naming this process's pid that this process does not hold (a restarted container is often pid 1 again)", async () => {
    await writeFile(lockFile(), owner(process.pid));
    const lock = await lockDataDir(dir, { log });
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(new RegExp(`pid ${process.pid}.*earlier process`));
    await lock.release();
  });

  it('refuses a second lock in the process that holds it', async () => {
    const lock = await lockDataDir(dir, { log });
    try {
      const error = await lockDataDir(dir, { log }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataDirLockedError);
      expect((error as Error).message).toMatch(/this process/);
      // The refusal leaves the holder's lock alone.
      expect((await holder()).pid).toBe(process.pid);
    } finally {
      await lock.release();
    }
  });

  it('refuses a lock held by a live process on this host, naming it and what to do', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await writeFile(lockFile(), owner(other.pid!));
      const error = await lockDataDir(dir, { log }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataDirLockedError);
      const { message } = error as Error;
      expect(message).toContain(`pid ${other.pid} on ${hostname()}`);
      expect(message).toMatch(/Stop the other process/);
      expect((await holder()).pid).toBe(other.pid);
      expect(logs).toEqual([]);
    } finally {
      other.kill('SIGKILL');
    }
  });

  // DATA_DIR may be a volume shared between machines: the other host's process may be running.
  it("refuses another host's lock, naming the host and how to remove the lock", async () => {
    await writeFile(lockFile(), owner(process.pid, 'elsewhere-7f3a'));
    const error = await lockDataDir(dir, { log }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataDirLockedError);
    const { message } = error as Error;
    expect(message).toContain(`pid ${process.pid} on elsewhere-7f3a`);
    expect(message).toContain(`remove ${lockFile()}`);
    expect((await readFile(lockFile(), 'utf8')).includes('elsewhere-7f3a')).toBe(true);
  });

  it('release leaves a lock that is no longer ours alone', async () => {
    const lock = await lockDataDir(dir, { log });
    const other = owner(await deadPid());
    await writeFile(lockFile(), other);
    await lock.release();
    expect(await readFile(lockFile(), 'utf8')).toBe(other);
  });
});

/**
 * Two processes start at the same moment, again and again, on a free directory and on each kind
 * of stale lock: exactly one of them gets the lock every time.
 */
describe('two processes starting at once', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lookalike-lock-race-'));
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('never both win', async () => {
    const ROUNDS = 12;
    const PERIOD_MS = 400;
    const dead = await deadPid();
    // What the winner of round r leaves for round r + 1 (as a crash would): nothing, an empty
    // file, a torn one, a dead pid's.
    const stale = ['', '{"pid":', owner(dead)];
    const script = `
      import { rmSync, writeFileSync } from 'node:fs';
      import { createInterface } from 'node:readline';
      import { lockDataDir } from ${JSON.stringify(pathToFileURL(path.join(import.meta.dirname, 'lockfile.ts')).href)};
      const [dir, rounds, period, stale] = ${JSON.stringify([dir, ROUNDS, PERIOD_MS, stale])};
      const file = dir + '/${LOCK}';
      console.log('ready');
      const [line] = await createInterface({ input: process.stdin })[Symbol.asyncIterator]().next().then((r) => [r.value]);
      const start = Number(line);
      const results = [];
      for (let r = 0; r < rounds; r++) {
        const at = start + r * period;
        while (Date.now() < at - 5) await new Promise((res) => setTimeout(res, 1));
        while (Date.now() < at);
        try {
          const lock = await lockDataDir(dir);
          results.push('won');
          while (Date.now() < at + period * 0.6) await new Promise((res) => setTimeout(res, 5));
          await lock.release();
          const next = r % 4;
          if (next === 0) rmSync(file, { force: true });
          else writeFileSync(file, stale[next - 1]);
        } catch (e) {
          results.push(e.code ?? String(e));
        }
      }
      console.log(JSON.stringify(results));
      process.exit(0);`;
    const outputs = Array.from({ length: 2 }, () => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      children.push(child);
      const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
      return { child, lines };
    });
    for (const { lines } of outputs) expect((await lines.next()).value).toBe('ready');
    const start = Date.now() + 300;
    for (const { child } of outputs) child.stdin.end(`${start}\n`);
    const results = await Promise.all(
      outputs.map(
        async ({ lines }) => JSON.parse((await lines.next()).value as string) as string[],
      ),
    );
    for (let r = 0; r < ROUNDS; r++) {
      const round = results.map((rs) => rs[r]).sort();
      expect(round, `round ${r}`).toEqual(['DATA_DIR_LOCKED', 'won']);
    }
    expect((await readdir(dir)).filter((f) => f !== LOCK)).toEqual([]);
  }, 60_000);
});
