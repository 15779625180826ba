import { crc32 } from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import type { ImportLimits } from './limits.js';
import { ImportFileError } from './parse-errors.js';

/** The catalog file a ZIP import must carry at its root, exactly one of the two. */
export type CatalogEntryName = 'catalog.csv' | 'catalog.jsonl';
const CATALOG_NAMES: readonly CatalogEntryName[] = ['catalog.csv', 'catalog.jsonl'];

/**
 * Entries smaller than this are not held to `maxCompressionRatio`: a small flat-colour PNG or a
 * CSV of one repeated line compresses further than 1:200 without being able to amount to much.
 */
const RATIO_CHECK_MIN_BYTES = 64 * 1024;

// Unix file type bits of the external attributes of an entry made on Unix.
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/**
 * Why `name` (an entry name, or a path a catalog row gives for an image) cannot name a file
 * inside the archive, or null when it can. Unsafe names are refused rather than cleaned: a name
 * that climbs out (`../x`), is absolute (`/etc/passwd`, `C:\x`) or hides a separator (`a\b`)
 * means something different to each tool that later extracts or stores it.
 */
export function archivePathProblem(name: string): string | null {
  if (name.length === 0) return 'is empty';
  if (name.includes('\u0000')) return 'contains a NUL byte';
  if (CONTROL_CHARACTER.test(name)) return 'contains a control character';
  if (name.includes('\\')) return 'contains a backslash';
  if (name.startsWith('/')) return 'is an absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'starts with a drive letter';
  if (name.split('/').includes('..')) return 'contains a ".." segment';
  if (normalise(name) === '') return 'names no file';
  return null;
}

/**
 * The form paths are compared in: no leading `./`, no `.` or empty segments. Null when the
 * name is unsafe (see archivePathProblem). A trailing `/` (a directory) is dropped too.
 */
export function normaliseArchivePath(name: string): string | null {
  return archivePathProblem(name) === null ? normalise(name) : null;
}

function normalise(name: string): string {
  return name
    .split('/')
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/');
}

/** An opened import archive: its catalog, read, and the files it holds, read on demand. */
export interface CatalogArchive {
  readonly catalogName: CatalogEntryName;
  readonly catalog: Buffer;
  /** Whether the archive holds a file (not a directory) at this normalised path. */
  has(path: string): boolean;
  /**
   * The bytes of the file at this normalised path, decompressed and checked against the sizes
   * and CRC the archive declares. One entry at a time: nothing else is kept in memory.
   */
  read(path: string): Promise<Buffer>;
  close(): void;
}

/**
 * Open a ZIP import held in memory: check every entry's name and declared sizes before
 * decompressing anything, then read the catalog. Throws ImportFileError: BAD_FORMAT (not a
 * readable ZIP), ZIP_TOO_MANY_ENTRIES, ZIP_UNSAFE_PATH, ZIP_BOMB, ZIP_NO_CATALOG, TOO_LARGE
 * (the catalog expands past `maxBytes`).
 */
export async function openCatalogArchive(
  bytes: Buffer,
  limits: ImportLimits,
): Promise<CatalogArchive> {
  const zip = await openZip(bytes);
  try {
    // The end-of-central-directory record declares the count and yauzl reads no more than
    // that, so this bounds the metadata we keep before reading a single entry.
    if (zip.entryCount > limits.maxZipEntries) {
      throw new ImportFileError(
        'ZIP_TOO_MANY_ENTRIES',
        `the archive has ${zip.entryCount} entries, the limit is ${limits.maxZipEntries}`,
        { limit: limits.maxZipEntries, entries: zip.entryCount },
      );
    }
    const files = await scanEntries(zip, limits);
    const catalogName = findCatalog(files);
    const catalogEntry = files.get(catalogName);
    if (!catalogEntry) throw new Error('unreachable: findCatalog returned a missing entry');
    const catalog = await readEntry(zip, catalogEntry, catalogName, limits.maxBytes);
    return {
      catalogName,
      catalog,
      has: (path) => files.has(path),
      read: async (path) => {
        const entry = files.get(path);
        if (!entry) throw new Error(`no file ${path} in the archive (check has() first)`);
        return readEntry(zip, entry, path, limits.maxZipEntryBytes);
      },
      close: () => {
        zip.close();
      },
    };
  } catch (error) {
    zip.close();
    throw error;
  }
}

