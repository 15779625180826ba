import type { Runner, Runners } from './batcher.js';
import type { SessionWorker } from './session-worker-client.js';

/** What the pool needs of a worker: a SessionWorker (or a stand-in in tests). */
export interface PoolWorker extends Runner {
  /** Running a batch. */
  readonly busy: boolean;
  /** Alive and not going down: may be given a batch. */
  readonly usable: boolean;
  /** Its thread has not exited. */
  readonly alive: boolean;
  /** Called whenever the worker becomes free (after a batch, or when it dies). */
  onIdle: () => void;
  /** Called once if the worker ends without close() (a crash). */
  onExit: () => void;
  close(): Promise<void>;
}

export interface WorkerPoolOptions<W extends PoolWorker> {
  /** Start one worker, on the provider the pool runs on: used to replace a crashed one. */
  start: () => Promise<W>;
  /** A worker became free, or a replacement is ready: queued work can go on. */
  onIdle: () => void;
  /** No worker is running and none is being started: queued work would wait forever. */
  onNoWorker: () => void;
  /** A crashed worker could not be replaced. */
  onRestartFailed: (err: unknown) => void;
}

/**
 * Start workers one after another until there are `size`, after those already `started` (the
 * first one is started on its own, to choose the device). If one fails to start, every worker
 * started so far is closed and the error is thrown.
 */
export async function startWorkers<W extends PoolWorker>(
  size: number,
  start: () => Promise<W>,
  started: readonly W[] = [],
): Promise<W[]> {
  const workers = [...started];
  try {
    while (workers.length < size) workers.push(await start());
  } catch (err) {
    await Promise.all(workers.map((w) => w.close()));
    throw err;
  }
  return workers;
}

/**
 * The running workers, each with its own session. A crashed worker (e.g. out of memory in
 * native code) is replaced; its batch has already been rejected. While the embedder is closing
 * (after stopRestarting()) nothing is restarted: the remaining workers finish the queue. Once no
 * worker is running and none is being started, onNoWorker reports it, so that queued requests
 * fail and new ones are refused at once instead of waiting forever.
 */
export class WorkerPool<W extends PoolWorker = SessionWorker> implements Runners {
  private readonly workers: W[];
  private readonly options: WorkerPoolOptions<W>;
  private restarting = 0;
  private restarts = true;
  private closed = false;

  constructor(workers: readonly W[], options: WorkerPoolOptions<W>) {
    this.workers = [...workers];
    this.options = options;
    for (const w of this.workers) this.watch(w);
  }

  /** How many workers the pool keeps running. */
  get size(): number {
    return this.workers.length;
  }

  /** A worker that may be given a batch now, if any. */
  idle(): W | undefined {
    return this.workers.find((w) => !w.busy && w.usable);
  }

  /** No worker is running and none is being started. */
  get noWorker(): boolean {
    return this.restarting === 0 && !this.workers.some((w) => w.alive);
  }

  /** The embedder is closing: a worker that crashes from now on is not replaced. */
  stopRestarting(): void {
    this.restarts = false;
  }

  /** Close every worker (and any replacement still starting, once it is ready). */
  async close(): Promise<void> {
    this.restarts = false;
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.close()));
  }

  private watch(w: W): void {
    w.onIdle = () => {
      this.options.onIdle();
    };
    w.onExit = () => {
      this.replace(w);
    };
  }

  private replace(w: W): void {
    if (!this.restarts) {
      if (this.noWorker) this.options.onNoWorker();
      return;
    }
    this.restarting++;
    this.options.start().then(
      (replacement) => {
        this.restarting--;
        const i = this.workers.indexOf(w);
        if (i >= 0) this.workers[i] = replacement;
        this.watch(replacement);
        // A restart begun before the embedder started closing can end while it drains.
        // Closing but not yet done: the replacement helps drain, and close() closes it.
        if (this.closed) void replacement.close();
        else this.options.onIdle();
      },
      (err: unknown) => {
        this.restarting--;
        this.options.onRestartFailed(err);
        if (this.noWorker) this.options.onNoWorker();
      },
    );
  }
}
