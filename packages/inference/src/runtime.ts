// What an embedder and a detector share: a pool of session workers on the chosen device, the
// micro-batcher in front of it, admission (maxQueue, BusyError) and the close() sequence. The
// two handles differ only in how bytes become a tensor and what the floats that come back mean.
import { availableParallelism } from 'node:os';
import { Admission, noWorkerError } from './admission.js';
import { Batcher } from './batcher.js';
import { startOnDevice, type Device, type ExecutionProvider } from './device.js';
import { InferenceError, ModelError } from './errors.js';
import { DEFAULT_LIMITS, type ImageLimits } from './preprocess.js';
import { SessionWorker, type WorkerConfig } from './session-worker-client.js';
import { startWorkers, WorkerPool } from './worker-pool.js';

/** The options every model handle (createEmbedder, createDetector) takes besides its model. */
export interface RuntimeUserOptions {
  /** `auto` (default) tries CUDA and falls back to CPU with one warning; `cuda` fails with
   * DeviceUnavailableError when CUDA cannot be used. */
  device?: Device;
  /** CPU threads for ONNX Runtime in total, split between the workers (default: all cores). */
  threads?: number;
  /** Worker threads, each with its own session (default 1: one session using every core is
   * the most efficient on CPU; see docs/benchmarks.md). */
  workers?: number;
  /** Most images in one session run (default 32). */
  maxBatch?: number;
  /** Extra time a partial batch waits for company when a worker is idle (default 0: only
   * requests that arrive in the same event-loop turn are gathered; under load batches fill up
   * while the workers are busy). Raise it for GPUs, which gain more from full batches. */
  maxDelayMs?: number;
  /** Requests allowed to wait (being decoded or queued) before a call answers BusyError
   * (default 512). Requests running on a worker do not count. */
  maxQueue?: number;
  limits?: Partial<ImageLimits>;
  cudaDeviceId?: number;
  /** Where the CPU-fallback warning goes (default: console). */
  logger?: { warn(message: string): void };
}

export interface ResolvedUserOptions {
  device: Device;
  threads: number;
  workers: number;
  maxBatch: number;
  maxDelayMs: number;
  maxQueue: number;
  limits: ImageLimits;
  cudaDeviceId: number;
  logger: { warn(message: string): void };
}

function positiveInt(fn: string, name: string, value: number | undefined, fallback: number) {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1)
    throw new RangeError(`${fn}: ${name} must be a positive integer, got ${v}`);
  return v;
}

/** Defaults and range checks; `fn` names the factory in RangeErrors. */
export function resolveUserOptions(fn: string, options: RuntimeUserOptions): ResolvedUserOptions {
  const maxDelayMs = options.maxDelayMs ?? 0;
  if (!(maxDelayMs >= 0)) throw new RangeError(`${fn}: maxDelayMs must be >= 0, got ${maxDelayMs}`);
  return {
    device: options.device ?? 'auto',
    workers: positiveInt(fn, 'workers', options.workers, 1),
    threads: positiveInt(fn, 'threads', options.threads, availableParallelism()),
    maxBatch: positiveInt(fn, 'maxBatch', options.maxBatch, 32),
    maxQueue: positiveInt(fn, 'maxQueue', options.maxQueue, 512),
    maxDelayMs,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    cudaDeviceId: options.cudaDeviceId ?? 0,
    logger: options.logger ?? console,
  };
}

export interface RuntimeOptions extends ResolvedUserOptions {
  /** The model key, for messages. */
  key: string;
  /** What the handle is called in messages. */
  noun: string;
  /** What a closed handle answers. */
  closedError: new (message: string) => Error;
  /** The ONNX file's bytes. */
  model: Uint8Array;
  inputName: string;
  /** The outputs each run returns, packed per image in this order (session-worker.js). */
  outputNames: string[];
  /** Input [C, H, W]. */
  shape: number[];
  /** L2-normalise each image's slice of each output. */
  normalize: boolean;
  /** Throws a ModelError when the warm-up run's per-image output shapes are not the manifest's. */
  checkShapes: (shapes: number[][]) => void;
}

export interface RuntimeStats {
  /** Session runs so far and the images they carried. */
  batches: number;
  images: number;
  largestBatch: number;
  /** Admitted requests being decoded or queued (what maxQueue limits). */
  waiting: number;
  /** Images on the workers now. */
  running: number;
}

export interface Runtime {
  readonly provider: ExecutionProvider;
  readonly workers: number;
  readonly threadsPerWorker: number;
  /** Floats in one image's input tensor and in its packed result. */
  readonly tensorSize: number;
  readonly outputSize: number;
  /** Admit a request (refused at once: closed, no worker, or BusyError), let `prepare` make its
   * tensor (e.g. decode an upload; its failure is the request's), queue it and resolve with the
   * image's `outputSize` floats. Admission happens synchronously, in the call. */
  submit<P extends { tensor: Float32Array }>(
    prepare: () => Promise<P>,
  ): Promise<{ prepared: P; output: Float32Array }>;
  /** The same for a tensor that is ready (its length checked by the caller). */
  submitTensor(tensor: Float32Array): Promise<Float32Array>;
  stats(): RuntimeStats;
  /** Stop accepting work, finish (`drain`) or reject what is queued, end the workers. */
  close(drain: boolean): Promise<void>;
}

