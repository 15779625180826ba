import type { Db, JobQueue } from '@lookalike/db';
import type { CatalogService } from '../catalog/catalog.service.js';
import type { SafeFetcher } from '../fetch/safe-fetch.js';
import { INGEST_QUEUE, type ImportService, type IngestRowJob } from '../imports/import.service.js';
import { IngestProcessor } from '../imports/ingest.processor.js';
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
  log?: (message: string) => void;
}

export interface Worker {
  stop(): Promise<void>;
}

/** What a worker needs from the core (`Core.startWorker` passes its own). */
export interface WorkerDeps {
  db: Db;
  queue: () => Promise<JobQueue>;
  catalog: CatalogService;
  imports: ImportService;
  fetcher: SafeFetcher;
}

/**
 * Consume the job queue in this process: import rows (fetch, embed, store) and webhook
 * deliveries. Any number of these run at once, in any number of processes on any machine that
 * reaches the database (apps/worker; the API process itself on the embedded engine); the queue
 * and the row states share the work between them. Pending rows of unfinished imports are
 * queued again on start (a crash between recording rows and queueing them).
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
  let dispatcher: WebhookDispatcher | undefined;
  if (options.webhooks !== false) {
    dispatcher = new WebhookDispatcher(
      deps.db,
      (url, body, headers) => deps.fetcher.post(url, body, headers),
      { log, ...(typeof options.webhooks === 'object' ? options.webhooks : {}) },
    );
    dispatcher.start();
  }
  let stopped = false;
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      await dispatcher?.stop();
      await queue.stop();
    },
  };
}
