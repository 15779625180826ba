import type { CatalogService } from '../catalog/catalog.service.js';
import { startPeriodic, type PeriodicTask } from './periodic.js';

export interface OrphanFilesOptions {
  /**
   * How old an unreferenced file must be to go (default 1 hour). An upload writes its file
   * before the transaction that references it, which the database rolls back after 10 s
   * (db.transaction's timeout); an hour leaves room for clocks that disagree.
   */
  graceMs?: number;
  /**
   * How often a worker sweeps after its start (default 24 hours): deletes remove their files
   * themselves, so only a process that died at the wrong moment leaves one, and a sweep reads
   * every file's metadata.
   */
  intervalMs?: number;
}

export const DEFAULT_ORPHAN_GRACE_MS = 60 * 60_000;
export const DEFAULT_ORPHAN_INTERVAL_MS = 24 * 60 * 60_000;

/** Sweep image files no row references, on start (in the background) and every interval. */
export function startOrphanFileSweep(
  catalog: CatalogService,
  options: OrphanFilesOptions & { log: (message: string) => void },
): PeriodicTask<number> {
  const graceMs = options.graceMs ?? DEFAULT_ORPHAN_GRACE_MS;
  return startPeriodic(
    'sweep of unreferenced image files',
    async () => {
      const removed = await catalog.sweepUnreferencedFiles({ graceMs });
      if (removed > 0) {
        options.log(`[worker] image files: ${removed} removed that no image references`);
      }
      return removed;
    },
    { intervalMs: options.intervalMs ?? DEFAULT_ORPHAN_INTERVAL_MS, log: options.log },
  );
}
