import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.js';

describe('RateLimiter', () => {
  it('allows a burst of perMinute, then answers the seconds to wait, refilling over time', () => {
    let now = 0;
    const limiter = new RateLimiter(60, () => now);
    for (let i = 0; i < 60; i++) expect(limiter.take('k')).toBe(0);
    expect(limiter.take('k')).toBe(1); // one token a second
    now += 500;
    expect(limiter.take('k')).toBe(1);
    now += 600;
    expect(limiter.take('k')).toBe(0);
    expect(limiter.take('k')).toBeGreaterThanOrEqual(1);
    // Keys do not share a bucket.
    expect(limiter.take('other')).toBe(0);
  });

  it('waits longer at lower rates and is off at 0', () => {
    let now = 0;
    const slow = new RateLimiter(2, () => now);
    expect(slow.take('k')).toBe(0);
    expect(slow.take('k')).toBe(0);
    expect(slow.take('k')).toBe(30);
    now += 30_000;
    expect(slow.take('k')).toBe(0);
    const off = new RateLimiter(0);
    for (let i = 0; i < 1000; i++) expect(off.take('k')).toBe(0);
  });
});
