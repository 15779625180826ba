import { afterEach, describe, expect, it } from 'vitest';
import { testEngines, type TestDatabase } from '../testing/engines.js';
import { createJobQueue, type JobQueue } from './job-queue.js';

const QUEUE = 'stuck-test';

describe.each(testEngines())('job queue stop ($name)', (engine) => {
  let t: TestDatabase | undefined;
  const queues: JobQueue[] = [];

  afterEach(async () => {
    for (const q of queues.splice(0)) await q.stop({ timeoutMs: 1_000 });
    await t?.drop();
    t = undefined;
  });

  async function openQueue(db: TestDatabase): Promise<JobQueue> {
    const q = createJobQueue(db.db.sql, { maintenanceIntervalSeconds: 1 });
    queues.push(q);
    await q.start();
    await q.define(QUEUE, { retryLimit: 3, retryDelaySeconds: 1, expireInSeconds: 600 });
    return q;
  }

  async function jobState(db: TestDatabase) {
    return db.db.sql.withSession((s) =>
      s.query<{ state: string; retry_count: number }>(
        `SELECT state, retry_count FROM pgboss.job WHERE name = $1`,
        [QUEUE],
      ),
    );
  }

  it('returns at its timeout with a batch still running, and the job is retried, not lost', async () => {
    t = await engine.create();
    const first = await openQueue(t);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const started = new Promise<void>((resolve) => {
      void first.work(QUEUE, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async () => {
        resolve();
        await held; // A batch that does not end by itself: a hung fetch, a long evaluation.
        return undefined;
      });
    });
    await first.send(QUEUE, [{ data: { n: 1 } }]);
    await started;

    // The handler is still waiting: stop can only resolve through its timeout. The bound here is
    // far past that 1 s; the queue's own default (30 s) would miss it.
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([
      first.stop({ timeoutMs: 1_000 }),
      new Promise((_, reject) => {
        bound = setTimeout(() => {
          reject(new Error('stop() waited for the running batch past its timeout'));
        }, 15_000);
      }),
    ]).finally(() => {
      clearTimeout(bound);
    });
    const [afterStop] = await jobState(t);
    expect(afterStop?.state).toBe('retry');
    release();

    // The next worker takes the job again and completes it.
    const second = await openQueue(t);
    const seen: number[] = [];
    await new Promise<void>((resolve) => {
      void second.work<{ n: number }>(
        QUEUE,
        { batchSize: 1, pollingIntervalSeconds: 0.5 },
        (jobs) => {
          for (const job of jobs) seen.push(job.retryCount);
          resolve();
          return Promise.resolve(undefined);
        },
      );
    });
    expect(seen).toEqual([1]);
    await expect
      .poll(async () => (await jobState(t as TestDatabase))[0]?.state, { timeout: 10_000 })
      .toBe('completed');
  });
});
