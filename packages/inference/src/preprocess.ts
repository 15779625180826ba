/* eslint-disable @typescript-eslint/no-non-null-assertion -- pixel loops read typed arrays at
   indices that are in range by construction; noUncheckedIndexedAccess would otherwise type every
   read as `number | undefined`. */
import sharp, { type Metadata, type ResizeOptions } from 'sharp';
import {
  CorruptImageError,
  ImageTooLargeError,
  InvalidRegionError,
  UnsupportedImageError,
} from './errors.js';
import type { InputSpec } from './manifest.js';
import { resizePlane } from './resize.js';
import { sniffImageType, SUPPORTED_MIME_TYPES, type ImageMime } from './sniff.js';

/** A rectangle in the pixel coordinates of the image as displayed (after EXIF orientation). */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface EmbedOptions {
  /** Embed only this part of the image: a shopper's box around the product. Clamped to the
   * image; an empty or fully outside region is an InvalidRegionError. */
  region?: Region;
  /** Crop a uniform background border before fitting (default: the model manifest's `trim`). */
  trim?: boolean;
}

export interface ImageLimits {
  /** Largest accepted input, bytes. */
  maxBytes: number;
  /** Largest accepted width x height, checked from the header before any pixel is decoded. */
  maxPixels: number;
  /** Sniffed types that are accepted. */
  allowedTypes: readonly ImageMime[];
}

/** 25 MB covers phone photos (typically 2-8 MB as JPEG, up to ~20 MB as PNG) with room to
 * spare; 50 megapixels covers 48 MP phone cameras (8000 x 6000). Above that the decode alone
 * would hold 150+ MB of RGB per request. */
export const DEFAULT_LIMITS: ImageLimits = {
  maxBytes: 25 * 1024 * 1024,
  maxPixels: 50_000_000,
  allowedTypes: SUPPORTED_MIME_TYPES,
};

/** What the decoder learnt about an upload, as displayed (EXIF orientation applied). */
export interface ImageInfo {
  mime: ImageMime;
  width: number;
  height: number;
  /** The sharp/libvips format name, e.g. 'jpeg', 'heif'. */
  format: string;
  channels: number;
  hasAlpha: boolean;
  /** EXIF orientation tag (1-8) when present. */
  orientation?: number;
  /** Sample format as stored, e.g. 'uchar' or 'ushort' (16-bit). */
  depth: string;
  /** Colour space as stored, e.g. 'srgb', 'b-w', 'cmyk'. */
  space: string;
}

export interface Preprocessed {
  /** CHW float32, ready to join a batch. */
  tensor: Float32Array;
  image: ImageInfo;
}

const PIXEL_LIMIT_MESSAGE = /pixel limit/i;

function checkHeaderPixels(
  width: number,
  height: number,
  limits: ImageLimits,
  where: string,
): void {
  const pixels = width * height;
  if (pixels > limits.maxPixels) {
    throw new ImageTooLargeError(
      `${where}: image is ${width}x${height} = ${pixels} pixels, the limit is ${limits.maxPixels}`,
      { limit: limits.maxPixels, actual: pixels, unit: 'pixels' },
    );
  }
}

function decodeError(cause: unknown, where: string): Error {
  const message = cause instanceof Error ? cause.message : String(cause);
  if (PIXEL_LIMIT_MESSAGE.test(message)) {
    return new ImageTooLargeError(`${where}: ${message}`, { limit: 0, actual: 0, unit: 'pixels' });
  }
  return new CorruptImageError(`${where}: the image cannot be decoded (${message.trim()})`, {
    cause,
  });
}

/**
 * Check an upload without decoding its pixels: size limit, sniffed type, header dimensions and
 * the pixel limit. Throws the typed errors; returns what the API needs to answer early.
 */
