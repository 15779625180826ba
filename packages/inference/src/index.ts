// The public API of @lookalike/inference: one entry, named exports (docs/architecture.md).
export {
  createEmbedder,
  type Device,
  type EmbedBatchItem,
  type EmbedBatchResult,
  type Embedder,
  type EmbedderInfo,
  type EmbedderOptions,
  type EmbedderStats,
  type EmbedResult,
} from './embedder.js';
export {
  BusyError,
  CorruptImageError,
  DeviceUnavailableError,
  EmbedderClosedError,
  ImageTooLargeError,
  InferenceError,
  InvalidRegionError,
  ModelError,
  UnsupportedImageError,
} from './errors.js';
export {
  bundledModelPath,
  loadManifest,
  modelsDir,
  parseManifest,
  readModelFile,
  sha256Hex,
  type InputSpec,
  type LoadedManifest,
  type MetricThresholds,
  type ModelManifest,
  type OutputSpec,
} from './manifest.js';
export {
  DEFAULT_LIMITS,
  inspectImage,
  preprocessImage,
  type EmbedOptions,
  type ImageInfo,
  type ImageLimits,
  type Preprocessed,
  type Region,
} from './preprocess.js';
export { sniffImageType, SUPPORTED_MIME_TYPES, type ImageMime } from './sniff.js';
