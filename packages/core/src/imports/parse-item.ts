import { DEFAULT_IMPORT_LIMITS, FIELD_LIMITS } from './limits.js';
import { archivePathProblem, normaliseArchivePath } from './zip.js';

/** Where an image comes from: a URL to fetch, or a file of the uploaded ZIP (normalised path). */
export type ImageSource = { url: string } | { file: string };

/** One product of a catalog import, validated: what the catalog service stores. */
export interface ImportItem {
  externalId: string;
  title: string;
  description: string | null;
  category: string | null;
  labels: Record<string, unknown>;
  price: number | null;
  currency: string | null;
  url: string | null;
  images: ImageSource[];
}

export type RowErrorCode =
  'INVALID_ROW' | 'DUPLICATE_EXTERNAL_ID' | 'TOO_MANY_IMAGES' | 'FILE_NOT_IN_ARCHIVE';

/** Why one row (or one item of the JSON API) is refused; `reason` starts with the field. */
export interface RowError {
  code: RowErrorCode;
  reason: string;
}

export interface ValidateContext {
  /** Defaults to DEFAULT_IMPORT_LIMITS.maxImagesPerProduct. */
  maxImagesPerProduct?: number;
  /**
   * The files of the uploaded ZIP, by normalised path. Only a ZIP import has one; without it
   * every image must be an http(s) URL.
   */
  archive?: { has(path: string): boolean };
}

/**
 * Validate one product as a catalog row or a JSON API item gives it: keys `externalId, title,
 * description, category, labels, price, currency, url, imageUrls`, other keys ignored. Both
 * spellings of each value are accepted, so CSV cells and JSON values share one set of rules:
 * `labels` an object or a JSON string of one, `price` a number or a decimal string,
 * `imageUrls` an array or one `|`-separated string. An empty string is null. Text is trimmed.
 * Returns the item, or the first problem found (never throws for bad input).
 */
export function validateItem(
  raw: Record<string, unknown>,
  ctx: ValidateContext = {},
): ImportItem | RowError {
  try {
    const get = (key: string): unknown => (Object.hasOwn(raw, key) ? raw[key] : undefined);
    return {
      externalId: externalIdOf(get('externalId')),
      title: requiredText('title', get('title'), FIELD_LIMITS.title),
      description: optionalText('description', get('description'), FIELD_LIMITS.description, true),
      category: optionalText('category', get('category'), FIELD_LIMITS.category),
      labels: labelsOf(get('labels')),
      price: priceOf(get('price')),
      currency: currencyOf(get('currency')),
      url: urlOf(get('url')),
      images: imagesOf(get('imageUrls'), ctx),
    };
  } catch (error) {
    if (error instanceof RowProblem) return { code: error.code, reason: error.message };
    throw error;
  }
}

export function isRowError(result: ImportItem | RowError): result is RowError {
  return 'code' in result;
}

/** The row's externalId when it is a valid one, else null (for reporting a refused row). */
export function externalIdOrNull(value: unknown): string | null {
  try {
    return externalIdOf(value);
  } catch (error) {
    if (error instanceof RowProblem) return null;
    throw error;
  }
}

class RowProblem extends Error {
  constructor(
    readonly code: RowErrorCode,
    reason: string,
  ) {
    super(reason);
  }
}

const invalid = (reason: string) => new RowProblem('INVALID_ROW', reason);

// C0 controls and DEL; a description may keep tab and line breaks.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_BUT_WHITESPACE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** A value quoted for a reason: short, and with control characters visible. */
function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

// Lengths are in characters (code points), as Postgres counts them: a surrogate pair is one.
function length(value: string): number {
  return value.length - (value.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0);
}

function text(field: string, value: string, max: number, multiline = false): string {
  // NUL breaks Postgres text and controls hide in a dashboard: refuse, never strip silently.
  if (value.includes('\u0000')) throw invalid(`${field} contains a NUL byte`);
  if ((multiline ? CONTROL_BUT_WHITESPACE : CONTROL).test(value)) {
    throw invalid(`${field} contains a control character`);
  }
  const clean = multiline ? value.replace(/\r\n?/g, '\n').trim() : value.trim();
  if (clean.length > max && length(clean) > max)
    throw invalid(`${field} is longer than ${max} characters`);
  return clean;
}

