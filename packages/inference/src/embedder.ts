import { availableParallelism } from 'node:os';
import { Admission, noWorkerError } from './admission.js';
import { Batcher } from './batcher.js';
import { startOnDevice, type Device, type ExecutionProvider } from './device.js';
import { batchWindow, embedBatch as embedEach, type EmbedBatchItem } from './embed-batch.js';
import { EmbedderClosedError, InferenceError, ModelError } from './errors.js';
import {
  loadManifest,
  readModelFile,
  type LoadedManifest,
  type MetricThresholds,
} from './manifest.js';
import { stripClassifier } from './onnx-graph.js';
import {
  DEFAULT_LIMITS,
  preprocessImage,
  type EmbedOptions,
  type ImageInfo,
  type ImageLimits,
} from './preprocess.js';
import { SessionWorker, type WorkerConfig } from './session-worker-client.js';
import { startWorkers, WorkerPool } from './worker-pool.js';

export type { Device } from './device.js';
export type { EmbedBatchItem } from './embed-batch.js';

export interface EmbedderOptions {
  /** A bundled model id (`'fashion-resnet'`), a model directory, a `model.json` path, or a
   * manifest already loaded with `loadManifest`. */
  model: string | LoadedManifest;
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
  /** Requests allowed to wait (being decoded or queued) before embed() answers BusyError
   * (default 512). Requests running on a worker do not count. */
  maxQueue?: number;
  limits?: Partial<ImageLimits>;
  cudaDeviceId?: number;
  /** Where the CPU-fallback warning goes (default: console). */
  logger?: { warn(message: string): void };
}

export interface EmbedderInfo {
  id: string;
  version: number;
  /** `${id}-v${version}`: the embedding model key in the database. */
  key: string;
  dims: number;
  normalized: boolean;
  /** The execution provider actually in use. */
  executionProvider: ExecutionProvider;
  workers: number;
  threadsPerWorker: number;
  maxBatch: number;
  maxDelayMs: number;
  maxQueue: number;
  input: { size: number; channels: number };
  /** Recommended thresholds from the manifest (cosine: minimum similarity, euclidean: maximum distance). */
  defaults: { cosine?: MetricThresholds; euclidean?: MetricThresholds };
  limits: ImageLimits;
}

export interface EmbedResult {
  /** `dims` floats, L2-normalised when the manifest says so. */
  vector: Float32Array;
  /** The upload as decoded: sniffed MIME type, displayed width/height, ... */
  image: ImageInfo;
}

export interface EmbedderStats {
  /** Session runs so far and the images they carried. */
  batches: number;
  images: number;
  largestBatch: number;
  /** Admitted requests being decoded or queued (what maxQueue limits). */
  waiting: number;
  /** Images on the workers now. */
  running: number;
}

export type EmbedBatchResult = ({ ok: true } & EmbedResult) | { ok: false; error: Error };

export interface Embedder {
  readonly info: EmbedderInfo;
  /** Decode, preprocess and embed one image. Concurrent calls share micro-batches. */
  embed(bytes: Uint8Array, options?: EmbedOptions): Promise<EmbedResult>;
  /** Embed many images; waits for queue space instead of answering BusyError, and reports
   * each item's own failure instead of failing the whole list. */
  embedBatch(items: readonly EmbedBatchItem[]): Promise<EmbedBatchResult[]>;
  /** Embed an already preprocessed CHW float32 tensor (benchmarks, custom pipelines). */
  embedTensor(tensor: Float32Array): Promise<Float32Array>;
  /** Counters since start: how well micro-batching is working, and what is waiting now. */
  stats(): EmbedderStats;
  /** Stop accepting work, then finish queued work (`drain`, default) or reject it with
   * EmbedderClosedError, and end the worker threads. */
  close(options?: { drain?: boolean }): Promise<void>;
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1)
    throw new RangeError(`createEmbedder: ${name} must be a positive integer, got ${v}`);
  return v;
}

/**
 * Load a model and start its worker pool. Resolves once every session is created and has
 * run a warm-up batch whose output dims match the manifest.
 */
