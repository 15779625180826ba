import {
  decodeDetections,
  type DecodeParams,
  type DetectedObject,
  type DetectorOutputs,
} from './detect-decode.js';
import { preprocessDetectorImage } from './detect-preprocess.js';
import type { ExecutionProvider } from './device.js';
import { DetectorClosedError, ModelError } from './errors.js';
import {
  loadDetectorManifest,
  readModelFile,
  type DecodeDefaults,
  type LoadedDetectorManifest,
} from './manifest.js';
import type { ImageInfo, ImageLimits, Region } from './preprocess.js';
import {
  resolveUserOptions,
  startRuntime,
  type RuntimeStats,
  type RuntimeUserOptions,
} from './runtime.js';

export interface DetectorOptions extends RuntimeUserOptions {
  /** A bundled model id (`'product-detector'`), a model directory, a `model.json` path, or a
   * manifest already loaded with `loadDetectorManifest`. */
  model: string | LoadedDetectorManifest;
}

export interface DetectorInfo {
  id: string;
  version: number;
  /** `${id}-v${version}`. */
  key: string;
  /** Category names, by class index. */
  classes: readonly string[];
  /** The execution provider actually in use. */
  executionProvider: ExecutionProvider;
  workers: number;
  threadsPerWorker: number;
  maxBatch: number;
  maxDelayMs: number;
  maxQueue: number;
  input: { size: number; channels: number };
  /** The heatmap grid: `grid` x `grid` cells of `stride` input pixels. */
  output: { grid: number; stride: number };
  /** What detect() decodes with unless told otherwise (from the manifest). */
  decode: DecodeDefaults;
  limits: ImageLimits;
}

export interface DetectOptions {
  /** Detect only in this part of the image; boxes still come in the whole image's pixels.
   * Clamped to the image; an empty or fully outside region is an InvalidRegionError. */
  region?: Region;
  /** Override the manifest's minimum peak score, in [0, 1]. */
  minScore?: number;
  /** Override the manifest's most objects per image (a positive integer). */
  maxObjects?: number;
}

export interface DetectResult {
  /** Best first; boxes in the pixels of the image as displayed (EXIF orientation applied). */
  objects: DetectedObject[];
  /** The upload as decoded: sniffed MIME type, displayed width/height, ... */
  image: ImageInfo;
  /** Input pixels per image pixel (of the region, when one was given). */
  scale: number;
}

export interface DetectTensorResult {
  /** Decoded in the input's own pixels (scale 1, clamped to the input). */
  objects: DetectedObject[];
  /** The raw outputs, for checks against a reference. */
  outputs: DetectorOutputs;
}

export type DetectorStats = RuntimeStats;

export interface Detector {
  readonly info: DetectorInfo;
  /** Decode, letterbox and detect products in one image. Concurrent calls share micro-batches. */
  detect(bytes: Uint8Array, options?: DetectOptions): Promise<DetectResult>;
  /** Detect in an already preprocessed CHW float32 tensor (benchmarks, custom pipelines). */
  detectTensor(
    tensor: Float32Array,
    options?: Omit<DetectOptions, 'region'>,
  ): Promise<DetectTensorResult>;
  /** Counters since start: how well micro-batching is working, and what is waiting now. */
  stats(): DetectorStats;
  /** Stop accepting work, then finish queued work (`drain`, default) or reject it with
   * DetectorClosedError, and end the worker threads. */
  close(options?: { drain?: boolean }): Promise<void>;
}

/**
 * Load a detector and start its worker pool. Resolves once every session is created and has
 * run a warm-up batch whose output shapes match the manifest (classes, grid).
 */