function requiredText(field: string, value: unknown, max: number): string {
  if (value === undefined || value === null) throw invalid(`${field} is required`);
  if (typeof value !== 'string') throw invalid(`${field} must be a string`);
  const clean = text(field, value, max);
  if (clean === '') throw invalid(`${field} is required`);
  return clean;
}

function optionalText(field: string, value: unknown, max: number, multiline = false) {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid(`${field} must be a string`);
  const clean = text(field, value, max, multiline);
  return clean === '' ? null : clean;
}

function externalIdOf(value: unknown): string {
  // Catalog exports often carry numeric ids; an integer has one obvious spelling.
  const id = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  return requiredText('externalId', id, FIELD_LIMITS.externalId);
}

function labelsOf(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null || value === '') return {};
  let labels: unknown = value;
  if (typeof value === 'string') {
    try {
      labels = JSON.parse(value) as unknown;
    } catch {
      throw invalid('labels is not valid JSON');
    }
  }
  if (!isPlainObject(labels)) throw invalid('labels must be a JSON object');
  const keys = Object.keys(labels).length;
  if (keys > FIELD_LIMITS.labelKeys) {
    throw invalid(`labels has ${keys} keys, the limit is ${FIELD_LIMITS.labelKeys}`);
  }
  checkJson(labels, 'labels', 1);
  const bytes = Buffer.byteLength(JSON.stringify(labels));
  if (bytes > FIELD_LIMITS.labelBytes) {
    throw invalid(`labels is ${bytes} bytes as JSON, the limit is ${FIELD_LIMITS.labelBytes}`);
  }
  return labels;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Only what JSON can say, at most FIELD_LIMITS.labelDepth objects or arrays deep. */
function checkJson(value: unknown, where: string, depth: number): void {
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'string') {
    if (CONTROL.test(value)) throw invalid(`${where} contains a control character`);
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(`${where} is not a finite number`);
    return;
  }
  // Checked before descending, so a cyclic object from the JSON API ends here too.
  if (depth > FIELD_LIMITS.labelDepth) {
    throw invalid(`labels is nested deeper than ${FIELD_LIMITS.labelDepth} levels`);
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      checkJson(item, `${where}[${i}]`, depth + 1);
    });
    return;
  }
  if (!isPlainObject(value)) throw invalid(`${where} is not a JSON value`);
  for (const [key, item] of Object.entries(value)) {
    if (CONTROL.test(key)) throw invalid(`${where} has a key with a control character`);
    // A JSON "__proto__" key becomes an object's prototype as soon as someone spreads or
    // assigns the labels into another object.
    if (key === '__proto__') throw invalid(`${where} may not have a "__proto__" key`);
    checkJson(item, `${where}.${key}`, depth + 1);
  }
}

const DECIMAL = /^\d+(?:\.(\d+))?$/;
const PRICE_FORM = 'price must be a number of at least 0 with at most 2 decimals, like 19.99';

function priceOf(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  let price: number;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '') return null;
    const match = DECIMAL.exec(trimmed);
    if (!match) throw invalid(PRICE_FORM);
    if ((match[1]?.length ?? 0) > 2) throw invalid(PRICE_FORM);
    price = Number(trimmed);
  } else if (typeof value === 'number') {
    price = value;
    if (!Number.isFinite(price) || price < 0) throw invalid(PRICE_FORM);
    // Two decimals, allowing for the float noise of a computed price (0.1 + 0.2): within a few
    // ulps of a whole number of cents, it is that number of cents; 19.991 is not.
    const cents = Math.round(price * 100) / 100;
    if (Math.abs(cents - price) > price * 1e-14) throw invalid(PRICE_FORM);
    price = cents;
  } else {
    throw invalid(PRICE_FORM);
  }
  if (price >= FIELD_LIMITS.priceBelow) {
    throw invalid(`price must be less than ${FIELD_LIMITS.priceBelow}`);
  }
  return price === 0 ? 0 : price; // -0 and 0 are one price
}

