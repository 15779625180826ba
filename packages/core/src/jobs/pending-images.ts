import type { Db } from '@lookalike/db';
import type { CatalogService } from '../catalog/catalog.service.js';
import { startPeriodic, type PeriodicTask } from './periodic.js';

export interface PendingImagesOptions {
  /**
   * How long an image may stay PENDING before it is repaired (default 10 minutes). An image's
   * row and vectors are written in one transaction, which the database rolls back after 10 s
   * (db.transaction's timeout): a row PENDING for minutes belongs to no live process.
   */
  graceMs?: number;
  /** How often a worker looks for them after its start (default 5 minutes). */
  intervalMs?: number;
}

export const DEFAULT_PENDING_GRACE_MS = 10 * 60_000;
export const DEFAULT_PENDING_INTERVAL_MS = 5 * 60_000;
/** Rows read per query; each is embedded before the next page is read. */
const PAGE = 100;

export interface PendingImagesPass {
  embedded: number;
  failed: number;
  skipped: number;
}

/**
 * One pass over the images left PENDING for longer than `graceMs` (of every merchant): each is
 * embedded from its stored file and marked READY, or marked FAILED (file missing or not an
 * image), with a log line per failure and one for the pass. Safe with any number of workers at
 * once: an image is settled only from PENDING, and its vectors are upserted.
 */
export async function repairPendingImages(
  deps: { db: Db; catalog: CatalogService },
  {
    graceMs = DEFAULT_PENDING_GRACE_MS,
    log = () => undefined,
  }: { graceMs?: number; log?: (message: string) => void } = {},
): Promise<PendingImagesPass> {
  const pass: PendingImagesPass = { embedded: 0, failed: 0, skipped: 0 };
  let after: string | undefined;
  for (;;) {
    const page = await deps.db.images.listPending({
      graceSeconds: graceMs / 1000,
      limit: PAGE,
      ...(after ? { after } : {}),
    });
    for (const image of page) {
      const what = `image ${image.id} (merchant ${image.merchantId}, product ${image.productId})`;
      try {
        const result = await deps.catalog.repairPendingImage(image);
        if (result.outcome === 'embedded') pass.embedded++;
        else if (result.outcome === 'failed') {
          pass.failed++;
          log(`[worker] ${what} was PENDING; marked FAILED: ${result.reason}`);
        } else if (result.outcome === 'skipped') {
          pass.skipped++;
          log(`[worker] ${what} stays PENDING: ${result.reason}`);
        }
      } catch (error) {
        pass.skipped++;
        log(
          `[worker] ${what} stays PENDING: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    if (page.length < PAGE) break;
    after = page.at(-1)?.id;
  }
  if (pass.embedded + pass.failed + pass.skipped > 0) {
    log(
      `[worker] pending images: ${pass.embedded} embedded, ${pass.failed} failed` +
        (pass.skipped > 0 ? `, ${pass.skipped} left PENDING` : ''),
    );
  }
  return pass;
}

/** Repair on start (in the background) and every `intervalMs`. */
export function startPendingImagesRepair(
  deps: { db: Db; catalog: CatalogService },
  options: PendingImagesOptions & { log: (message: string) => void },
): PeriodicTask<PendingImagesPass> {
  const graceMs = options.graceMs ?? DEFAULT_PENDING_GRACE_MS;
  return startPeriodic(
    'repair of PENDING images',
    () => repairPendingImages(deps, { graceMs, log: options.log }),
    { intervalMs: options.intervalMs ?? DEFAULT_PENDING_INTERVAL_MS, log: options.log },
  );
}
