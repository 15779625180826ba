import { BusyError, EmbedderClosedError, InferenceError } from './errors.js';

/** The failure of a request that no worker can run: every worker is gone and none is starting. */
export function noWorkerError(key: string): InferenceError {
  return new InferenceError('WORKER_FAILED', `model ${key}: no inference worker is running`);
}

export interface AdmissionOptions {
  /** The model key, for messages. */
  key: string;
  /** Requests allowed to wait (being decoded or queued). */
  maxQueue: number;
  /** Requests in the batcher's queue: they are waiting too. */
  queued: () => number;
  /** No worker is running and none is being started. */
  noWorker: () => boolean;
  /** What the handle is called in messages (default 'embedder'). */
  noun?: string;
  /** What a closed handle answers (default EmbedderClosedError). */
  closedError?: new (message: string) => Error;
}

/**
 * Which requests may wait for a worker. A request is admitted, or refused at once (closed, no
 * worker left, or maxQueue requests already waiting: BusyError, so that callers back off
 * instead of growing an unbounded queue); an admitted image is decoded, then handed to the
 * queue. Waiting = admitted requests being decoded + queued ones; those running on a worker do
 * not count.
 */
export class Admission {
  private readonly options: AdmissionOptions;
  /** Admitted requests not yet handed to the queue. */
  private decoding = 0;
  private closed = false;
  private draining = true; // close(false) sets it to false
  private waiters: (() => void)[] = [];

  constructor(options: AdmissionOptions) {
    this.options = options;
  }

  /** Admitted requests being decoded or queued (what maxQueue limits). */
  get waiting(): number {
    return this.decoding + this.options.queued();
  }

  /** Admit one request (counted in `waiting` until handOff() or drop()), or say why not. */
  admit(): Error | null {
    const { key, maxQueue, noun = 'embedder', closedError = EmbedderClosedError } = this.options;
    if (this.closed) return new closedError(`model ${key}: the ${noun} is closed`);
    if (this.options.noWorker()) return noWorkerError(key);
    const waiting = this.waiting;
    if (waiting >= maxQueue) {
      return new BusyError(
        `model ${key}: ${waiting} requests are waiting (maxQueue ${maxQueue}); retry later`,
      );
    }
    this.decoding++;
    return null;
  }

  /** An admitted request is ready for the queue: it leaves admission, and this says why it
   * must not be queued, if so (the caller then rejects it with that error). */
  handOff(): Error | null {
    this.leave();
    const { key, noun = 'embedder', closedError = EmbedderClosedError } = this.options;
    if (this.closed && !this.draining) {
      // close({ drain: false }) happened while this image was being decoded.
      return new closedError(`model ${key}: the ${noun} was closed before this image ran`);
    }
    // The last worker died while this image was being decoded.
    if (this.options.noWorker()) return noWorkerError(key);
    return null;
  }

  /** An admitted request failed before it reached the queue (e.g. its image did not decode). */
  drop(): void {
    this.leave();
  }

  /** Refuse new requests from now on. Without `drain`, requests still being decoded are
   * refused too, by handOff(). */
  close(drain: boolean): void {
    this.closed = true;
    this.draining = drain;
  }

  /** Resolves once no admitted request is being decoded (after close(), that lasts). */
  drained(): Promise<void> {
    if (this.decoding === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private leave(): void {
    this.decoding--;
    if (this.decoding > 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
