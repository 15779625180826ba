import { type ExecutionProvider } from './device.js';
import { batchWindow, embedBatch as embedEach, type EmbedBatchItem } from './embed-batch.js';
import { EmbedderClosedError, ModelError } from './errors.js';
import {
  loadManifest,
  readModelFile,
  type LoadedManifest,
  type MetricThresholds,
} from './manifest.js';
import { stripClassifier } from './onnx-graph.js';
import {
  preprocessImage,
  type EmbedOptions,
  type ImageInfo,
  type ImageLimits,
} from './preprocess.js';
import { resolveUserOptions, startRuntime, type RuntimeUserOptions } from './runtime.js';

export type { Device } from './device.js';
export type { EmbedBatchItem } from './embed-batch.js';

export interface EmbedderOptions extends RuntimeUserOptions {
  /** A bundled model id (`'fashion-resnet'`), a model directory, a `model.json` path, or a
   * manifest already loaded with `loadManifest`. */
  model: string | LoadedManifest;
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

/**
 * Load a model and start its worker pool. Resolves once every session is created and has
 * run a warm-up batch whose output dims match the manifest.
 */
export async function createEmbedder(options: EmbedderOptions): Promise<Embedder> {
  const manifest =
    typeof options.model === 'string' ? await loadManifest(options.model) : options.model;
  const key = manifest.key;
  const resolved = resolveUserOptions('createEmbedder', options);
  const { maxBatch, maxDelayMs, maxQueue, limits } = resolved;

  let bytes = await readModelFile(manifest);
  if (manifest.output.stripClassifier) {
    try {
      bytes = stripClassifier(bytes, manifest.output.name, manifest.output.dims, `model ${key}`);
    } catch (cause) {
      throw new ModelError(cause instanceof Error ? cause.message : String(cause), { cause });
    }
  }
  const { size, channels } = manifest.input;
  const dims = manifest.output.dims;
  const runtime = await startRuntime({
    ...resolved,
    key,
    noun: 'embedder',
    closedError: EmbedderClosedError,
    model: bytes,
    inputName: manifest.input.name,
    outputNames: [manifest.output.name],
    shape: [channels, size, size],
    normalize: manifest.output.normalize,
    checkShapes: ([shape = []]) => {
      const name = manifest.output.name;
      if (shape.length !== 1) {
        throw new ModelError(
          `model ${key}: output "${name}" has shape [n, ${shape.join(', ')}], the manifest says [n, ${dims}]`,
        );
      }
      if (shape[0] !== dims) {
        throw new ModelError(
          `model ${key}: output "${name}" has ${shape[0]} dims, the manifest says ${dims}`,
        );
      }
    },
  });
  const tensorSize = runtime.tensorSize;

  const embed = (bytes: Uint8Array, opts?: EmbedOptions): Promise<EmbedResult> =>
    runtime
      .submit(() => preprocessImage(bytes, manifest.input, opts, limits, `model ${key}`))
      .then(({ prepared, output }) => ({ vector: output, image: prepared.image }));

  const embedTensor = (tensor: Float32Array): Promise<Float32Array> => {
    if (tensor.length !== tensorSize) {
      return Promise.reject(
        new RangeError(
          `model ${key}: a tensor needs ${tensorSize} floats (${channels}x${size}x${size}), got ${tensor.length}`,
        ),
      );
    }
    return runtime.submitTensor(tensor);
  };

  const window = batchWindow({ maxBatch, maxQueue, workers: runtime.workers });
  const embedBatch = (items: readonly EmbedBatchItem[]): Promise<EmbedBatchResult[]> =>
    embedEach(items, embed, { window, busyRetryMs: maxDelayMs + 1 });

  const close = ({ drain = true }: { drain?: boolean } = {}): Promise<void> => runtime.close(drain);

  const info: EmbedderInfo = {
    id: manifest.id,
    version: manifest.version,
    key,
    dims,
    normalized: manifest.output.normalize,
    executionProvider: runtime.provider,
    workers: runtime.workers,
    threadsPerWorker: runtime.threadsPerWorker,
    maxBatch,
    maxDelayMs,
    maxQueue,
    input: { size, channels },
    defaults: manifest.defaults ?? {},
    limits,
  };
  const stats = (): EmbedderStats => runtime.stats();
  return { info, embed, embedBatch, embedTensor, stats, close };
}