export async function inspectImage(
  bytes: Uint8Array,
  limits: ImageLimits = DEFAULT_LIMITS,
  where = 'image',
): Promise<ImageInfo> {
  if (bytes.length === 0) throw new CorruptImageError(`${where}: the upload is empty (0 bytes)`);
  if (bytes.length > limits.maxBytes) {
    throw new ImageTooLargeError(
      `${where}: ${bytes.length} bytes, the limit is ${limits.maxBytes}`,
      {
        limit: limits.maxBytes,
        actual: bytes.length,
        unit: 'bytes',
      },
    );
  }
  const mime = sniffImageType(bytes);
  if (mime === null) {
    throw new UnsupportedImageError(
      `${where}: not a supported image (accepted: ${limits.allowedTypes.join(', ')})`,
      null,
    );
  }
  if (!limits.allowedTypes.includes(mime)) {
    throw new UnsupportedImageError(
      `${where}: ${mime} is not accepted (accepted: ${limits.allowedTypes.join(', ')})`,
      mime,
    );
  }
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false, failOn: 'error' }).metadata();
  } catch (cause) {
    throw decodeError(cause, where);
  }
  if (!meta.width || !meta.height)
    throw new CorruptImageError(`${where}: the header has no dimensions`);
  checkHeaderPixels(meta.width, meta.height, limits, where);
  // Orientations 5-8 swap width and height.
  const swap = meta.orientation !== undefined && meta.orientation >= 5;
  return {
    mime,
    width: swap ? meta.height : meta.width,
    height: swap ? meta.width : meta.height,
    format: meta.format,
    channels: meta.channels,
    hasAlpha: meta.hasAlpha,
    ...(meta.orientation !== undefined ? { orientation: meta.orientation } : {}),
    depth: meta.depth,
    space: meta.space,
  };
}

