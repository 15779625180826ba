import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelError } from './errors.js';

/** How an image becomes the model's input tensor. Every field is read by preprocess.ts. */
export interface InputSpec {
  /** ONNX input name. */
  name: string;
  layout: 'NCHW';
  /** Square input side in pixels. */
  size: number;
  channels: 1 | 3 | 4;
  /** `luma-bt601`: one grey channel, 0.299 R + 0.587 G + 0.114 B; `rgb`: three channels;
   * `luma+rgb`: the luma channel of trim-fit-pad, then the same crop's sRGB colours (0-1, not
   * inverted), cropped, fitted and placed like it (four channels; fashion-resnet v2). */
  colour: 'luma-bt601' | 'rgb' | 'luma+rgb';
  /** Colour that transparent pixels are flattened onto. */
  background: 'white' | 'black';
  /** `bright-on-dark`: make the product brighter than its background and subtract the
   * background (how Fashion-MNIST looks); `as-is`: leave pixel values alone. */
  polarity: 'bright-on-dark' | 'as-is';
  /** `trim-fit-pad`: fit the (trimmed) image's longest side to `size` and pad to a square;
   * `resize-crop`: resize the shorter side to `resizeShorter`, centre-crop `size` (ImageNet). */
  fit: 'trim-fit-pad' | 'resize-crop';
  resizeShorter?: number;
  /** Default for EmbedOptions.trim: crop a uniform border before fitting. */
  trim: boolean;
  /** A pixel belongs to the product when its luma differs from the border's median by more
   * than this fraction of the full range. */
  trimTolerance: number;
  /** A row/column is trimmed unless more than this fraction of its pixels are product. */
  trimMinLineFraction: number;
  /** Decoded images are first shrunk (never enlarged) to this size: it bounds the work of the
   * steps that follow, whatever the upload's resolution. For `trim-fit-pad` the longest side, for
   * `resize-crop` the shorter side. */
  workingSize: number;
  /** Per channel, applied to values scaled to [0, 1]. */
  mean: number[];
  std: number[];
}

export interface OutputSpec {
  /** ONNX output name (after `stripClassifier`, the name the feature output is given). */
  name: string;
  dims: number;
  /** L2-normalise each vector (cosine and Euclidean search then agree on the ranking). */
  normalize: boolean;
  /** The file is a classifier: replace its final Gemm/MatMul node by Identity so the pooled
   * feature becomes output `name` (see onnx-graph.ts). */
  stripClassifier?: boolean;
}

export interface MetricThresholds {
  searchThreshold: number;
  matchThreshold: number;
}

export interface ModelManifest {
  id: string;
  version: number;
  description?: string;
  license?: string;
  /** ONNX file, relative to the manifest. */
  file: string;
  /** sha256 of that file, checked on every load. */
  sha256: string;
  bytes?: number;
  input: InputSpec;
  output: OutputSpec;
  classes?: string[];
  metrics?: unknown;
  /** Recommended thresholds (docs/architecture.md conventions: cosine = minimum similarity, euclidean =
   * maximum L2 distance between normalised vectors). */
  defaults?: { cosine?: MetricThresholds; euclidean?: MetricThresholds };
  /** Where `npm run model:fetch` gets the file, for models too large to ship. */
  download?: { url: string; sha256: string; bytes: number; source?: string };
}

/** A manifest read from disk with the absolute paths it refers to. */
export interface LoadedManifest extends ModelManifest {
  /** `${id}-v${version}`: the embedding model key the database uses. */
  key: string;
  dir: string;
  manifestPath: string;
  modelPath: string;
}

const MODELS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'models',
);

/** The repository's `models/` directory (bundled manifests and the committed ONNX files). */
export function modelsDir(): string {
  return MODELS_DIR;
}

/** Directory of a bundled model, e.g. `bundledModelPath('fashion-resnet')`. */
export function bundledModelPath(id: string): string {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(id))
    throw new ModelError(`model id "${id}" is not a valid name`);
  return path.join(MODELS_DIR, id);
}

