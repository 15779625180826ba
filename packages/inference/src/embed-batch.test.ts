import { afterEach, describe, expect, it, vi } from 'vitest';
import { batchWindow, embedBatch } from './embed-batch.js';
import { BusyError, CorruptImageError } from './errors.js';
import type { EmbedOptions } from './preprocess.js';

const bytes = (v: number) => new Uint8Array([v]);

/** An embed() that answers each image's first byte, after `ms`; records what it was given. */
function fakeEmbed(ms = 0) {
  let inFlight = 0;
  let most = 0;
  const calls: { byte: number; options: EmbedOptions | undefined }[] = [];
  const embed = async (b: Uint8Array, options: EmbedOptions | undefined) => {
    calls.push({ byte: b[0]!, options });
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, ms));
    inFlight--;
    if (b[0] === 0) throw new CorruptImageError('model test-v1: empty image');
    return { value: b[0]! };
  };
  return { embed, calls, most: () => most };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('embedBatch', () => {
  it('returns each item its own result or failure, in order', async () => {
    const { embed, calls } = fakeEmbed();
    const region: EmbedOptions = { region: { x: 0, y: 0, width: 1, height: 1 } };
    const out = await embedBatch(
      [bytes(3), bytes(0), { bytes: bytes(5), options: region }],
      embed,
      {
        window: 2,
        busyRetryMs: 1,
      },
    );
    expect(out.map((r) => (r.ok ? r.value : r.error))).toEqual([
      3,
      expect.any(CorruptImageError),
      5,
    ]);
    expect(calls.find((c) => c.byte === 5)?.options).toBe(region);
    expect(calls.find((c) => c.byte === 3)?.options).toBeUndefined();
  });

  it('keeps at most `window` items in flight', async () => {
    const { embed, most } = fakeEmbed(2);
    const out = await embedBatch(
      Array.from({ length: 20 }, (_, i) => bytes(i + 1)),
      embed,
      { window: 3, busyRetryMs: 1 },
    );
    expect(out.every((r) => r.ok)).toBe(true);
    expect(most()).toBe(3);
  });

  it('retries an item answered BusyError after busyRetryMs instead of failing it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let refusals = 2;
    const attempts: number[] = [];
    const embed = (b: Uint8Array) => {
      attempts.push(Date.now());
      if (refusals-- > 0) return Promise.reject(new BusyError('model test-v1: queue full'));
      return Promise.resolve({ value: b[0]! });
    };
    const done = embedBatch([bytes(7)], embed, { window: 1, busyRetryMs: 25 });
    await vi.advanceTimersByTimeAsync(24);
    expect(attempts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(attempts).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(25);
    expect(await done).toEqual([{ ok: true, value: 7 }]);
    expect(attempts).toHaveLength(3);
  });

  it('reports a thrown non-Error as an Error', async () => {
    // Not an Error, as a native binding may reject with.
    const notAnError = 'out of memory' as unknown as Error;
    const fails = (): Promise<{ value: number }> => Promise.reject(notAnError);
    const out = await embedBatch([bytes(1)], fails, {
      window: 1,
      busyRetryMs: 1,
    });
    const r = out[0]!;
    if (r.ok) throw new Error('expected a failure');
    expect(r.error).toBeInstanceOf(Error);
    expect(r.error.message).toBe('out of memory');
  });

  it('answers an empty list at once', async () => {
    expect(await embedBatch([], fakeEmbed().embed, { window: 4, busyRetryMs: 1 })).toEqual([]);
  });
});

describe('batchWindow', () => {
  it('keeps two full batches per worker in flight', () => {
    expect(batchWindow({ maxBatch: 32, maxQueue: 512, workers: 2 })).toBe(128);
  });

  it('never exceeds maxQueue, so other callers still find room', () => {
    expect(batchWindow({ maxBatch: 32, maxQueue: 40, workers: 4 })).toBe(40);
  });
});
