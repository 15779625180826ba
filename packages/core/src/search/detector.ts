import { createDetector, type Device, type ImageInfo, type Region } from '@lookalike/inference';

/**
 * What the core needs of a product detector (which boxes of a photo are products): a part of the
 * shape of @lookalike/inference's detectors, structurally, so any object of that shape (the real
 * detector, a test double) can be given to createCore.
 */
export interface DetectedObject {
  /** Integer pixels of the image as displayed (EXIF orientation applied). */
  box: Region;
  score: number;
  classIndex: number;
  /** The detector's class name for classIndex; null when it has none. */
  category: string | null;
}

export interface DetectorInfo {
  id: string;
  version: number;
  /** `${id}-v${version}`: names the detector in answers. */
  key: string;
  classes: readonly string[];
  /** Decoding defaults: objects under minScore are dropped, at most maxObjects kept. */
  decode: { minScore: number; maxObjects: number; nmsIoU: number };
}

export interface DetectOptions {
  region?: Region;
  minScore?: number;
  maxObjects?: number;
}

export interface DetectionResult {
  /** Highest score first. */
  objects: DetectedObject[];
  image: ImageInfo;
  scale: number;
}

export interface Detector {
  readonly info: DetectorInfo;
  /** Throws the embedder's typed errors (CorruptImageError, UnsupportedImageError, ...). */
  detect(bytes: Uint8Array, options?: DetectOptions): Promise<DetectionResult>;
  close(options?: { drain?: boolean }): Promise<void>;
}

export interface LoadDetectorOptions {
  /** A bundled detector id (models/<id>) or a model directory. */
  model: string;
  device?: Device;
  logger?: { warn(message: string): void };
}

/**
 * Load a detector through @lookalike/inference (its createDetector, whose detectors satisfy the
 * interface above: the return type checks it).
 */
export function loadDetector(options: LoadDetectorOptions): Promise<Detector> {
  return createDetector(options);
}
