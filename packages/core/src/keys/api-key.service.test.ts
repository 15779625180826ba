import { testEngines } from '@lookalike/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCore, type TestCore } from '../testing/test-core.js';
import { ApiKeyService } from './api-key.service.js';

const [engine] = testEngines();

describe('API key cache', () => {
  let t: TestCore;
  let now = 1_000_000;
  let service: ApiKeyService;

  beforeAll(async () => {
    t = await startTestCore(engine!);
    service = new ApiKeyService(t.db, { cacheTtlMs: 5_000, now: () => now });
  });
  afterAll(() => t.stop());

  it('a verified key costs no round trip until its entry expires', async () => {
    const { token } = await service.create(t.merchantId, 'cached', ['SEARCH']);
    expect(await service.authenticate(token)).toMatchObject({ merchantId: t.merchantId });
    await new Promise((r) => setTimeout(r, 100)); // the lastUsedAt write it started
    const before = t.db.roundTrips();
    now += 1_000; // within the minute: no lastUsedAt write either
    expect(await service.authenticate(token)).not.toBeNull();
    expect(t.db.roundTrips() - before).toBe(0);
  });

  it('revoked here: refused at once; revoked by another process: refused within the TTL', async () => {
    const here = await service.create(t.merchantId, 'here', ['SEARCH']);
    expect(await service.authenticate(here.token)).not.toBeNull();
    expect(await service.revoke(t.merchantId, here.key.id)).toBe(true);
    expect(await service.authenticate(here.token)).toBeNull();

    const there = await service.create(t.merchantId, 'there', ['SEARCH']);
    expect(await service.authenticate(there.token)).not.toBeNull();
    // Another API process revokes it: this one only sees the database change when it asks.
    expect(await t.db.apiKeys.revoke(t.merchantId, there.key.id)).toBe(true);
    now += 4_999;
    expect(await service.authenticate(there.token)).not.toBeNull();
    now += 1;
    expect(await service.authenticate(there.token)).toBeNull();
  });

  it('never caches a wrong secret or an unknown key', async () => {
    const { token } = await service.create(t.merchantId, 'right', ['SEARCH']);
    const wrong = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expect(await service.authenticate(wrong)).toBeNull();
    expect(await service.authenticate(token)).not.toBeNull();
    expect(await service.authenticate(wrong)).toBeNull();
  });
});