export async function createDetector(options: DetectorOptions): Promise<Detector> {
  const manifest =
    typeof options.model === 'string' ? await loadDetectorManifest(options.model) : options.model;
  const key = manifest.key;
  const resolved = resolveUserOptions('createDetector', options);
  const { maxBatch, maxDelayMs, maxQueue, limits } = resolved;
  const { size, channels } = manifest.input;
  const { stride } = manifest.output;
  const classes = manifest.classes;
  const grid = size / stride;
  const names = [manifest.output.heatmap, manifest.output.size, manifest.output.offset];
  const expected = [
    [classes.length, grid, grid],
    [2, grid, grid],
    [2, grid, grid],
  ];

  const runtime = await startRuntime({
    ...resolved,
    key,
    noun: 'detector',
    closedError: DetectorClosedError,
    model: await readModelFile(manifest),
    inputName: manifest.input.name,
    outputNames: names,
    shape: [channels, size, size],
    normalize: false,
    checkShapes: (shapes) => {
      expected.forEach((want, k) => {
        const got = shapes[k] ?? [];
        if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
          throw new ModelError(
            `model ${key}: output "${names[k]}" has shape [n, ${got.join(', ')}], the manifest implies [n, ${want.join(', ')}] (${classes.length} classes, input ${size} / stride ${stride} = a ${grid}x${grid} grid)`,
          );
        }
      });
    },
  });
  const tensorSize = runtime.tensorSize;
  const heatmapSize = classes.length * grid * grid;
  const planeSize = 2 * grid * grid;

  const split = (out: Float32Array): DetectorOutputs => ({
    heatmap: out.subarray(0, heatmapSize),
    size: out.subarray(heatmapSize, heatmapSize + planeSize),
    offset: out.subarray(heatmapSize + planeSize, heatmapSize + 2 * planeSize),
  });

  /** The decode settings of one request, or why they are invalid. */
  const settings = (opts: DetectOptions | undefined) => {
    const minScore = opts?.minScore ?? manifest.decode.minScore;
    const maxObjects = opts?.maxObjects ?? manifest.decode.maxObjects;
    if (!(minScore >= 0 && minScore <= 1))
      return new RangeError(`model ${key}: minScore must be in [0, 1], got ${minScore}`);
    if (!Number.isInteger(maxObjects) || maxObjects < 1)
      return new RangeError(
        `model ${key}: maxObjects must be a positive integer, got ${maxObjects}`,
      );
    return { minScore, maxObjects, nmsIoU: manifest.decode.nmsIoU };
  };
  const base: Omit<DecodeParams, 'minScore' | 'maxObjects' | 'nmsIoU' | 'scale'> = {
    classes,
    inputSize: size,
    stride,
  };

  const detect = (bytes: Uint8Array, opts?: DetectOptions): Promise<DetectResult> => {
    const decode = settings(opts);
    if (decode instanceof Error) return Promise.reject(decode);
    return runtime
      .submit(() =>
        preprocessDetectorImage(
          bytes,
          manifest.input,
          opts?.region ? { region: opts.region } : {},
          limits,
          `model ${key}`,
        ),
      )
      .then(({ prepared, output }) => ({
        objects: decodeDetections(split(output), {
          ...base,
          ...decode,
          scale: prepared.scale,
          crop: prepared.crop,
        }),
        image: prepared.image,
        scale: prepared.scale,
      }));
  };

  const detectTensor = (
    tensor: Float32Array,
    opts?: Omit<DetectOptions, 'region'>,
  ): Promise<DetectTensorResult> => {
    if (tensor.length !== tensorSize) {
      return Promise.reject(
        new RangeError(
          `model ${key}: a tensor needs ${tensorSize} floats (${channels}x${size}x${size}), got ${tensor.length}`,
        ),
      );
    }
    const decode = settings(opts);
    if (decode instanceof Error) return Promise.reject(decode);
    return runtime.submitTensor(tensor).then((out) => {
      const outputs = split(out);
      return { objects: decodeDetections(outputs, { ...base, ...decode, scale: 1 }), outputs };
    });
  };

  const info: DetectorInfo = {
    id: manifest.id,
    version: manifest.version,
    key,
    classes,
    executionProvider: runtime.provider,
    workers: runtime.workers,
    threadsPerWorker: runtime.threadsPerWorker,
    maxBatch,
    maxDelayMs,
    maxQueue,
    input: { size, channels },
    output: { grid, stride },
    decode: { ...manifest.decode },
    limits,
  };
  return {
    info,
    detect,
    detectTensor,
    stats: () => runtime.stats(),
    close: ({ drain = true }: { drain?: boolean } = {}) => runtime.close(drain),
  };
}
