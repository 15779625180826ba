import { parse as parseCsvSync } from 'csv-parse/sync';
import { resolveImportLimits, type ImportLimits } from './limits.js';
import { ImportFileError } from './parse-errors.js';
import {
  externalIdOrNull,
  isRowError,
  validateItem,
  type ImportItem,
  type RowError,
  type RowErrorCode,
  type ValidateContext,
} from './parse-item.js';
import { openCatalogArchive, type CatalogArchive } from './zip.js';

export { ImportFileError, type ImportFileErrorCode } from './parse-errors.js';
export {
  isRowError,
  validateItem,
  type ImageSource,
  type ImportItem,
  type RowError,
  type RowErrorCode,
  type ValidateContext,
} from './parse-item.js';
export { DEFAULT_IMPORT_LIMITS, FIELD_LIMITS, type ImportLimits } from './limits.js';

export type ImportFormat = 'CSV' | 'JSONL' | 'ZIP';

/** One row of the file: the product it gives, or why it gives none. */
export interface ParsedRow {
  /**
   * 1-based. CSV: the data record (the header is not counted; a record spanning several lines
   * counts once; blank records are counted but give no row). JSONL: the line number in the
   * file; blank lines give no row but keep the numbering, so the number finds the line.
   */
  row: number;
  /** The row's externalId when it has a valid one, also on a refused row. */
  externalId: string | null;
  item: ImportItem | null;
  error: { code: RowErrorCode; reason: string } | null;
}

export interface ParseCatalogOptions {
  limits?: Partial<ImportLimits>;
  /**
   * ZIP only: receives each archive file some valid row's images name, once per normalised
   * path, after the whole catalog is parsed, one at a time (awaited before the next is read).
   */
  putFile?: (path: string, bytes: Buffer) => Promise<void>;
}

/** The columns a catalog must have; the others may be absent. */
const REQUIRED_COLUMNS = ['externalId', 'title'] as const;
const KNOWN_COLUMNS = [
  'externalId',
  'title',
  'description',
  'category',
  'labels',
  'price',
  'currency',
  'url',
  'imageUrls',
] as const;

/**
 * Parse and validate a catalog upload. File-level problems throw ImportFileError (too large,
 * too many rows, unreadable, missing columns, unsafe or bomb-like ZIP); a bad row never stops
 * the others and comes back as a row with `error`.
 */
export async function parseCatalog(
  bytes: Buffer,
  format: ImportFormat,
  options: ParseCatalogOptions = {},
): Promise<{ rows: ParsedRow[] }> {
  const limits = resolveImportLimits(options.limits);
  if (bytes.length > limits.maxBytes) {
    throw new ImportFileError(
      'TOO_LARGE',
      `the file is ${bytes.length} bytes, the limit is ${limits.maxBytes}`,
      { limit: limits.maxBytes },
    );
  }
  const ctx: ValidateContext = { maxImagesPerProduct: limits.maxImagesPerProduct };
  switch (format) {
    case 'CSV':
      return { rows: parseCsv(decodeText(bytes, 'CSV'), limits, ctx) };
    case 'JSONL':
      return { rows: parseJsonl(decodeText(bytes, 'JSONL'), limits, ctx) };
    case 'ZIP':
      return { rows: await parseZip(bytes, limits, options.putFile) };
    default: {
      // Reachable from JavaScript callers and untyped doors.
      const unknown: unknown = format;
      throw new ImportFileError('BAD_FORMAT', `unknown import format ${String(unknown)}`);
    }
  }
}

async function parseZip(
  bytes: Buffer,
  limits: ImportLimits,
  putFile: ParseCatalogOptions['putFile'],
): Promise<ParsedRow[]> {
  const archive = await openCatalogArchive(bytes, limits);
  try {
    const ctx: ValidateContext = { maxImagesPerProduct: limits.maxImagesPerProduct, archive };
    const text = decodeText(archive.catalog, archive.catalogName);
    const rows =
      archive.catalogName === 'catalog.csv'
        ? parseCsv(text, limits, ctx)
        : parseJsonl(text, limits, ctx);
    if (putFile) await handOverFiles(archive, rows, putFile);
    return rows;
  } finally {
    archive.close();
  }
}

/**
 * Read the files valid rows reference, one at a time in the order rows first name them: a
 * refused row's images are never read, and each file is held only until `putFile` is done.
 */
async function handOverFiles(
  archive: CatalogArchive,
  rows: ParsedRow[],
  putFile: NonNullable<ParseCatalogOptions['putFile']>,
): Promise<void> {
  const paths = new Set<string>();
  for (const { item } of rows) {
    for (const image of item?.images ?? []) if ('file' in image) paths.add(image.file);
  }
  for (const path of paths) await putFile(path, await archive.read(path));
}

/** UTF-8, strictly: a Latin-1 export would otherwise import with garbled titles. */
function decodeText(bytes: Buffer, what: string): string {
  try {
    // TextDecoder drops a leading BOM (spreadsheets write one).
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ImportFileError(
      'BAD_FORMAT',
      `${what} is not UTF-8 text; save the file as UTF-8 and upload it again`,
    );
  }
}

/** Rows in order, duplicates of an earlier externalId refused, at most `maxRows`. */
class RowCollector {
  readonly rows: ParsedRow[] = [];
  private readonly firstRowOf = new Map<string, number>();

  constructor(private readonly limits: ImportLimits) {}

