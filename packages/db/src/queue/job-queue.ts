import PgBoss from 'pg-boss';
import type { SqlDriver } from '../driver.js';

/** A queued job as a handler sees it. */
export interface QueueJob<T> {
  id: string;
  data: T;
  /** Attempts before this one. */
  retryCount: number;
  /** Attempts allowed after the first. */
  retryLimit: number;
}

export interface QueueDefinition {
  /** Retries after the first attempt (exponential backoff from `retryDelaySeconds`). */
  retryLimit: number;
  retryDelaySeconds: number;
  /**
   * An attempt still active after this long is failed (and retried): how the work of a worker
   * that died (SIGKILL, a lost machine) comes back to the queue.
   */
  expireInSeconds: number;
}

export interface WorkOptions {
  /** Jobs fetched per poll and handled together (their embeddings share micro-batches). */
  batchSize: number;
  /** Pollers per queue in this process: one can fetch while another's batch runs. */
  concurrency?: number;
  /** How often an idle poller looks for work (pg-boss allows 0.5 s at least). */
  pollingIntervalSeconds?: number;
}

/**
 * What a batch handler reports: the jobs to fail (and retry) with their errors. The rest of the
 * batch completes.
 */
export type BatchFailures = Map<string, Error>;

export interface JobQueue {
  /** Creates the queue's tables (schema `pgboss`) on first use and starts its maintenance. */
  start(): Promise<void>;
  define(name: string, definition: QueueDefinition): Promise<void>;
  /**
   * Queue jobs; a `key` already queued (not yet started) on the same queue is not queued twice.
   */
  send(name: string, jobs: readonly { data: object; key?: string }[]): Promise<void>;
  work<T>(
    name: string,
    options: WorkOptions,
    handler: (jobs: QueueJob<T>[]) => Promise<BatchFailures | undefined>,
  ): Promise<void>;
  /**
   * Stop polling and let running batches finish, for up to `timeoutMs` (default 30 s; pg-boss
   * waits 1 s at least); jobs still running then are failed, to be retried.
   */
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

export interface JobQueueOptions {
  /** How often expired attempts are failed and old jobs archived (default 30 s). */
  maintenanceIntervalSeconds?: number;
  log?: (message: string) => void;
}

/**
 * The job queue: pg-boss on the same database as the data, so a job is as durable as the rows
 * it is about and any process that reaches the database can work it (worker processes on other
 * machines, or the API process itself on the embedded engine). pg-boss runs its SQL through
 * our driver, which is what lets it work on PGlite too (one session; its commands are short).
 */
export function createJobQueue(sql: SqlDriver, options: JobQueueOptions = {}): JobQueue {
  const log = options.log ?? (() => undefined);
  const boss = new PgBoss({
    db: {
      executeSql: (text: string, values?: unknown[]) =>
        sql.withSession(async (session) => ({
          rows:
            values && values.length > 0
              ? await session.query(text, values)
              : await session.exec(text),
        })),
    },
    schedule: false,
    supervise: true,
    migrate: true,
    maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 30,
  });
  boss.on('error', (error: Error) => {
    log(`[queue] ${error.message}`);
  });
  let started: Promise<unknown> | undefined;
  let stopped = false;
  const workerIds: string[] = [];

  return {
    async start() {
      started ??= boss.start();
      await started;
    },

    async define(name, d) {
      const queue = {
        name,
        policy: 'short' as const,
        retryLimit: d.retryLimit,
        retryDelay: d.retryDelaySeconds,
        retryBackoff: true,
        expireInSeconds: d.expireInSeconds,
      };
      if (await boss.getQueue(name)) await boss.updateQueue(name, queue);
      else await boss.createQueue(name, queue);
    },

    async send(name, jobs) {
      // In chunks: one insert statement carries the whole chunk as a JSON array.
      for (let i = 0; i < jobs.length; i += 1000) {
        await boss.insert(
          jobs.slice(i, i + 1000).map((j) => ({
            name,
            data: j.data,
            ...(j.key ? { singletonKey: j.key } : {}),
          })),
        );
      }
    },

    async work(name, o, handler) {
      for (let i = 0; i < (o.concurrency ?? 1); i++) {
        let self = '';
        self = await boss.work(
          name,
          {
            batchSize: o.batchSize,
            includeMetadata: true,
            pollingIntervalSeconds: o.pollingIntervalSeconds ?? 1,
          },
          async (jobs: PgBoss.JobWithMetadata<unknown>[]) => {
            const failures = await handler(
              jobs.map((j) => ({
                id: j.id,
                data: j.data as never,
                retryCount: j.retryCount,
                retryLimit: j.retryLimit,
              })),
            );
            if (failures) {
              for (const [id, error] of failures) {
                await boss.fail(name, id, { message: error.message });
              }
            }
            // A full batch means more is probably waiting: poll again now, not after the interval.
            if (jobs.length === o.batchSize && !stopped) boss.notifyWorker(self);
          },
        );
        workerIds.push(self);
      }
    },

    async stop({ timeoutMs = 30_000 } = {}) {
      if (stopped) return;
      stopped = true;
      if (!started) return;
      await started.catch(() => undefined);
      await boss.stop({ graceful: true, wait: true, close: false, timeout: timeoutMs });
    },
  };
}