export async function createEmbedder(options: EmbedderOptions): Promise<Embedder> {
  const manifest =
    typeof options.model === 'string' ? await loadManifest(options.model) : options.model;
  const key = manifest.key;
  const device = options.device ?? 'auto';
  const workers = positiveInt('workers', options.workers, 1);
  const threads = positiveInt('threads', options.threads, availableParallelism());
  const maxBatch = positiveInt('maxBatch', options.maxBatch, 32);
  const maxQueue = positiveInt('maxQueue', options.maxQueue, 512);
  const maxDelayMs = options.maxDelayMs ?? 0;
  if (!(maxDelayMs >= 0))
    throw new RangeError(`createEmbedder: maxDelayMs must be >= 0, got ${maxDelayMs}`);
  const limits: ImageLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const logger = options.logger ?? console;

  let bytes = await readModelFile(manifest);
  if (manifest.output.stripClassifier) {
    try {
      bytes = stripClassifier(bytes, manifest.output.name, manifest.output.dims, `model ${key}`);
    } catch (cause) {
      throw new ModelError(cause instanceof Error ? cause.message : String(cause), { cause });
    }
  }
  // One copy of the weights shared by every worker.
  const shared = new SharedArrayBuffer(bytes.byteLength);
  new Uint8Array(shared).set(bytes);
  const { size, channels } = manifest.input;
  const base: Omit<WorkerConfig, 'device' | 'threads'> = {
    model: shared,
    key,
    inputName: manifest.input.name,
    outputName: manifest.output.name,
    shape: [channels, size, size],
    normalize: manifest.output.normalize,
    cudaDeviceId: options.cudaDeviceId ?? 0,
  };
  const threadsPerWorker = Math.max(1, Math.floor(threads / workers));

  const startWorker = async (dev: ExecutionProvider) => {
    const { worker, dims } = await SessionWorker.start({
      ...base,
      device: dev,
      threads: threadsPerWorker,
    });
    if (dims !== manifest.output.dims) {
      await worker.close();
      throw new ModelError(
        `model ${key}: output "${manifest.output.name}" has ${dims} dims, the manifest says ${manifest.output.dims}`,
      );
    }
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
    const first = await startOnDevice(device, startWorker, { key, logger });
    provider = first.provider;
    started = await startWorkers(workers, () => startWorker(first.provider), [first.started]);
  } catch (err) {
    throw initError(err);
  }

  const tensorSize = channels * size * size;
  const dims = manifest.output.dims;
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
    outputSize: dims,
  });
  const admission = new Admission({
    key,
    maxQueue,
    queued: () => batcher.queued,
    noWorker: () => pool.noWorker,
  });

  /** Queue an admitted request, unless it must be refused now. */
  const enqueue = (tensor: Float32Array): Promise<Float32Array> => {
    const refused = admission.handOff();
    return refused ? Promise.reject(refused) : batcher.enqueue(tensor);
  };

  const embedAdmitted = async (
    bytes: Uint8Array,
    opts: EmbedOptions | undefined,
  ): Promise<EmbedResult> => {
    let pre;
    try {
      pre = await preprocessImage(bytes, manifest.input, opts, limits, `model ${key}`);
    } catch (err) {
      admission.drop();
      throw err;
    }
    const vector = await enqueue(pre.tensor);
    return { vector, image: pre.image };
  };

  const embed = (bytes: Uint8Array, opts?: EmbedOptions): Promise<EmbedResult> => {
    const refused = admission.admit();
    return refused ? Promise.reject(refused) : embedAdmitted(bytes, opts);
  };

  const embedTensor = (tensor: Float32Array): Promise<Float32Array> => {
    if (tensor.length !== tensorSize) {
      return Promise.reject(
        new RangeError(
          `model ${key}: a tensor needs ${tensorSize} floats (${channels}x${size}x${size}), got ${tensor.length}`,
        ),
      );
    }
    const refused = admission.admit();
    return refused ? Promise.reject(refused) : enqueue(tensor);
  };

  const window = batchWindow({ maxBatch, maxQueue, workers: pool.size });
  const embedBatch = (items: readonly EmbedBatchItem[]): Promise<EmbedBatchResult[]> =>
    embedEach(items, embed, { window, busyRetryMs: maxDelayMs + 1 });

  let closing: Promise<void> | null = null;
  const close = ({ drain = true }: { drain?: boolean } = {}): Promise<void> => {
    closing ??= shutdown(drain);
    return closing;
  };
  const shutdown = async (drain: boolean): Promise<void> => {
    admission.close(drain);
    pool.stopRestarting();
    if (!drain) {
      batcher.failQueued(
        () =>
          new EmbedderClosedError(`model ${key}: the embedder was closed before this request ran`),
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

  const info: EmbedderInfo = {
    id: manifest.id,
    version: manifest.version,
    key,
    dims,
    normalized: manifest.output.normalize,
    executionProvider: provider,
    workers: pool.size,
    threadsPerWorker,
    maxBatch,
    maxDelayMs,
    maxQueue,
    input: { size, channels },
    defaults: manifest.defaults ?? {},
    limits,
  };
  const stats = (): EmbedderStats => ({
    ...batcher.counts(),
    waiting: admission.waiting,
    running: batcher.running,
  });
  return { info, embed, embedBatch, embedTensor, stats, close };
}