  add(row: number, externalId: string | null, result: ImportItem | RowError): void {
    if (this.rows.length >= this.limits.maxRows) {
      throw new ImportFileError(
        'TOO_MANY_ROWS',
        `the file has more than ${this.limits.maxRows} rows; split it into several imports`,
        { limit: this.limits.maxRows },
      );
    }
    const first = externalId === null ? undefined : this.firstRowOf.get(externalId);
    if (externalId !== null && first === undefined) this.firstRowOf.set(externalId, row);
    if (isRowError(result)) {
      this.rows.push({ row, externalId, item: null, error: result });
    } else if (first !== undefined) {
      // Which of the two the merchant meant is unknowable: the first stands, the later is
      // refused by name so it can be fixed.
      this.rows.push({
        row,
        externalId,
        item: null,
        error: {
          code: 'DUPLICATE_EXTERNAL_ID',
          reason: `externalId ${JSON.stringify(externalId)} already appears in row ${first}`,
        },
      });
    } else {
      this.rows.push({ row, externalId, item: result, error: null });
    }
  }

  addInvalid(row: number, reason: string): void {
    this.add(row, null, { code: 'INVALID_ROW', reason });
  }
}

function parseCsv(text: string, limits: ImportLimits, ctx: ValidateContext): ParsedRow[] {
  const collector = new RowCollector(limits);
  // Set by the first record; an object because the callback assigns it.
  const state: { header: (ColumnKey | null)[] | null; row: number } = { header: null, row: 0 };
  try {
    parseCsvSync(text, {
      bom: true,
      // A stray quote inside an unquoted cell (12" monitor) is kept as text, not an error
      // that would end the whole file.
      relax_quotes: true,
      // Rows of the wrong width become row errors here instead of a file error.
      relax_column_count: true,
      // Blank lines come through as records so that they keep the row numbering.
      skip_empty_lines: false,
      // Each record is handled as it is parsed and dropped (null): the file's records are
      // never all in memory, and TOO_MANY_ROWS stops the parse where the limit is passed.
      on_record: (record: string[]) => {
        const { header } = state;
        if (header === null) {
          state.header = readHeader(record);
          return null;
        }
        const row = ++state.row;
        if (record.every((cell) => cell.trim() === '')) return null;
        if (record.length !== header.length) {
          collector.addInvalid(
            row,
            `the row has ${record.length} cells, the header has ${header.length} (check its quotes)`,
          );
          return null;
        }
        const raw: Record<string, unknown> = {};
        header.forEach((column, i) => {
          if (column !== null) raw[COLUMN_BY_LOWER_NAME[column]] = record[i];
        });
        collector.add(row, externalIdOrNull(raw.externalId), validateItem(raw, ctx));
        return null;
      },
    });
  } catch (error) {
    if (error instanceof ImportFileError) throw error;
    // What csv-parse cannot recover from (a quote never closed) leaves no rows to trust.
    const message = error instanceof Error ? error.message : String(error);
    throw new ImportFileError(
      'BAD_FORMAT',
      `the CSV cannot be read: ${visible(message)}`,
      {},
      {
        cause: error,
      },
    );
  }
  if (state.header === null) {
    throw new ImportFileError(
      'MISSING_COLUMNS',
      `the file is empty; its first line must name the columns (at least ${REQUIRED_COLUMNS.join(', ')})`,
      { missing: [...REQUIRED_COLUMNS] },
    );
  }
  return collector.rows;
}

type ColumnKey = Lowercase<(typeof KNOWN_COLUMNS)[number]>;
const COLUMN_BY_LOWER_NAME = Object.fromEntries(
  KNOWN_COLUMNS.map((name) => [name.toLowerCase(), name]),
) as Record<ColumnKey, (typeof KNOWN_COLUMNS)[number]>;

/** Each cell's known column (matched without regard to case or spaces), null for others. */
function readHeader(record: string[]): (ColumnKey | null)[] {
  const columns = record.map((cell) => {
    const name = cell.trim().toLowerCase();
    return Object.hasOwn(COLUMN_BY_LOWER_NAME, name) ? (name as ColumnKey) : null;
  });
  const seen = new Set<string>();
  for (const column of columns) {
    if (column === null) continue;
    if (seen.has(column)) {
      throw new ImportFileError(
        'BAD_FORMAT',
        `the header names the column ${COLUMN_BY_LOWER_NAME[column]} twice`,
      );
    }
    seen.add(column);
  }
  const missing = REQUIRED_COLUMNS.filter((name) => !seen.has(name.toLowerCase()));
  if (missing.length > 0) {
    // The usual cause is a spreadsheet set to export with semicolons.
    const hint =
      record.length === 1 && (record[0] ?? '').includes(';')
        ? ' (the file seems to use ";" between columns; export it with commas)'
        : '';
    throw new ImportFileError(
      'MISSING_COLUMNS',
      `the header has no ${missing.join(' or ')} column${hint}`,
      { missing },
    );
  }
  return columns;
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;

/**
 * A parser's message with control characters escaped (`\u0000`): JSON.parse quotes the text it
 * stopped at, and a NUL from the file would make the row's reason unstorable (Postgres text
 * cannot hold it) and invisible in the dashboard.
 */
function visible(message: string): string {
  return message.replace(
    CONTROL_CHARACTERS,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function parseJsonl(text: string, limits: ImportLimits, ctx: ValidateContext): ParsedRow[] {
  const collector = new RowCollector(limits);
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const row = i + 1;
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      collector.addInvalid(row, `the line is not valid JSON: ${visible(message)}`);
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      collector.addInvalid(row, 'the line must be a JSON object');
      return;
    }
    const raw = value as Record<string, unknown>;
    const externalId = externalIdOrNull(
      Object.hasOwn(raw, 'externalId') ? raw.externalId : undefined,
    );
    collector.add(row, externalId, validateItem(raw, ctx));
  });
  return collector.rows;
}
