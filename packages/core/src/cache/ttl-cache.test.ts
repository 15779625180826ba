import { describe, expect, it } from 'vitest';
import { TtlCache } from './ttl-cache.js';

describe('TtlCache', () => {
  it('returns a value until its time is up, then loads it again', async () => {
    let now = 1000;
    const cache = new TtlCache<string, number>(500, 10, () => now);
    let loads = 0;
    const load = () => Promise.resolve(++loads);
    expect(await cache.getOrLoad('a', load)).toBe(1);
    now += 499;
    expect(await cache.getOrLoad('a', load)).toBe(1);
    now += 1;
    expect(await cache.getOrLoad('a', load)).toBe(2);
    expect(loads).toBe(2);
  });

  it('does not store what the loader did not find, and stores nothing with ttl 0', async () => {
    const cache = new TtlCache<string, number>(500);
    expect(await cache.getOrLoad('x', () => Promise.resolve(undefined))).toBeUndefined();
    expect(cache.size).toBe(0);
    const off = new TtlCache<string, number>(0);
    off.set('a', 1);
    expect(off.get('a')).toBeUndefined();
  });

  it('holds at most maxEntries, dropping the oldest', () => {
    const cache = new TtlCache<number, number>(10_000, 3);
    for (let i = 0; i < 5; i++) cache.set(i, i);
    expect(cache.size).toBe(3);
    expect(cache.get(0)).toBeUndefined();
    expect(cache.get(1)).toBeUndefined();
    expect(cache.get(4)).toBe(4);
  });

  it('deletes by key and by value', () => {
    const cache = new TtlCache<string, { owner: string }>(10_000);
    cache.set('a', { owner: 'k1' });
    cache.set('b', { owner: 'k1' });
    cache.set('c', { owner: 'k2' });
    cache.deleteWhere((v) => v.owner === 'k1');
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([
      undefined,
      undefined,
      { owner: 'k2' },
    ]);
    cache.delete('c');
    expect(cache.size).toBe(0);
  });
});
