import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import {
  BusyError,
  DeviceUnavailableError,
  EmbedderClosedError,
  InferenceError,
  ModelError,
} from './errors.js';
import {
  loadManifest,
  readModelFile,
  type LoadedManifest,
  type MetricThresholds,
} from './manifest.js';
import { stripClassifier } from './onnx-graph.js';
import { SessionWorker, type WorkerConfig } from './pool.js';
import {
  DEFAULT_LIMITS,
  preprocessImage,
  type EmbedOptions,
  type ImageInfo,
  type ImageLimits,
} from './preprocess.js';

export type Device = 'auto' | 'cpu' | 'cuda';

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
  executionProvider: 'cpu' | 'cuda';
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

export type EmbedBatchItem = Uint8Array | { bytes: Uint8Array; options?: EmbedOptions };

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

interface Pending {
  tensor: Float32Array;
  resolve: (v: Float32Array) => void;
  reject: (e: Error) => void;
  since: number;
}

/**
 * Why CUDA cannot work, when that is knowable without trying: on Linux onnxruntime-node loads
 * its CUDA provider from a library that only ONNXRUNTIME_NODE_INSTALL=cuda12 installs. Trying
 * anyway makes ONNX Runtime print a native error to stderr before failing.
 */
function missingCudaProvider(): string | null {
  if (process.platform !== 'linux') return null;
  try {
    const bin = path.join(
      path.dirname(createRequire(import.meta.url).resolve('onnxruntime-node')),
      '..',
      'bin',
    );
    for (const napi of readdirSync(bin)) {
      const dir = path.join(bin, napi, 'linux', process.arch);
      if (existsSync(path.join(dir, 'libonnxruntime_providers_cuda.so'))) return null;
    }
    return 'onnxruntime-node was installed without its CUDA provider (libonnxruntime_providers_cuda.so)';
  } catch {
    return null;
  }
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

  const startWorker = async (dev: 'cpu' | 'cuda') => {
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

  let provider: 'cpu' | 'cuda' = 'cpu';
  const pool: SessionWorker[] = [];
  try {
    if (device !== 'cpu') {
      try {
        const missing = missingCudaProvider();
        if (missing) throw new Error(missing);
        pool.push(await startWorker('cuda'));
        provider = 'cuda';
      } catch (err) {
        if (err instanceof ModelError) throw err;
        const reason = err instanceof Error ? err.message : String(err);
        if (device === 'cuda') {
          throw new DeviceUnavailableError(
            `model ${key}: the CUDA execution provider is not available (${reason}). Install onnxruntime-node's CUDA 12 binaries (ONNXRUNTIME_NODE_INSTALL=cuda12 npm install) on a machine with an NVIDIA driver, CUDA 12 and cuDNN 9, or use device 'cpu'.`,
            { cause: err },
          );
        }
        logger.warn(
          `@lookalike/inference: model ${key}: CUDA unavailable (${reason}); running on CPU.`,
        );
      }
    }
    while (pool.length < workers) pool.push(await startWorker(provider));
  } catch (err) {
    await Promise.all(pool.map((w) => w.close()));
    throw initError(err);
  }

  const queue: Pending[] = [];
  let waiting = 0; // admitted requests not yet handed to a worker
  let timer: NodeJS.Timeout | null = null;
  let immediate: NodeJS.Immediate | null = null;
  let closed = false;
  let draining = true; // close({ drain: false }) sets it to false
  let onSettled: (() => void) | null = null;
  let inFlight = 0;
  const tensorSize = channels * size * size;
  const dims = manifest.output.dims;

  const counters = { batches: 0, images: 0, largestBatch: 0 };
  const settledAll = () => queue.length === 0 && inFlight === 0 && waiting === 0;
  const checkSettled = () => {
    if (closed && onSettled && settledAll()) onSettled();
  };

  const dispatch = (worker: SessionWorker) => {
    const batch = queue.splice(0, maxBatch);
    waiting -= batch.length;
    counters.batches++;
    counters.images += batch.length;
    counters.largestBatch = Math.max(counters.largestBatch, batch.length);
    inFlight += batch.length;
    const data = new Float32Array(batch.length * tensorSize);
    batch.forEach((p, i) => {
      data.set(p.tensor, i * tensorSize);
    });
    worker
      .run(data, batch.length)
      .then(
        (out) => {
          batch.forEach((p, i) => {
            p.resolve(out.slice(i * dims, (i + 1) * dims));
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
        inFlight -= batch.length;
        checkSettled();
      });
  };

  /**
   * Hand queued work to idle workers. A full batch goes at once. A partial batch is never sent
   * from inside enqueue(): it waits for the current event-loop turn to end (setImmediate), so
   * requests that arrive together — e.g. callers resubmitting as a batch's results resolve —
   * share one run, and at most `maxDelayMs` beyond that for stragglers. A lone request thus
   * pays microseconds with the default maxDelayMs of 0, and under load batches form by
   * themselves while the workers are busy.
   */
  const schedule = (deferred = false) => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    if (immediate) {
      clearImmediate(immediate);
      immediate = null;
    }
    for (;;) {
      const oldest = queue[0];
      if (!oldest) return;
      const idle = pool.find((w) => !w.busy && w.usable);
      if (!idle) return; // a worker's onIdle calls schedule again
      const wait = maxDelayMs - (performance.now() - oldest.since);
      if (queue.length >= maxBatch || closed || (deferred && wait <= 0)) dispatch(idle);
      else {
        if (wait > 0)
          timer = setTimeout(() => {
            schedule(true);
          }, wait);
        else
          immediate = setImmediate(() => {
            schedule(true);
          });
        return;
      }
    }
  };
  const onIdle = () => {
    schedule();
  };

  // A crashed worker (e.g. out of memory in native code) is replaced; its batch has already
  // been rejected. While the embedder is closing nothing is restarted: the remaining workers
  // finish the queue. Once no worker is running and none is being started, queued requests
  // fail and new ones are refused at once instead of waiting forever.
  let restarting = 0;
  let poolClosed = false;
  const noWorker = () => restarting === 0 && !pool.some((w) => w.alive);
  const noWorkerError = () =>
    new InferenceError('WORKER_FAILED', `model ${key}: no inference worker is running`);
  const failQueue = () => {
    const dropped = queue.splice(0);
    waiting -= dropped.length;
    for (const p of dropped) p.reject(noWorkerError());
    checkSettled();
  };
  const watch = (w: SessionWorker) => {
    w.onIdle = onIdle;
    w.onExit = () => {
      if (closed) {
        if (noWorker()) failQueue();
        return;
      }
      restarting++;
      startWorker(provider).then(
        (replacement) => {
          restarting--;
          const i = pool.indexOf(w);
          if (i >= 0) pool[i] = replacement;
          watch(replacement);
          // Closing but not yet done: the replacement helps drain, and shutdown() closes it.
          if (poolClosed) void replacement.close();
          else schedule();
        },
        (err: unknown) => {
          restarting--;
          logger.warn(
            `@lookalike/inference: model ${key}: cannot restart a crashed worker: ${err instanceof Error ? err.message : String(err)}`,
          );
          if (noWorker()) failQueue();
        },
      );
    };
  };
  pool.forEach(watch);

  /** Queue an admitted request (already counted in `waiting`). */
  const enqueue = (tensor: Float32Array) =>
    new Promise<Float32Array>((resolve, reject) => {
      if (noWorker()) {
        // The last worker died while this image was being decoded.
        waiting--;
        checkSettled();
        reject(noWorkerError());
        return;
      }
      queue.push({ tensor, resolve, reject, since: performance.now() });
      schedule();
    });

  /** Admit one request (counted in `waiting`), or say why not. */
  const admit = (): Error | null => {
    if (closed) return new EmbedderClosedError(`model ${key}: the embedder is closed`);
    if (noWorker()) return noWorkerError();
    if (waiting >= maxQueue) {
      return new BusyError(
        `model ${key}: ${waiting} requests are waiting (maxQueue ${maxQueue}); retry later`,
      );
    }
    waiting++;
    return null;
  };

  const embedAdmitted = async (
    bytes: Uint8Array,
    opts: EmbedOptions | undefined,
  ): Promise<EmbedResult> => {
    let pre;
    try {
      pre = await preprocessImage(bytes, manifest.input, opts, limits, `model ${key}`);
    } catch (err) {
      waiting--;
      checkSettled();
      throw err;
    }
    if (closed && !draining) {
      // close({ drain: false }) happened while this image was being decoded.
      waiting--;
      checkSettled();
      throw new EmbedderClosedError(`model ${key}: the embedder was closed before this image ran`);
    }
    const vector = await enqueue(pre.tensor);
    return { vector, image: pre.image };
  };

  const embed = (bytes: Uint8Array, opts?: EmbedOptions): Promise<EmbedResult> => {
    const refused = admit();
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
    const refused = admit();
    return refused ? Promise.reject(refused) : enqueue(tensor);
  };

  const embedBatch = async (items: readonly EmbedBatchItem[]): Promise<EmbedBatchResult[]> => {
    const results: EmbedBatchResult[] = new Array<EmbedBatchResult>(items.length);
    // Enough in flight to keep every worker's next batch full, without flooding the queue
    // (other callers' embed() must still find room).
    const window = Math.max(1, Math.min(maxQueue, maxBatch * pool.length * 2));
    let next = 0;
    const lane = async () => {
      while (next < items.length) {
        const i = next++;
        const item = items[i];
        if (!item) break;
        const [bytes, opts] =
          item instanceof Uint8Array ? [item, undefined] : [item.bytes, item.options];
        for (;;) {
          try {
            const r = await embed(bytes, opts);
            results[i] = { ok: true, ...r };
            break;
          } catch (error) {
            if (error instanceof BusyError) {
              await new Promise((r) => setTimeout(r, maxDelayMs + 1));
              continue;
            }
            results[i] = {
              ok: false,
              error: error instanceof Error ? error : new Error(String(error)),
            };
            break;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(window, items.length) }, lane));
    return results;
  };

  let closing: Promise<void> | null = null;
  const close = ({ drain = true }: { drain?: boolean } = {}): Promise<void> => {
    closing ??= shutdown(drain);
    return closing;
  };
  const shutdown = async (drain: boolean): Promise<void> => {
    closed = true;
    draining = drain;
    if (!drain) {
      const dropped = queue.splice(0);
      waiting -= dropped.length;
      for (const p of dropped)
        p.reject(
          new EmbedderClosedError(`model ${key}: the embedder was closed before this request ran`),
        );
    }
    // Requests still being decoded or queued (drain) and batches on the workers finish first.
    if (!settledAll()) {
      await new Promise<void>((resolve) => {
        onSettled = resolve;
        schedule();
      });
    }
    if (timer) clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
    poolClosed = true;
    await Promise.all(pool.map((w) => w.close()));
  };

  const info: EmbedderInfo = {
    id: manifest.id,
    version: manifest.version,
    key,
    dims,
    normalized: manifest.output.normalize,
    executionProvider: provider,
    workers: pool.length,
    threadsPerWorker,
    maxBatch,
    maxDelayMs,
    maxQueue,
    input: { size, channels },
    defaults: manifest.defaults ?? {},
    limits,
  };
  const stats = (): EmbedderStats => ({ ...counters, waiting, running: inFlight });
  return { info, embed, embedBatch, embedTensor, stats, close };
}
