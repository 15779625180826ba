// The main thread's handle on one session-worker.js thread: starts it, posts batches to it and
// closes it. Pooling, restarts and batching live in worker-pool.ts and batcher.ts.
import { Worker } from 'node:worker_threads';
import { InferenceError } from './errors.js';

export interface WorkerConfig {
  model: SharedArrayBuffer;
  key: string;
  inputName: string;
  /** The outputs a run returns, packed image after image in this order (session-worker.js). */
  outputNames: string[];
  /** Input [C, H, W]. */
  shape: number[];
  /** L2-normalise each image's slice of each output. */
  normalize: boolean;
  device: 'cpu' | 'cuda';
  threads: number;
  cudaDeviceId: number;
}

type FromWorker =
  | { type: 'ready'; provider: 'cpu' | 'cuda'; shapes: number[][] }
  | { type: 'init-error'; message: string }
  | { type: 'result'; id: number; data: Float32Array }
  | { type: 'error'; id: number; message: string };

interface Job {
  id: number;
  resolve: (out: Float32Array) => void;
  reject: (err: Error) => void;
}

// How long close() waits for a worker to release its session and exit before terminating it.
// Not measured: generous for a release, while a worker stuck inside a session run (native code
// cannot be interrupted) should not hold up shutdown for long.
const CLOSE_GRACE_MS = 2_000;

// A URL next to this module: src/session-worker.js from source, dist/session-worker.js when built.
const WORKER_URL = new URL('./session-worker.js', import.meta.url);

/** One worker thread holding one ONNX Runtime session; runs one batch at a time. */
export class SessionWorker {
  private readonly worker: Worker;
  private job: Job | null = null;
  private nextId = 1;
  private exited = false;
  /** The thread threw: it is being torn down and must get no more work, though it has not
   * exited yet (its replacement starts on exit). */
  private failing = false;
  /** Called whenever the worker becomes free (after a batch, or when it dies). */
  onIdle: () => void = () => undefined;
  /** Called once if the thread ends without close() (a crash). */
  onExit: () => void = () => undefined;
  private closing = false;
  private closed: Promise<void> | null = null;

  private constructor(worker: Worker) {
    this.worker = worker;
  }

  /** Start a worker and wait until its session is created and warmed up. Resolves with the
   * per-image shape of each output (without the batch axis) the warm-up run gave. */
  static start(config: WorkerConfig): Promise<{ worker: SessionWorker; shapes: number[][] }> {
    return new Promise((resolve, reject) => {
      const w = new Worker(WORKER_URL, { workerData: config });
      const self = new SessionWorker(w);
      let ready = false;
      w.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') {
          ready = true;
          resolve({ worker: self, shapes: msg.shapes });
        } else if (msg.type === 'init-error') {
          void w.terminate();
          reject(new Error(msg.message));
        } else self.settle(msg);
      });
      w.on('error', (err) => {
        self.failing = true;
        if (!ready) reject(err);
        self.fail(
          new InferenceError(
            'WORKER_FAILED',
            `model ${config.key}: inference worker crashed: ${err.message}`,
          ),
        );
      });
      w.on('exit', (code) => {
        self.exited = true;
        if (!ready)
          reject(new Error(`worker exited with code ${code} before its session was ready`));
        self.fail(
          new InferenceError(
            'WORKER_FAILED',
            `model ${config.key}: inference worker exited (code ${code})`,
          ),
        );
        if (ready && !self.closing) self.onExit();
      });
    });
  }

  get busy(): boolean {
    return this.job !== null;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** Alive and not going down: may be given a batch. */
  get usable(): boolean {
    return !this.exited && !this.failing;
  }

  /** Run one batch ([n, ...shape] floats); resolves with n packed results (session-worker.js). */
  run(data: Float32Array, n: number): Promise<Float32Array> {
    if (this.job) throw new Error('SessionWorker.run while busy');
    if (!this.usable)
      return Promise.reject(new InferenceError('WORKER_FAILED', 'inference worker is not running'));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.job = { id, resolve, reject };
      this.worker.postMessage({ type: 'run', id, n, data }, [data.buffer as ArrayBuffer]);
    });
  }

  private settle(msg: Extract<FromWorker, { type: 'result' | 'error' }>): void {
    const job = this.job;
    if (!job || job.id !== msg.id) return;
    this.job = null;
    if (msg.type === 'result') job.resolve(msg.data);
    else job.reject(new InferenceError('INFERENCE_FAILED', msg.message));
    this.onIdle();
  }

  private fail(err: Error): void {
    const job = this.job;
    this.job = null;
    job?.reject(err);
    this.onIdle();
  }

  /** Ask the worker to release its session and end; terminate it if it has not exited within
   * CLOSE_GRACE_MS (e.g. stuck in native code). */
  close(): Promise<void> {
    this.closing = true;
    this.closed ??= this.exited
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const timer = setTimeout(() => void this.worker.terminate(), CLOSE_GRACE_MS);
          this.worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          this.worker.postMessage({ type: 'close' });
        });
    return this.closed;
  }
}