/** A rectangle of whole pixels inside the image, as sharp's `extract` takes it. */
export interface Crop {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A region clamped to the image and widened to whole pixels (floor the left/top, ceil the
 * right/bottom); an empty or fully outside region is an InvalidRegionError. */
export function clampRegion(region: Region, width: number, height: number, where: string): Crop {
  const { x, y, width: w, height: h } = region;
  if (![x, y, w, h].every(Number.isFinite))
    throw new InvalidRegionError(`${where}: region must be finite numbers`);
  const left = Math.max(0, Math.floor(x));
  const top = Math.max(0, Math.floor(y));
  const right = Math.min(width, Math.ceil(x + w));
  const bottom = Math.min(height, Math.ceil(y + h));
  if (w <= 0 || h <= 0 || right <= left || bottom <= top) {
    throw new InvalidRegionError(
      `${where}: region ${JSON.stringify(region)} does not overlap the ${width}x${height} image`,
    );
  }
  return { left, top, width: right - left, height: bottom - top };
}

/** Decoded 8-bit sRGB pixels, interleaved RGB. */
export interface DecodedRgb {
  data: Uint8Array;
  width: number;
  height: number;
}

type Rgb = DecodedRgb;

export interface DecodeRgbOptions {
  /** Cut this part out first (displayed coordinates, after EXIF orientation). */
  crop?: Crop;
  /** Colour that transparent pixels are flattened onto. */
  background: 'white' | 'black';
  /** Resize after cropping; none leaves the pixels as decoded. */
  resize?: ResizeOptions & { width: number; height: number };
}

/** Decode to 8-bit sRGB: orientation, crop, alpha flattened, resize, colour management (CMYK,
 * ICC profiles, 16-bit and grey all end up as 8-bit sRGB). The one decoder of every model's
 * preprocessing, so that they all treat uploads alike. */
export async function decodeRgb(
  bytes: Uint8Array,
  options: DecodeRgbOptions,
  limits: ImageLimits,
  where: string,
): Promise<DecodedRgb> {
  try {
    // autoOrient as a constructor option applies the EXIF rotation at load, so `extract`
    // below works in the coordinates the user sees.
    let img = sharp(bytes, {
      limitInputPixels: limits.maxPixels,
      failOn: 'error',
      autoOrient: true,
    });
    if (options.crop) img = img.extract(options.crop);
    img = img.flatten({ background: options.background === 'white' ? '#ffffff' : '#000000' });
    if (options.resize) img = img.resize(options.resize);
    const { data, info: out } = await img
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (out.channels !== 3)
      throw new Error(`expected 3 channels after conversion, got ${out.channels}`);
    return { data, width: out.width, height: out.height };
  } catch (cause) {
    throw decodeError(cause, where);
  }
}

/** Decode at the embedder's working size (shrunk, never enlarged). */
function decodeWorking(
  bytes: Uint8Array,
  info: ImageInfo,
  spec: InputSpec,
  region: Region | undefined,
  limits: ImageLimits,
  where: string,
): Promise<Rgb> {
  const crop = region ? clampRegion(region, info.width, info.height, where) : undefined;
  return decodeRgb(
    bytes,
    {
      ...(crop ? { crop } : {}),
      background: spec.background,
      resize: {
        width: spec.workingSize,
        height: spec.workingSize,
        fit: spec.fit === 'trim-fit-pad' ? 'inside' : 'outside',
        withoutEnlargement: true,
      },
    },
    limits,
    where,
  );
}

function luma(rgb: Rgb): Float64Array {
  const n = rgb.width * rgb.height;
  const g = new Float64Array(n);
  const d = rgb.data;
  for (let i = 0; i < n; i++)
    g[i] = 0.299 * d[3 * i]! + 0.587 * d[3 * i + 1]! + 0.114 * d[3 * i + 2]!;
  return g;
}

/** Lower median of the outermost ring of pixels: the background level. */
function borderMedian(g: Float64Array, w: number, h: number): number {
  const ring: number[] = [];
  if (w <= 1 || h <= 1) ring.push(...g);
  else {
    for (let x = 0; x < w; x++) ring.push(g[x]!);
    for (let x = 0; x < w; x++) ring.push(g[(h - 1) * w + x]!);
    for (let y = 1; y < h - 1; y++) ring.push(g[y * w]!);
    for (let y = 1; y < h - 1; y++) ring.push(g[y * w + w - 1]!);
  }
  ring.sort((a, b) => a - b);
  return ring[Math.floor((ring.length - 1) / 2)]!;
}

interface Box {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Pixels that differ from the background, and the box of rows/columns that hold enough of them. */
function analyse(g: Float64Array, w: number, h: number, spec: InputSpec) {
  const bg = borderMedian(g, w, h);
  const tol = spec.trimTolerance * 255;
  const rowCount = new Int32Array(h);
  const colCount = new Int32Array(w);
  let count = 0;
  let sum = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = g[y * w + x]!;
      if (Math.abs(v - bg) > tol) {
        rowCount[y]!++;
        colCount[x]!++;
        count++;
        sum += v;
      }
    }
  }
  let box: Box | null = null;
  if (count > 0) {
    const rows: number[] = [];
    const cols: number[] = [];
    for (let y = 0; y < h; y++) if (rowCount[y]! > spec.trimMinLineFraction * w) rows.push(y);
    for (let x = 0; x < w; x++) if (colCount[x]! > spec.trimMinLineFraction * h) cols.push(x);
    if (rows.length > 0 && cols.length > 0) {
      box = {
        top: rows[0]!,
        bottom: rows[rows.length - 1]! + 1,
        left: cols[0]!,
        right: cols[cols.length - 1]! + 1,
      };
    }
  }
  return { bg, contentDarker: count > 0 && sum / count < bg, box };
}

