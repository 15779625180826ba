import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSessionStore } from './session-store';

const DAY = 24 * 3600 * 1000;

describe('session store', () => {
  let root = '';
  let dir = '';
  let clock = 0;
  const now = () => clock;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'admin-sessions-'));
    dir = path.join(root, 'nested', 'admin-sessions');
    clock = Date.UTC(2030, 0, 1);
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('knows the sessions it opened until they end; ending twice is fine', async () => {
    const store = createSessionStore({ dir, maxAgeMs: 7 * DAY, now });
    const a = await store.create();
    const b = await store.create();
    expect(a).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(b).not.toBe(a);
    expect(await store.isLive(a)).toBe(true);
    expect(await store.isLive(b)).toBe(true);
    await store.end(a);
    await store.end(a);
    expect(await store.isLive(a)).toBe(false);
    expect(await store.isLive(b)).toBe(true);
    expect(await store.isLive('never-opened')).toBe(false);
    expect(await store.isLive('../../etc/passwd')).toBe(false);
  });

  it('asks nothing of a missing folder: no session is live there', async () => {
    const store = createSessionStore({ dir, maxAgeMs: DAY, now });
    expect(await store.isLive('x'.repeat(22))).toBe(false);
    await store.end('x'.repeat(22));
    await expect(stat(dir)).rejects.toThrow();
  });

  it('keeps records private and names them by a hash: the folder gives away no session id', async () => {
    const store = createSessionStore({ dir, maxAgeMs: DAY, now });
    const id = await store.create();
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const [name] = await readdir(dir);
    expect(name).toMatch(/^[0-9a-f]{64}$/);
    expect(name).not.toContain(id);
    expect((await stat(path.join(dir, name ?? ''))).mode & 0o777).toBe(0o600);
  });

  it('refuses a session past its maximum age, whatever its cookie says, and forgets it', async () => {
    const store = createSessionStore({ dir, maxAgeMs: DAY, now });
    const id = await store.create();
    clock += DAY - 1;
    expect(await store.isLive(id)).toBe(true);
    clock += 1;
    expect(await store.isLive(id)).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });

  it('prunes expired sessions when a new one opens', async () => {
    const store = createSessionStore({ dir, maxAgeMs: DAY, now });
    const old = [await store.create(), await store.create()];
    clock += DAY / 2;
    const young = await store.create();
    clock += DAY / 2 + 1;
    const fresh = await store.create();
    expect(await readdir(dir)).toHaveLength(2);
    for (const id of old) expect(await store.isLive(id)).toBe(false);
    expect(await store.isLive(young)).toBe(true);
    expect(await store.isLive(fresh)).toBe(true);
  });

  it('holds at most maxSessions: past it the oldest sessions end, never a new one', async () => {
    const store = createSessionStore({ dir, maxAgeMs: DAY, maxSessions: 3, now });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await store.create());
      clock += 1000;
    }
    expect(await readdir(dir)).toHaveLength(3);
    const live = await Promise.all(ids.map((id) => store.isLive(id)));
    expect(live).toEqual([false, false, true, true, true]);
  });

  it('stays consistent and bounded under concurrent sign-ins, checks and sign-outs', async () => {
    const store = createSessionStore({ dir, maxAgeMs: DAY, maxSessions: 10, now });
    const first = await Promise.all(Array.from({ length: 8 }, () => store.create()));
    expect(new Set(first).size).toBe(8);
    expect(await Promise.all(first.map((id) => store.isLive(id)))).toEqual(Array(8).fill(true));
    clock += 1000;
    // Sign-ins racing each other, checks and sign-outs: nothing throws, and when all are done
    // the folder holds no more than the cap, the newest sessions among them.
    const results = await Promise.all([
      ...Array.from({ length: 30 }, () => store.create()),
      ...first.slice(0, 4).map((id) => store.end(id)),
      ...first.map((id) => store.isLive(id)),
      ...first.slice(0, 4).map((id) => store.end(id)),
    ]);
    const created = results.slice(0, 30) as string[];
    expect(new Set(created).size).toBe(30);
    expect((await readdir(dir)).length).toBeLessThanOrEqual(10);
    for (const id of first) expect(await store.isLive(id)).toBe(false);
  });

  it('leaves files that are not session records alone', async () => {
    const store = createSessionStore({ dir, maxAgeMs: DAY, maxSessions: 1, now });
    await store.create();
    await writeFile(path.join(dir, 'README'), 'not a session');
    clock += 2 * DAY;
    await store.create();
    expect((await readdir(dir)).sort()).toHaveLength(2);
    expect(await readdir(dir)).toContain('README');
  });
});
