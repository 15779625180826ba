import type { Db, JobQueue } from '@lookalike/db';
import type { CatalogService } from '../catalog/catalog.service.js';
import { EVALUATE_QUEUE, type EvaluationService } from '../evaluation/evaluation.service.js';
import type { SafeFetcher } from '../fetch/safe-fetch.js';
import { INGEST_QUEUE, type ImportService, type IngestRowJob } from '../imports/import.service.js';
import { IngestProcessor } from '../imports/ingest.processor.js';
import { startOrphanFileSweep, type OrphanFilesOptions } from './orphan-files.js';
import { startPendingImagesRepair, type PendingImagesOptions } from './pending-images.js';
import type { PeriodicTask } from './periodic.js';
import { WebhookDispatcher, type DispatcherOptions } from '../webhooks/dispatcher.js';

export interface WorkerOptions {
  /**
   * Import rows handled together by one poller (default 8): their images are fetched at once
   * and their embeddings share the embedder's micro-batches.
   */
  batchSize?: number;
  /** Pollers (default 2): one fetches and stores while the other's batch is embedded. */
  concurrency?: number;
  /** How often an idle poller looks for work, in seconds (default 1; at least 0.5). */
  pollingIntervalSeconds?: number;
  /** Send webhook deliveries from this worker too (default true). */
  webhooks?: boolean | DispatcherOptions;
  /**
   * Repair images left PENDING by a process that died between writing and embedding them, on
   * start and periodically (default on; `false`: never).
   */
  pendingImages?: boolean | PendingImagesOptions;
  /**
   * Delete image files that no image references (left by a process that died between a
   * delete's commit and its removing the file), on start and daily (default on; `false`: never).
   */
  orphanFiles?: boolean | OrphanFilesOptions;
  log?: (message: string) => void;
}

export interface Worker {
  /**
   * Stop polling and let the batches in hand finish, for up to `timeoutMs` (default 30 s; at
   * least 1 s). Jobs still running then are failed, so they are retried (by this or another
   * worker) without waiting for their expiry; their effects are idempotent.
   */
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

/** What a worker needs from the core (`Core.startWorker` passes its own). */
export interface WorkerDeps {
  db: Db;
  queue: () => Promise<JobQueue>;
  catalog: CatalogService;
  imports: ImportService;
  fetcher: SafeFetcher;
  evaluation: EvaluationService;
}

/**
 * Consume the job queue in this process: import rows (fetch, embed, store) and webhook
 * deliveries. Any number of these run at once, in any number of processes on any machine that
 * reaches the database (apps/worker; the API process itself on the embedded engine); the queue
 * and the row states share the work between them. Pending rows of unfinished imports are
 * queued again on start (a crash between recording rows and queueing them), images left
 * PENDING are embedded or marked FAILED (jobs/pending-images.ts), and image files no image
 * references are deleted (jobs/orphan-files.ts).
 */
export async function startWorker(deps: WorkerDeps, options: WorkerOptions = {}): Promise<Worker> {
  const log = options.log ?? (() => undefined);
  const queue = await deps.queue();
  const processor = new IngestProcessor(
    deps.db,
    deps.catalog,
    (url) => deps.fetcher.fetchImage(url),
    (jobId) => deps.imports.stagingDir(jobId),
    log,
  );
  const requeued = await deps.imports.resume();
  if (requeued > 0) log(`[worker] resumed ${requeued} pending import rows`);
  await queue.work<IngestRowJob>(
    INGEST_QUEUE,
    {
      batchSize: options.batchSize ?? 8,
      concurrency: options.concurrency ?? 2,
      pollingIntervalSeconds: options.pollingIntervalSeconds ?? 1,
    },
    (jobs) => processor.handle(jobs),
  );
  // Catalog evaluations: one at a time per process (each is a few thousand nearest-neighbour
  // queries); the job records its own failure, so the queue never retries a finished one.
  await queue.work<{ evaluationId: string }>(
    EVALUATE_QUEUE,
    { batchSize: 1, concurrency: 1, pollingIntervalSeconds: options.pollingIntervalSeconds ?? 1 },
    async (jobs) => {
      for (const job of jobs) await deps.evaluation.run(job.data.evaluationId);
      return undefined;
    },
  );
  let dispatcher: WebhookDispatcher | undefined;
  if (options.webhooks !== false) {
    dispatcher = new WebhookDispatcher(
      deps.db,
      (url, body, headers) => deps.fetcher.post(url, body, headers),
      { log, ...(typeof options.webhooks === 'object' ? options.webhooks : {}) },
    );
    dispatcher.start();
  }
  const maintenance: PeriodicTask<unknown>[] = [];
  if (options.pendingImages !== false) {
    maintenance.push(
      startPendingImagesRepair(
        { db: deps.db, catalog: deps.catalog },
        { log, ...(typeof options.pendingImages === 'object' ? options.pendingImages : {}) },
      ),
    );
  }
  if (options.orphanFiles !== false) {
    maintenance.push(
      startOrphanFileSweep(deps.catalog, {
        log,
        ...(typeof options.orphanFiles === 'object' ? options.orphanFiles : {}),
      }),
    );
  }
  let stopped = false;
  return {
    async stop({ timeoutMs = 30_000 } = {}) {
      if (stopped) return;
      stopped = true;
      // A maintenance pass or a webhook round still going at the deadline is left to end with
      // the process: what it leaves undone is taken again later (the next pass; the lease).
      const background = Promise.all([
        ...maintenance.map((task) => task.stop()),
        dispatcher?.stop(),
      ]);
      await Promise.all([settledWithin(background, timeoutMs), queue.stop({ timeoutMs })]);
    },
  };
}

/** Resolves when `work` settles or after `ms`, whichever comes first. */
async function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([work.catch(() => undefined), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