/** The bundled model's pipeline; tools/model/preprocess.py is its twin, step for step. */
function trimFitPad(rgb: Rgb, spec: InputSpec, trim: boolean): Float32Array {
  const { width: w, height: h } = rgb;
  const g = luma(rgb);
  const { bg: bg0, contentDarker, box } = analyse(g, w, h, spec);
  let bg = bg0;
  if (spec.polarity === 'bright-on-dark') {
    // Product brighter than its background, like Fashion-MNIST (negated catalog photos).
    if (contentDarker) {
      for (let i = 0; i < g.length; i++) g[i] = 255 - g[i]!;
      bg = 255 - bg;
    }
    // Background subtraction with a contrast stretch: off-white or grey backgrounds go black.
    const range = Math.max(255 - bg, 1);
    for (let i = 0; i < g.length; i++) g[i] = Math.min(Math.max((g[i]! - bg) / range, 0), 1);
  } else {
    for (let i = 0; i < g.length; i++) g[i] = g[i]! / 255;
  }
  const b = trim && box ? box : { top: 0, bottom: h, left: 0, right: w };
  const cw = b.right - b.left;
  const ch = b.bottom - b.top;
  const crop = new Float64Array(cw * ch);
  for (let y = 0; y < ch; y++) {
    crop.set(g.subarray((b.top + y) * w + b.left, (b.top + y) * w + b.right), y * cw);
  }
  const size = spec.size;
  const longest = Math.max(cw, ch);
  const th = Math.max(1, Math.floor((ch * size) / longest + 0.5));
  const tw = Math.max(1, Math.floor((cw * size) / longest + 0.5));
  const fitted = resizePlane(crop, cw, ch, tw, th);
  const y0 = Math.floor((size - th) / 2);
  const x0 = Math.floor((size - tw) / 2);
  const mean = spec.mean[0]!;
  const std = spec.std[0]!;
  const plane = size * size;
  const out = new Float32Array(plane * spec.channels);
  // Padding is background: 0 before normalisation.
  out.fill((0 - mean) / std, 0, plane);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) out[(y0 + y) * size + x0 + x] = (fitted[y * tw + x]! - mean) / std;
  }
  if (spec.colour === 'luma+rgb') {
    // The same crop's own colours (0-1 sRGB, padding 0): the model weights them by the luma
    // channel, so only the product's pixels count (tools/model/build_fashion_resnet_v2.py).
    const channel = new Float64Array(cw * ch);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < ch; y++) {
        const row = ((b.top + y) * w + b.left) * 3 + c;
        for (let x = 0; x < cw; x++) channel[y * cw + x] = rgb.data[row + 3 * x]! / 255;
      }
      const fittedC = resizePlane(channel, cw, ch, tw, th);
      const m = spec.mean[c + 1]!;
      const sd = spec.std[c + 1]!;
      const base = (c + 1) * plane;
      out.fill((0 - m) / sd, base, base + plane);
      for (let y = 0; y < th; y++) {
        for (let x = 0; x < tw; x++)
          out[base + (y0 + y) * size + x0 + x] = (fittedC[y * tw + x]! - m) / sd;
      }
    }
  }
  return out;
}

/** ImageNet-style: (trim), resize the shorter side, centre crop, per-channel mean/std. */
async function resizeCrop(rgb: Rgb, spec: InputSpec, trim: boolean): Promise<Float32Array> {
  let img = sharp(rgb.data, { raw: { width: rgb.width, height: rgb.height, channels: 3 } });
  if (trim) {
    const { box } = analyse(luma(rgb), rgb.width, rgb.height, spec);
    if (box)
      img = img.extract({
        left: box.left,
        top: box.top,
        width: box.right - box.left,
        height: box.bottom - box.top,
      });
  }
  const shorter = spec.resizeShorter ?? spec.size;
  const { data, info } = await img
    .resize(shorter, shorter, { fit: 'outside' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const size = spec.size;
  const left = Math.floor((info.width - size) / 2);
  const top = Math.floor((info.height - size) / 2);
  const out = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    const mean = spec.mean[c]!;
    const std = spec.std[c]!;
    const plane = c * size * size;
    for (let y = 0; y < size; y++) {
      const row = ((top + y) * info.width + left) * 3 + c;
      for (let x = 0; x < size; x++)
        out[plane + y * size + x] = (data[row + 3 * x]! / 255 - mean) / std;
    }
  }
  return out;
}

/**
 * Bytes -> the model's CHW float32 input, exactly as the model was trained to see it.
 * `where` prefixes error messages (the embedder passes the model key).
 */
export async function preprocessImage(
  bytes: Uint8Array,
  spec: InputSpec,
  options: EmbedOptions = {},
  limits: ImageLimits = DEFAULT_LIMITS,
  where = 'image',
): Promise<Preprocessed> {
  const image = await inspectImage(bytes, limits, where);
  const rgb = await decodeWorking(bytes, image, spec, options.region, limits, where);
  const trim = options.trim ?? spec.trim;
  const tensor =
    spec.fit === 'trim-fit-pad' ? trimFitPad(rgb, spec, trim) : await resizeCrop(rgb, spec, trim);
  return { tensor, image };
}