type Json = Record<string, unknown>;

function fail(where: string, message: string): never {
  throw new ModelError(`${where}: ${message}`);
}

function field<T>(
  obj: Json,
  key: string,
  where: string,
  check: (v: unknown) => v is T,
  what: string,
): T {
  const v = obj[key];
  if (!check(v)) fail(where, `"${key}" must be ${what}, got ${JSON.stringify(v)}`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumbers = (v: unknown): v is number[] => Array.isArray(v) && v.every(isNumber);
const oneOf =
  <T extends string>(...values: T[]) =>
  (v: unknown): v is T =>
    typeof v === 'string' && (values as string[]).includes(v);
const isSha256 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
const isFraction = (v: unknown): v is number => isNumber(v) && v >= 0 && v <= 1;

/** Validate parsed JSON as a manifest; `where` names the model (or file) in every error. */
export function parseManifest(json: unknown, where: string): ModelManifest {
  if (!isObject(json)) fail(where, 'manifest must be a JSON object');
  const id = field(json, 'id', where, isString, 'a non-empty string');
  const version = field(json, 'version', where, isPositiveInt, 'a positive integer');
  const w = `model ${id}-v${version}`;
  if (json.kind !== undefined && json.kind !== 'embedder') {
    fail(
      w,
      json.kind === 'detector'
        ? 'is a detector (kind "detector"), not an embedder: load it with loadDetectorManifest / createDetector'
        : `"kind" must be "embedder" (or absent) for an embedder, got ${JSON.stringify(json.kind)}`,
    );
  }
  const sha256 = field(json, 'sha256', w, isSha256, 'a hex sha256');
  const input = field(json, 'input', w, isObject, 'an object');
  const output = field(json, 'output', w, isObject, 'an object');
  const wi = `${w} input`;
  const channels = field(
    input,
    'channels',
    wi,
    (v): v is 1 | 3 | 4 => v === 1 || v === 3 || v === 4,
    '1, 3 or 4',
  );
  const colour = field(
    input,
    'colour',
    wi,
    oneOf('luma-bt601', 'rgb', 'luma+rgb'),
    '"luma-bt601", "rgb" or "luma+rgb"',
  );
  const wanted = { 'luma-bt601': 1, rgb: 3, 'luma+rgb': 4 }[colour];
  if (channels !== wanted) fail(wi, `colour "${colour}" does not match ${channels} channel(s)`);
  const mean = field(input, 'mean', wi, isNumbers, 'an array of numbers');
  const std = field(input, 'std', wi, isNumbers, 'an array of numbers');
  if (mean.length !== channels || std.length !== channels || std.some((s) => s <= 0)) {
    fail(wi, `mean/std need ${channels} value(s) each, std > 0`);
  }
  const fit = field(
    input,
    'fit',
    wi,
    oneOf('trim-fit-pad', 'resize-crop'),
    '"trim-fit-pad" or "resize-crop"',
  );
  // The pipelines preprocess.ts implements: trim-fit-pad (Fashion-MNIST style, grey or grey +
  // colour) and RGB resize-crop (ImageNet style).
  if ((fit === 'trim-fit-pad') !== (colour !== 'rgb')) {
    fail(
      wi,
      `fit "${fit}" is implemented for ${fit === 'trim-fit-pad' ? 'luma-bt601 or luma+rgb' : 'rgb'} input only`,
    );
  }
  const size = field(input, 'size', wi, isPositiveInt, 'a positive integer');
  const resizeShorter = input.resizeShorter;
  if (fit === 'resize-crop' && !(isPositiveInt(resizeShorter) && resizeShorter >= size)) {
    fail(wi, '"resizeShorter" must be an integer >= size for fit "resize-crop"');
  }
  const workingSize = field(input, 'workingSize', wi, isPositiveInt, 'a positive integer');
  if (workingSize < size) fail(wi, '"workingSize" must be >= size');
  const manifest: ModelManifest = {
    id,
    version,
    file: field(json, 'file', w, isString, 'a file name'),
    sha256,
    input: {
      name: field(input, 'name', wi, isString, 'a non-empty string'),
      layout: field(input, 'layout', wi, oneOf('NCHW'), '"NCHW"'),
      size,
      channels,
      colour,
      background: field(input, 'background', wi, oneOf('white', 'black'), '"white" or "black"'),
      polarity: field(
        input,
        'polarity',
        wi,
        oneOf('bright-on-dark', 'as-is'),
        '"bright-on-dark" or "as-is"',
      ),
      fit,
      ...(isPositiveInt(resizeShorter) ? { resizeShorter } : {}),
      trim: field(input, 'trim', wi, isBoolean, 'a boolean'),
      trimTolerance: field(input, 'trimTolerance', wi, isNumber, 'a number'),
      trimMinLineFraction: field(input, 'trimMinLineFraction', wi, isNumber, 'a number'),
      workingSize,
      mean,
      std,
    },
    output: {
      name: field(output, 'name', `${w} output`, isString, 'a non-empty string'),
      dims: field(output, 'dims', `${w} output`, isPositiveInt, 'a positive integer'),
      normalize: field(output, 'normalize', `${w} output`, isBoolean, 'a boolean'),
      ...(output.stripClassifier === true ? { stripClassifier: true } : {}),
    },
  };
  for (const key of ['description', 'license'] as const) {
    if (isString(json[key])) manifest[key] = json[key];
  }
  if (isPositiveInt(json.bytes)) manifest.bytes = json.bytes;
  if (Array.isArray(json.classes)) manifest.classes = json.classes.filter(isString);
  if (json.metrics !== undefined) manifest.metrics = json.metrics;
  if (isObject(json.defaults)) manifest.defaults = json.defaults;
  if (isObject(json.download)) {
    const d = json.download;
    manifest.download = {
      url: field(d, 'url', `${w} download`, isString, 'a URL'),
      sha256: field(d, 'sha256', `${w} download`, isSha256, 'a hex sha256'),
      bytes: field(d, 'bytes', `${w} download`, isPositiveInt, 'a positive integer'),
      ...(isString(d.source) ? { source: d.source } : {}),
    };
  }
  return manifest;
}

/** Where a manifest lives: a model directory, a `model.json` path, or a bundled model's id. */
function manifestPathOf(location: string): string {
  if (location.endsWith('.json')) return path.resolve(location);
  if (!location.includes('/') && !location.includes(path.sep) && !existsSync(location)) {
    return path.join(bundledModelPath(location), 'model.json');
  }
  return path.join(path.resolve(location), 'model.json');
}

async function readManifestJson(
  location: string,
): Promise<{ manifestPath: string; json: unknown }> {
  const manifestPath = manifestPathOf(location);
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (cause) {
    throw new ModelError(`model manifest ${manifestPath} cannot be read`, { cause });
  }
  try {
    return { manifestPath, json: JSON.parse(text) };
  } catch (cause) {
    throw new ModelError(`model manifest ${manifestPath} is not valid JSON`, { cause });
  }
}

function located<M extends { id: string; version: number; file: string }>(
  manifest: M,
  manifestPath: string,
) {
  const dir = path.dirname(manifestPath);
  return {
    ...manifest,
    key: `${manifest.id}-v${manifest.version}`,
    dir,
    manifestPath,
    modelPath: path.resolve(dir, manifest.file),
  };
}

/**
 * Read and validate an embedder's manifest. `location` is a model directory, a `model.json`
 * path, or the id of a bundled model (`'fashion-resnet'`). Does not read the ONNX file (see
 * `readModelFile`).
 */
export async function loadManifest(location: string): Promise<LoadedManifest> {
  const { manifestPath, json } = await readManifestJson(location);
  return located(parseManifest(json, `model manifest ${manifestPath}`), manifestPath);
}

// ------------------------------------------------------------------------------- detectors

/** How an image becomes a detector's input tensor (detect-preprocess.ts reads every field). */
export interface DetectorInputSpec {
  /** ONNX input name. */
  name: string;
  layout: 'NCHW';
  /** Square input side in pixels. */
  size: number;
  channels: 3;
  colour: 'rgb';
  /** `letterbox`: resize so the longer side is `size` (small images are enlarged), place the
   * picture at the top left of a `size` x `size` canvas, fill the rest with `pad`. Boxes then
   * map back to the image by one scale factor and no offset. */
  fit: 'letterbox';
  /** Per channel, in [0, 1]: the canvas outside the picture, before normalisation. */
  pad: number[];
  /** Colour that transparent pixels are flattened onto (default white, as product shots). */
  background: 'white' | 'black';
  /** Per channel, applied to values scaled to [0, 1]. */
  mean: number[];
  std: number[];
}

/** The detector's ONNX outputs, CenterNet style: per class a heatmap of object centres on a
 * grid of `size / stride` cells (non-peaks already zeroed in the graph), and at each cell the
 * box size (fractions of the input side) and the centre's offset inside the cell (in cells). */
export interface DetectorOutputSpec {
  heatmap: string;
  size: string;
  offset: string;
  /** Input pixels per grid cell. */
  stride: number;
}

/** How peaks become objects unless a request says otherwise. */
export interface DecodeDefaults {
  /** Peaks scoring below this are not objects. */
  minScore: number;
  /** Most objects per image. */
  maxObjects: number;
  /** A box overlapping an already kept one by more than this IoU is dropped (class-agnostic). */
  nmsIoU: number;
}

export interface DetectorManifest {
  id: string;
  version: number;
  kind: 'detector';
  description?: string;
  license?: string;
  /** ONNX file, relative to the manifest. */
  file: string;
  /** sha256 of that file, checked on every load. */
  sha256: string;
  bytes?: number;
  input: DetectorInputSpec;
  output: DetectorOutputSpec;
  /** Category names, in the order of the heatmap's channels. */
  classes: string[];
  decode: DecodeDefaults;
  metrics?: unknown;
}

/** A detector manifest read from disk with the absolute paths it refers to. */
export interface LoadedDetectorManifest extends DetectorManifest {
  /** `${id}-v${version}`. */
  key: string;
  dir: string;
  manifestPath: string;
  modelPath: string;
}

const numbers3 = (v: unknown): v is number[] => isNumbers(v) && v.length === 3;

/** Validate parsed JSON as a detector manifest; `where` names the file in the first errors,
 * the model in the rest. */
export function parseDetectorManifest(json: unknown, where: string): DetectorManifest {
  if (!isObject(json)) fail(where, 'manifest must be a JSON object');
  const id = field(json, 'id', where, isString, 'a non-empty string');
  const version = field(json, 'version', where, isPositiveInt, 'a positive integer');
  const w = `model ${id}-v${version}`;
  if (json.kind !== 'detector') {
    fail(
      w,
      json.kind === undefined || json.kind === 'embedder'
        ? `is an embedder (${json.kind === undefined ? 'no "kind"' : 'kind "embedder"'}), not a detector: load it with loadManifest / createEmbedder`
        : `"kind" must be "detector" for a detector, got ${JSON.stringify(json.kind)}`,
    );
  }
  const sha256 = field(json, 'sha256', w, isSha256, 'a hex sha256');
  const file = field(json, 'file', w, isString, 'a file name');
  const input = field(json, 'input', w, isObject, 'an object');
  const output = field(json, 'output', w, isObject, 'an object');
  const decode = field(json, 'decode', w, isObject, 'an object');
  const wi = `${w} input`;
  const size = field(input, 'size', wi, isPositiveInt, 'a positive integer');
  const mean = field(input, 'mean', wi, numbers3, 'an array of 3 numbers');
  const std = field(input, 'std', wi, numbers3, 'an array of 3 numbers');
  if (std.some((s) => s <= 0)) fail(wi, '"std" values must be > 0');
  const pad = field(
    input,
    'pad',
    wi,
    (v): v is number[] => numbers3(v) && v.every(isFraction),
    'an array of 3 numbers in [0, 1]',
  );
  const background =
    input.background === undefined
      ? 'white'
      : field(input, 'background', wi, oneOf('white', 'black'), '"white" or "black"');
  const wo = `${w} output`;
  const stride = field(output, 'stride', wo, isPositiveInt, 'a positive integer');
  if (size % stride !== 0) fail(wo, `"stride" ${stride} must divide the input size ${size}`);
  const classes = field(
    json,
    'classes',
    w,
    (v): v is string[] => Array.isArray(v) && v.length > 0 && v.every(isString),
    'a non-empty array of category names',
  );
  const wd = `${w} decode`;
  const manifest: DetectorManifest = {
    id,
    version,
    kind: 'detector',
    file,
    sha256,
    input: {
      name: field(input, 'name', wi, isString, 'a non-empty string'),
      layout: field(input, 'layout', wi, oneOf('NCHW'), '"NCHW"'),
      size,
      channels: field(input, 'channels', wi, (v): v is 3 => v === 3, '3'),
      colour: field(input, 'colour', wi, oneOf('rgb'), '"rgb"'),
      fit: field(input, 'fit', wi, oneOf('letterbox'), '"letterbox"'),
      pad,
      background,
      mean,
      std,
    },
    output: {
      heatmap: field(output, 'heatmap', wo, isString, 'an output name'),
      size: field(output, 'size', wo, isString, 'an output name'),
      offset: field(output, 'offset', wo, isString, 'an output name'),
      stride,
    },
    classes,
    decode: {
      minScore: field(decode, 'minScore', wd, isFraction, 'a number in [0, 1]'),
      maxObjects: field(decode, 'maxObjects', wd, isPositiveInt, 'a positive integer'),
      nmsIoU: field(decode, 'nmsIoU', wd, isFraction, 'a number in [0, 1]'),
    },
  };
  for (const key of ['description', 'license'] as const) {
    if (isString(json[key])) manifest[key] = json[key];
  }
  if (isPositiveInt(json.bytes)) manifest.bytes = json.bytes;
  if (json.metrics !== undefined) manifest.metrics = json.metrics;
  return manifest;
}

/**
 * Read and validate a detector's manifest: a model directory, a `model.json` path, or the id
 * of a bundled model (`'product-detector'`). Does not read the ONNX file (see `readModelFile`).
 */
export async function loadDetectorManifest(location: string): Promise<LoadedDetectorManifest> {
  const { manifestPath, json } = await readManifestJson(location);
  return located(parseDetectorManifest(json, `model manifest ${manifestPath}`), manifestPath);
}

/** sha256 of a byte array, hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** What readModelFile needs of a loaded manifest (an embedder's or a detector's). */
export type ModelFileRef = Pick<LoadedManifest, 'id' | 'key' | 'modelPath' | 'sha256'> & {
  download?: ModelManifest['download'];
};

/** Read the ONNX file and verify its sha256 against the manifest. */
export async function readModelFile(manifest: ModelFileRef): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    await stat(manifest.modelPath);
    bytes = await readFile(manifest.modelPath);
  } catch (cause) {
    const hint = manifest.download
      ? ` (download it with: npm run model:fetch -- ${manifest.id})`
      : '';
    throw new ModelError(
      `model ${manifest.key}: ONNX file ${manifest.modelPath} cannot be read${hint}`,
      { cause },
    );
  }
  const actual = sha256Hex(bytes);
  if (actual !== manifest.sha256) {
    throw new ModelError(
      `model ${manifest.key}: ${manifest.modelPath} has sha256 ${actual}, the manifest expects ${manifest.sha256}; refusing to load it`,
    );
  }
  return bytes;
}
