const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/**
 * How much one catalog import may ask of the server. Every limit is a whole-file refusal
 * (`ImportFileError`) except `maxImagesPerProduct`, which fails only the row that breaks it.
 */
export interface ImportLimits {
  /** Bytes of the uploaded file (the archive itself for a ZIP, and its catalog entry). */
  maxBytes: number;
  /** Data rows (CSV header not counted; non-empty JSONL lines). */
  maxRows: number;
  /** Images one product may list; more fails the row with TOO_MANY_IMAGES. */
  maxImagesPerProduct: number;
  /** Entries a ZIP's central directory may declare, directories included. */
  maxZipEntries: number;
  /** The sum of the uncompressed sizes a ZIP's entries declare. */
  maxZipExpandedBytes: number;
  /** The uncompressed size one image entry of a ZIP may declare (the catalog gets `maxBytes`). */
  maxZipEntryBytes: number;
  /** Declared uncompressed size over compressed size, checked for entries over 64 KiB. */
  maxCompressionRatio: number;
}

export const DEFAULT_IMPORT_LIMITS: Readonly<ImportLimits> = Object.freeze({
  // The whole file is held in memory while it is parsed, so this bounds one import's memory;
  // 100 MiB is a 50,000-row CSV with long descriptions, or a ZIP of a few hundred photos.
  maxBytes: 100 * MiB,
  // Every row becomes a product whose images are fetched and embedded; 50,000 keeps one
  // import to a job that ends in minutes. Larger catalogs are imported in several files.
  maxRows: 50_000,
  // Each image is stored, thumbnailed and embedded: 10 covers a product gallery and bounds a
  // row's cost to 10 embeddings.
  maxImagesPerProduct: 10,
  // yauzl keeps one small record per entry while we look for the catalog; 20,000 bounds that
  // metadata and the number of files one archive can hand to storage. Bigger image sets should
  // be referenced by URL.
  maxZipEntries: 20_000,
  // What the archive may expand to in total, images handed to storage included: 1 GiB is ten
  // times the upload limit (photos barely compress) and still fits on a small disk.
  maxZipExpandedBytes: 1 * GiB,
  // A single product photo: 20 MiB covers a 50-megapixel JPEG and stays under the image
  // decoder's own 25 MiB limit (@lookalike/inference preprocess DEFAULT_LIMITS), so an image
  // accepted here is not refused later for its size.
  maxZipEntryBytes: 20 * MiB,
  // JPEG and PNG hardly compress (about 1:1) and CSV text about 1:10; deflate can reach about
  // 1:1000, which is what a zip bomb uses. 200 leaves room for flat-colour PNGs and BMPs.
  maxCompressionRatio: 200,
});

/**
 * Per-field limits of an imported product. Not configurable: they are the sizes the catalog's
 * columns and the dashboard are built for, whichever door the product comes through.
 */
export const FIELD_LIMITS = Object.freeze({
  externalId: 256,
  title: 500,
  description: 10_000,
  category: 200,
  url: 2048,
  labelKeys: 50,
  labelDepth: 5,
  labelBytes: 8 * KiB,
  /** Prices are stored as decimal(12, 2): below 10^10 with at most two decimals. */
  priceBelow: 1e10,
});

/** The defaults with `overrides` on top; a limit that is not a positive number is a bug. */
export function resolveImportLimits(overrides: Partial<ImportLimits> = {}): ImportLimits {
  const limits: ImportLimits = { ...DEFAULT_IMPORT_LIMITS };
  for (const key of Object.keys(DEFAULT_IMPORT_LIMITS) as (keyof ImportLimits)[]) {
    const value = overrides[key];
    if (value === undefined) continue;
    // A typo'd or NaN limit would silently disable a safety check: fail loudly instead.
    if (typeof value !== 'number' || !(value > 0)) {
      throw new TypeError(`import limit ${key} must be a positive number, got ${String(value)}`);
    }
    limits[key] = value;
  }
  return limits;
}
