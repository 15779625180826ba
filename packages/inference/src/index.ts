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
  decodeDetections,
  type DecodeParams,
  type DetectedObject,
  type DetectorOutputs,
} from './detect-decode.js';
export { preprocessDetectorImage, type DetectorPreprocessed } from './detect-preprocess.js';
export {
  createDetector,
  type DetectOptions,
  type DetectResult,
  type Detector,
  type DetectorInfo,
  type DetectorOptions,
  type DetectorStats,
  type DetectTensorResult,
} from './detector.js';
export {
  BusyError,
  CorruptImageError,
  DetectorClosedError,
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
  loadDetectorManifest,
  loadManifest,
  modelsDir,
  parseDetectorManifest,
  parseManifest,
  readModelFile,
  sha256Hex,
  type DecodeDefaults,
  type DetectorInputSpec,
  type DetectorManifest,
  type DetectorOutputSpec,
  type InputSpec,
  type LoadedDetectorManifest,
  type LoadedManifest,
  type MetricThresholds,
  type ModelFileRef,
  type ModelManifest,
  type OutputSpec,
} from './manifest.js';
export {
  DEFAULT_LIMITS,
  inspectImage,
  preprocessImage,
  type EmbedOptions,
  type ImageInfo,
  type Crop,
  type ImageLimits,
  type Preprocessed,
  type Region,
} from './preprocess.js';
export { sniffImageType, SUPPORTED_MIME_TYPES, type ImageMime } from './sniff.js';
