/** Runs one batch: `n` input tensors back to back in, `n` results back to back out. */
export interface Runner {
  run(data: Float32Array, n: number): Promise<Float32Array>;
}

/**
 * Where batches go. A runner handed a batch is busy until its run settles: idle() must not
 * return it meanwhile. Whoever owns the runners calls Batcher.schedule() whenever one becomes
 * idle (or a new one is ready), so that queued work goes on.
 */
export interface Runners {
  idle(): Runner | undefined;
}

export interface BatcherOptions {
  runners: Runners;
  /** Most requests in one run. */
  maxBatch: number;
  /** Extra time a partial batch waits for company when a runner is idle. */
  maxDelayMs: number;
  /** Floats in one request's input tensor. */
  inputSize: number;
  /** Floats in one request's result. */
  outputSize: number;
}

/** Runs so far and the requests they carried. */
export interface BatchCounters {
  batches: number;
  images: number;
  largestBatch: number;
}

interface Pending {
  tensor: Float32Array;
  resolve: (v: Float32Array) => void;
  reject: (e: Error) => void;
  since: number;
}

/**
 * The micro-batcher: queues request tensors, packs them into batches of up to `maxBatch`, hands
 * each batch to an idle runner and gives every request its own slice of the result.
 */
export class Batcher {
  private readonly options: BatcherOptions;
  private readonly queue: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private closed = false;
  private inFlight = 0;
  private readonly counters: BatchCounters = { batches: 0, images: 0, largestBatch: 0 };
  private waiters: (() => void)[] = [];

  constructor(options: BatcherOptions) {
    this.options = options;
  }

  /** Requests waiting for a runner. */
  get queued(): number {
    return this.queue.length;
  }

  /** Requests on the runners now. */
  get running(): number {
    return this.inFlight;
  }

  counts(): BatchCounters {
    return { ...this.counters };
  }

  /** Queue one request; resolves with its own `outputSize` floats of its batch's result. */
  enqueue(tensor: Float32Array): Promise<Float32Array> {
    return new Promise((resolve, reject) => {
      this.queue.push({ tensor, resolve, reject, since: performance.now() });
      this.schedule();
    });
  }

  /**
   * Hand queued work to idle runners. A full batch goes at once. A partial batch is never sent
   * from inside enqueue(): it waits for the current event-loop turn to end (setImmediate), so
   * requests that arrive together — e.g. callers resubmitting as a batch's results resolve —
   * share one run, and at most `maxDelayMs` beyond that for stragglers. A lone request thus
   * pays microseconds with the default maxDelayMs of 0, and under load batches form by
   * themselves while the runners are busy.
   */
  schedule(): void {
    this.pump(false);
  }

  /** Reject every queued request (not those running) with its own `error()`. */
  failQueued(error: () => Error): void {
    for (const p of this.queue.splice(0)) p.reject(error());
    this.checkSettled();
  }

  /** Stop waiting for company: from now on a partial batch goes as soon as a runner is idle.
   * Requests may still be queued (they drain). */
  close(): void {
    this.closed = true;
    this.schedule();
  }

  /** Resolves once nothing is queued or running. */
  settled(): Promise<void> {
    if (this.isSettled()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private pump(deferred: boolean): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.immediate) {
      clearImmediate(this.immediate);
      this.immediate = null;
    }
    const { maxBatch, maxDelayMs } = this.options;
    for (;;) {
      const oldest = this.queue[0];
      if (!oldest) return;
      const idle = this.options.runners.idle();
      if (!idle) return; // the runners' owner calls schedule() again when one is idle
      const wait = maxDelayMs - (performance.now() - oldest.since);
      if (this.queue.length >= maxBatch || this.closed || (deferred && wait <= 0))
        this.dispatch(idle);
      else {
        if (wait > 0)
          this.timer = setTimeout(() => {
            this.pump(true);
          }, wait);
        else
          this.immediate = setImmediate(() => {
            this.pump(true);
          });
        return;
      }
    }
  }

  private dispatch(runner: Runner): void {
    const { maxBatch, inputSize, outputSize } = this.options;
    const batch = this.queue.splice(0, maxBatch);
    this.counters.batches++;
    this.counters.images += batch.length;
    this.counters.largestBatch = Math.max(this.counters.largestBatch, batch.length);
    this.inFlight += batch.length;
    const data = new Float32Array(batch.length * inputSize);
    batch.forEach((p, i) => {
      data.set(p.tensor, i * inputSize);
    });
    runner
      .run(data, batch.length)
      .then(
        (out) => {
          batch.forEach((p, i) => {
            p.resolve(out.slice(i * outputSize, (i + 1) * outputSize));
          });
        },
        (err: unknown) => {
          const e = err instanceof Error ? err : new Error(String(err));
          batch.forEach((p) => {
            p.reject(e);
          });
        },
      )
      .finally(() => {
        this.inFlight -= batch.length;
        this.checkSettled();
      });
  }

  private isSettled(): boolean {
    return this.queue.length === 0 && this.inFlight === 0;
  }

  private checkSettled(): void {
    if (!this.isSettled()) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