function currencyOf(value: unknown): string | null {
  const code = optionalText('currency', value, 64);
  if (code === null) return null;
  if (!/^[A-Za-z]{3}$/.test(code)) {
    throw invalid(`currency must be a three-letter ISO 4217 code like EUR, got ${quote(code)}`);
  }
  return code.toUpperCase();
}

function urlOf(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid('url must be a string');
  const url = text('url', value, FIELD_LIMITS.url);
  if (url === '') return null;
  const problem = httpUrlProblem(url);
  if (problem) throw invalid(`url ${problem}`);
  return url;
}

/** Why `value` is not an absolute http(s) URL we would fetch or link to, or null. */
function httpUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${quote(value)} is not an absolute URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `${quote(value)} is not an http(s) URL`;
  }
  if (url.hostname === '') return `${quote(value)} has no host`;
  // Credentials in a catalog would be stored, shown and sent to whoever hosts the image.
  if (url.username !== '' || url.password !== '') {
    return `${quote(value)} carries a user name or password`;
  }
  return null;
}

// A scheme followed by `//`: the value means to be a URL, not a path inside the archive.
const LOOKS_LIKE_URL = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

function imagesOf(value: unknown, ctx: ValidateContext): ImageSource[] {
  const list = imageList(value);
  const max = ctx.maxImagesPerProduct ?? DEFAULT_IMPORT_LIMITS.maxImagesPerProduct;
  if (list.length > max) {
    throw new RowProblem(
      'TOO_MANY_IMAGES',
      `imageUrls lists ${list.length} images, the limit is ${max}`,
    );
  }
  const sources: ImageSource[] = [];
  const missing: string[] = [];
  list.forEach((entry, i) => {
    const where = `imageUrls entry ${i + 1}`;
    if (length(entry) > FIELD_LIMITS.url) {
      throw invalid(`${where} is longer than ${FIELD_LIMITS.url} characters`);
    }
    if (LOOKS_LIKE_URL.test(entry) || !ctx.archive) {
      const problem = httpUrlProblem(entry);
      if (problem) throw invalid(`${where} ${problem}`);
      sources.push({ url: entry });
      return;
    }
    const pathProblem = archivePathProblem(entry);
    const path = normaliseArchivePath(entry);
    if (pathProblem !== null || path === null) {
      throw invalid(
        `${where} ${quote(entry)} is not a path inside the archive: it ${pathProblem ?? ''}`,
      );
    }
    if (!ctx.archive.has(path)) missing.push(`${where} ${quote(entry)}`);
    sources.push({ file: path });
  });
  // Malformed entries are reported before missing files: fixing the row's syntax comes first.
  const [firstMissing] = missing;
  if (firstMissing !== undefined) {
    throw new RowProblem('FILE_NOT_IN_ARCHIVE', `${firstMissing} names no file in the archive`);
  }
  // `./a.png` and `a.png` are one file: keep the first.
  const seen = new Set<string>();
  return sources.filter((source) => {
    const key = 'url' in source ? `url:${source.url}` : `file:${source.file}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The entries, trimmed, each once (the same image twice adds nothing). */
function imageList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  let entries: string[];
  if (typeof value === 'string') {
    // Before trimming, which would hide a control character at either end.
    controlCheck('imageUrls', value);
    // The CSV spelling: one cell, `|` between entries; a trailing or doubled `|` is slack.
    entries = value
      .split('|')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
  } else if (Array.isArray(value)) {
    entries = value.map((entry: unknown, i) => {
      const where = `imageUrls entry ${i + 1}`;
      if (typeof entry !== 'string') throw invalid(`${where} must be a string`);
      controlCheck(where, entry);
      const trimmed = entry.trim();
      if (trimmed === '') throw invalid(`${where} is empty`);
      return trimmed;
    });
  } else {
    throw invalid('imageUrls must be a list of URLs');
  }
  return [...new Set(entries)];
}

function controlCheck(where: string, value: string): void {
  if (value.includes('\u0000')) throw invalid(`${where} contains a NUL byte`);
  if (CONTROL.test(value)) throw invalid(`${where} contains a control character`);
}