/**
 * Start the workers: the first on the device asked for (CUDA with CPU fallback for `auto`),
 * the rest on the provider it got, each with a warm-up run whose output shapes `checkShapes`
 * approves. Resolves once every session is ready.
 */
export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { key, noun, closedError, logger, maxBatch, maxDelayMs, maxQueue } = options;
  // One copy of the weights shared by every worker.
  const shared = new SharedArrayBuffer(options.model.byteLength);
  new Uint8Array(shared).set(options.model);
  const base: Omit<WorkerConfig, 'device' | 'threads'> = {
    model: shared,
    key,
    inputName: options.inputName,
    outputNames: options.outputNames,
    shape: options.shape,
    normalize: options.normalize,
    cudaDeviceId: options.cudaDeviceId,
  };
  const threadsPerWorker = Math.max(1, Math.floor(options.threads / options.workers));
  let outputSize = 0;

  const startWorker = async (dev: ExecutionProvider) => {
    const { worker, shapes } = await SessionWorker.start({
      ...base,
      device: dev,
      threads: threadsPerWorker,
    });
    try {
      options.checkShapes(shapes);
    } catch (err) {
      await worker.close();
      throw err;
    }
    outputSize = shapes.reduce((sum, s) => sum + s.reduce((a, b) => a * b, 1), 0);
    return worker;
  };
  const initError = (err: unknown) =>
    err instanceof InferenceError
      ? err
      : new ModelError(
          `model ${key}: cannot start an ONNX Runtime session: ${err instanceof Error ? err.message : String(err)}`,
          { cause: err },
        );

  let provider: ExecutionProvider;
  let started: SessionWorker[];
  try {
    const first = await startOnDevice(options.device, startWorker, { key, logger });
    provider = first.provider;
    started = await startWorkers(options.workers, () => startWorker(first.provider), [
      first.started,
    ]);
  } catch (err) {
    throw initError(err);
  }

  const tensorSize = options.shape.reduce((a, b) => a * b, 1);
  // The pool tells the batcher when a worker is free, and the batcher asks the pool for one.
  const pool = new WorkerPool(started, {
    start: () => startWorker(provider),
    onIdle: () => {
      batcher.schedule();
    },
    onNoWorker: () => {
      batcher.failQueued(() => noWorkerError(key));
    },
    onRestartFailed: (err) => {
      logger.warn(
        `@lookalike/inference: model ${key}: cannot restart a crashed worker: ${err instanceof Error ? err.message : String(err)}`,
      );
    },
  });
  const batcher = new Batcher({
    runners: pool,
    maxBatch,
    maxDelayMs,
    inputSize: tensorSize,
    outputSize,
  });
  const admission = new Admission({
    key,
    maxQueue,
    queued: () => batcher.queued,
    noWorker: () => pool.noWorker,
    noun,
    closedError,
  });

  /** Queue an admitted request, unless it must be refused now. */
  const enqueue = (tensor: Float32Array): Promise<Float32Array> => {
    const refused = admission.handOff();
    return refused ? Promise.reject(refused) : batcher.enqueue(tensor);
  };

  const prepareAndRun = async <P extends { tensor: Float32Array }>(prepare: () => Promise<P>) => {
    let prepared: P;
    try {
      prepared = await prepare();
    } catch (err) {
      admission.drop();
      throw err;
    }
    return { prepared, output: await enqueue(prepared.tensor) };
  };

  const submit = <P extends { tensor: Float32Array }>(
    prepare: () => Promise<P>,
  ): Promise<{ prepared: P; output: Float32Array }> => {
    const refused = admission.admit();
    return refused ? Promise.reject(refused) : prepareAndRun(prepare);
  };

  const submitTensor = (tensor: Float32Array): Promise<Float32Array> => {
    const refused = admission.admit();
    return refused ? Promise.reject(refused) : enqueue(tensor);
  };

  let closing: Promise<void> | null = null;
  const close = (drain: boolean): Promise<void> => {
    closing ??= shutdown(drain);
    return closing;
  };
  const shutdown = async (drain: boolean): Promise<void> => {
    admission.close(drain);
    pool.stopRestarting();
    if (!drain) {
      batcher.failQueued(
        () => new closedError(`model ${key}: the ${noun} was closed before this request ran`),
      );
    }
    // Partial batches go at once from now on.
    batcher.close();
    // Requests still being decoded or queued (drain) and batches on the workers finish first.
    // Once nothing is being decoded nothing more can be queued, so the two waits in turn are
    // one wait for both.
    await admission.drained();
    await batcher.settled();
    await pool.close();
  };

  const stats = (): RuntimeStats => ({
    ...batcher.counts(),
    waiting: admission.waiting,
    running: batcher.running,
  });

  return {
    provider,
    workers: pool.size,
    threadsPerWorker,
    tensorSize,
    outputSize,
    submit,
    submitTensor,
    stats,
    close,
  };
}
