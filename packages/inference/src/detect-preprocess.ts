/* eslint-disable @typescript-eslint/no-non-null-assertion -- the pixel loop reads a typed array
   at indices that are in range by construction. */
// Bytes -> a detector's input: the letterbox of tools/model/train_detector.py (`letterbox`),
// through the same decoder, limits and typed errors as every embedder (preprocess.ts).
import type { DetectorInputSpec } from './manifest.js';
import {
  clampRegion,
  decodeRgb,
  DEFAULT_LIMITS,
  inspectImage,
  type Crop,
  type ImageInfo,
  type ImageLimits,
  type Region,
} from './preprocess.js';

export interface DetectorPreprocessed {
  /** CHW float32, ready to join a batch. */
  tensor: Float32Array;
  image: ImageInfo;
  /** Input pixels per image pixel: `size / max(width, height)` of the crop. */
  scale: number;
  /** The part of the image the input shows (the whole image without a region), in displayed
   * pixels. */
  crop: Crop;
  /** Where the picture lies in the input: [0, width) x [0, height), the rest is padding. */
  resized: { width: number; height: number };
}

/** Python's round(): halves go to the even neighbour. The reference sizes the letterbox with it,
 * and e.g. a 5-pixel side scaled by 0.5 must become 2 pixels here too, not 3. */
export function roundHalfEven(v: number): number {
  const floor = Math.floor(v);
  const d = v - floor;
  if (d !== 0.5) return Math.round(v);
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Decode (EXIF orientation, optional region in displayed coordinates, alpha flattened, 8-bit
 * sRGB), resize so the longer side is `size` (enlarging small images too), place at the top
 * left of a `size` x `size` canvas filled with `pad`, scale to [0, 1] and normalise per
 * channel. `where` prefixes error messages (the detector passes the model key).
 */
export async function preprocessDetectorImage(
  bytes: Uint8Array,
  spec: DetectorInputSpec,
  options: { region?: Region } = {},
  limits: ImageLimits = DEFAULT_LIMITS,
  where = 'image',
): Promise<DetectorPreprocessed> {
  const image = await inspectImage(bytes, limits, where);
  const crop = options.region
    ? clampRegion(options.region, image.width, image.height, where)
    : { left: 0, top: 0, width: image.width, height: image.height };
  const size = spec.size;
  const scale = size / Math.max(crop.width, crop.height);
  const width = Math.min(size, Math.max(1, roundHalfEven(crop.width * scale)));
  const height = Math.min(size, Math.max(1, roundHalfEven(crop.height * scale)));
  const whole = crop.width === image.width && crop.height === image.height;
  const rgb = await decodeRgb(
    bytes,
    {
      ...(whole ? {} : { crop }),
      background: spec.background,
      // PIL's BILINEAR in the reference is a triangle filter widened when shrinking, as
      // libvips' linear kernel is. An image already at its letterbox size is not resampled.
      ...(width === crop.width && height === crop.height
        ? {}
        : { resize: { width, height, fit: 'fill' as const, kernel: 'linear' as const } }),
    },
    limits,
    where,
  );
  if (rgb.width !== width || rgb.height !== height) {
    throw new Error(
      `${where}: decoded ${rgb.width}x${rgb.height}, expected ${width}x${height} (a bug)`,
    );
  }
  const plane = size * size;
  const tensor = new Float32Array(3 * plane);
  const d = rgb.data;
  for (let c = 0; c < 3; c++) {
    const mean = spec.mean[c]!;
    const std = spec.std[c]!;
    const out = tensor.subarray(c * plane, (c + 1) * plane);
    out.fill((spec.pad[c]! - mean) / std);
    for (let y = 0; y < height; y++) {
      const row = y * width * 3 + c;
      for (let x = 0; x < width; x++) out[y * size + x] = (d[row + 3 * x]! / 255 - mean) / std;
    }
  }
  return { tensor, image, scale, crop, resized: { width, height } };
}