function openZip(bytes: Buffer): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(
      bytes,
      {
        lazyEntries: true,
        autoClose: false,
        // Names are decoded and checked here (archivePathProblem): yauzl's own check would
        // turn `a\b` into `a/b` silently and fail with an untyped error for the rest.
        decodeStrings: false,
        // A stream that inflates past the declared size fails at once, so an entry that lies
        // about its size cannot expand past the limits its declared size passed.
        validateEntrySizes: true,
      },
      (error, zip) => {
        if (error) reject(zipError(error, 'the file is not a readable ZIP archive'));
        else {
          // An error event without a listener would crash the process; every operation that
          // can fail reports through its own callback or stream as well.
          zip.on('error', () => undefined);
          resolve(zip);
        }
      },
    );
  });
}

/** Every file entry by normalised path, once each name and declared size has passed. */
async function scanEntries(zip: ZipFile, limits: ImportLimits): Promise<Map<string, Entry>> {
  const files = new Map<string, Entry>();
  let expanded = 0;
  await eachEntry(zip, (entry) => {
    const name = decodeName(entry.fileNameRaw, entry.generalPurposeBitFlag);
    const problem = archivePathProblem(name);
    if (problem !== null) {
      throw new ImportFileError(
        'ZIP_UNSAFE_PATH',
        `archive entry ${JSON.stringify(name)} ${problem}`,
        {
          entry: name,
        },
      );
    }
    if (name.endsWith('/')) return; // a directory: holds nothing to read
    const path = normalise(name);
    if (((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK) {
      // Its bytes are a link target, not an image; storage that writes by path must never
      // see one.
      throw new ImportFileError('ZIP_UNSAFE_PATH', `archive entry ${path} is a symbolic link`, {
        entry: path,
      });
    }
    if (files.has(path)) {
      // Two entries with one name: tools disagree about which one wins.
      throw new ImportFileError('ZIP_UNSAFE_PATH', `archive entry ${path} appears twice`, {
        entry: path,
      });
    }
    checkDeclaredSize(entry, path, limits);
    expanded += entry.uncompressedSize;
    if (expanded > limits.maxZipExpandedBytes) {
      throw new ImportFileError(
        'ZIP_BOMB',
        `the archive expands to more than ${limits.maxZipExpandedBytes} bytes`,
        { limit: limits.maxZipExpandedBytes },
      );
    }
    files.set(path, entry);
  });
  return files;
}

function checkDeclaredSize(entry: Entry, path: string, limits: ImportLimits): void {
  const size = entry.uncompressedSize;
  const isCatalog = (CATALOG_NAMES as readonly string[]).includes(path);
  // The catalog is held to the limit of a bare catalog upload, not to the image limit: a
  // 50,000-row CSV is larger than any photo.
  if (isCatalog && size > limits.maxBytes) {
    throw new ImportFileError(
      'TOO_LARGE',
      `${path} expands to ${size} bytes, the limit is ${limits.maxBytes}`,
      { entry: path, limit: limits.maxBytes },
    );
  }
  if (!isCatalog && size > limits.maxZipEntryBytes) {
    throw new ImportFileError(
      'ZIP_BOMB',
      `archive entry ${path} expands to ${size} bytes, the limit per file is ${limits.maxZipEntryBytes}`,
      { entry: path, limit: limits.maxZipEntryBytes },
    );
  }
  if (size > RATIO_CHECK_MIN_BYTES && size > limits.maxCompressionRatio * entry.compressedSize) {
    throw new ImportFileError(
      'ZIP_BOMB',
      `archive entry ${path} expands ${entry.compressedSize} bytes to ${size}, more than ` +
        `${limits.maxCompressionRatio} times`,
      { entry: path, limit: limits.maxCompressionRatio },
    );
  }
}

function findCatalog(files: Map<string, Entry>): CatalogEntryName {
  const found = CATALOG_NAMES.filter((name) => files.has(name));
  const [only] = found;
  if (found.length === 1 && only) return only;
  if (found.length > 1) {
    throw new ImportFileError(
      'ZIP_NO_CATALOG',
      'the archive has both catalog.csv and catalog.jsonl at its root; it must have exactly one',
    );
  }
  // The usual mistake is zipping the folder rather than its contents: say where it was.
  const nested = [...files.keys()].find((path) =>
    CATALOG_NAMES.some((name) => path.endsWith(`/${name}`)),
  );
  throw new ImportFileError(
    'ZIP_NO_CATALOG',
    'the archive has no catalog.csv or catalog.jsonl at its root' +
      (nested ? ` (found ${nested}: zip the folder's contents, not the folder)` : ''),
    nested ? { found: nested } : {},
  );
}

/**
 * ZIP names are UTF-8 when flagged, and in practice often UTF-8 unflagged (macOS); anything
 * else is read as Latin-1, which keeps the name checkable even if it can match no row's path.
 */
function decodeName(raw: Buffer, flags: number): string {
  const utf8Flag = (flags & 0x800) !== 0;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return utf8Flag ? raw.toString('utf8') : raw.toString('latin1');
  }
}

function eachEntry(zip: ZipFile, visit: (entry: Entry) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      cleanup();
      reject(zipError(error, 'the archive is damaged'));
    };
    const onEnd = () => {
      cleanup();
      resolve();
    };
    const onEntry = (entry: Entry) => {
      try {
        visit(entry);
      } catch (error) {
        cleanup();
        reject(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      zip.readEntry();
    };
    const cleanup = () => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

function readEntry(zip: ZipFile, entry: Entry, path: string, maxBytes: number): Promise<Buffer> {
  if (entry.isEncrypted()) {
    return Promise.reject(
      new ImportFileError('BAD_FORMAT', `archive entry ${path} is encrypted`, { entry: path }),
    );
  }
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    return Promise.reject(
      new ImportFileError(
        'BAD_FORMAT',
        `archive entry ${path} uses compression method ${entry.compressionMethod}; only stored and deflated entries are supported`,
        { entry: path },
      ),
    );
  }
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (error, stream) => {
      if (error) {
        reject(zipError(error, `archive entry ${path} cannot be read`, path));
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      let failed = false;
      const fail = (reason: Error) => {
        if (failed) return;
        failed = true;
        stream.destroy();
        reject(reason);
      };
      stream.on('data', (chunk: Buffer) => {
        total += chunk.length;
        // yauzl already stops at the declared size; this also holds for stored entries and
        // whatever a later yauzl does, so the limit never rests on one check.
        if (total > maxBytes || total > entry.uncompressedSize) {
          fail(
            new ImportFileError(
              'ZIP_BOMB',
              `archive entry ${path} expands past ${Math.min(maxBytes, entry.uncompressedSize)} bytes`,
              { entry: path, limit: maxBytes },
            ),
          );
          return;
        }
        chunks.push(chunk);
      });
      stream.on('error', (streamError: Error) => {
        fail(zipError(streamError, `archive entry ${path} is damaged`, path));
      });
      stream.on('end', () => {
        if (failed) return;
        const bytes = Buffer.concat(chunks, total);
        if (crc32(bytes) !== entry.crc32) {
          fail(
            new ImportFileError('BAD_FORMAT', `archive entry ${path} is damaged (CRC mismatch)`, {
              entry: path,
            }),
          );
          return;
        }
        resolve(bytes);
      });
    });
  });
}

/**
 * yauzl's errors are untyped; the one that means "expanded past its declared size" is a zip
 * bomb that lied, everything else is a damaged or unsupported archive.
 */
function zipError(error: Error, context: string, entry?: string): ImportFileError {
  if (error instanceof ImportFileError) return error;
  const details = entry ? { entry } : {};
  if (error.message.startsWith('too many bytes in the stream')) {
    return new ImportFileError(
      'ZIP_BOMB',
      `${entry ? `archive entry ${entry}` : 'an archive entry'} expands past the size it declares`,
      details,
      { cause: error },
    );
  }
  return new ImportFileError('BAD_FORMAT', `${context}: ${error.message}`, details, {
    cause: error,
  });
}
