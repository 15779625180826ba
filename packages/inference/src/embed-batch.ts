import { BusyError } from './errors.js';
import type { EmbedOptions } from './preprocess.js';

export type EmbedBatchItem = Uint8Array | { bytes: Uint8Array; options?: EmbedOptions };

/** One item's outcome: its result, or its own failure. */
export type ItemResult<T> = ({ ok: true } & T) | { ok: false; error: Error };

/**
 * How many items of a list embedBatch keeps in flight: enough to keep every worker's next
 * batch full, without flooding the queue (other callers' embed() must still find room).
 */
export function batchWindow({
  maxBatch,
  maxQueue,
  workers,
}: {
  maxBatch: number;
  maxQueue: number;
  workers: number;
}): number {
  return Math.max(1, Math.min(maxQueue, maxBatch * workers * 2));
}

/**
 * Embed every item with `embed`, at most `window` at a time, and report each item's result or
 * failure in the order of `items`. A BusyError is not a failure here: the item is retried
 * after `busyRetryMs`, so a long list waits for queue space instead.
 */
export async function embedBatch<T extends object>(
  items: readonly EmbedBatchItem[],
  embed: (bytes: Uint8Array, options: EmbedOptions | undefined) => Promise<T>,
  { window, busyRetryMs }: { window: number; busyRetryMs: number },
): Promise<ItemResult<T>[]> {
  const results: ItemResult<T>[] = new Array<ItemResult<T>>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      const item = items[i];
      if (!item) break;
      const [bytes, opts] =
        item instanceof Uint8Array ? [item, undefined] : [item.bytes, item.options];
      for (;;) {
        try {
          const r = await embed(bytes, opts);
          results[i] = { ok: true, ...r };
          break;
        } catch (error) {
          if (error instanceof BusyError) {
            await new Promise((r) => setTimeout(r, busyRetryMs));
            continue;
          }
          results[i] = {
            ok: false,
            error: error instanceof Error ? error : new Error(String(error)),
          };
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, items.length) }, lane));
  return results;
}
