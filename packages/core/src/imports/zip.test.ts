import { describe, expect, it } from 'vitest';
import { DEFAULT_IMPORT_LIMITS, resolveImportLimits } from './limits.js';
import { ImportFileError, parseCatalog, type ImportLimits } from './parse.js';
import { archivePathProblem, normaliseArchivePath, openCatalogArchive } from './zip.js';
import { buildZip, type TestZipEntry } from './zip.test-helpers.js';

const MiB = 1024 * 1024;
const PNG_A = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
const PNG_B = Buffer.from([0x89, 0x50, 0x4e, 0x47, 4, 5, 6, 7]);

/** parseCatalog on a ZIP, recording what reaches putFile. */
async function importZip(entries: TestZipEntry[], limits: Partial<ImportLimits> = {}) {
  const put: { path: string; bytes: Buffer }[] = [];
  const { rows } = await parseCatalog(buildZip(entries), 'ZIP', {
    limits,
    putFile: (path, bytes) => {
      put.push({ path, bytes });
      return Promise.resolve();
    },
  });
  return { rows, put };
}

async function zipError(
  entries: TestZipEntry[] | Buffer,
  limits: Partial<ImportLimits> = {},
): Promise<ImportFileError> {
  const bytes = Buffer.isBuffer(entries) ? entries : buildZip(entries);
  let putFiles = 0;
  const error = await parseCatalog(bytes, 'ZIP', {
    limits,
    putFile: () => {
      putFiles++;
      return Promise.resolve();
    },
  }).then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof ImportFileError)) {
    throw new Error(`expected ImportFileError, got ${String(error)}`);
  }
  // A refused archive hands nothing to storage.
  expect(putFiles).toBe(0);
  return error;
}

const catalogCsv = (...rows: string[]) => ['externalId,title,imageUrls', ...rows].join('\n');

describe('parseCatalog: ZIP', () => {
  it('reads catalog.csv and hands each referenced file to putFile once, with its bytes', async () => {
    const { rows, put } = await importZip([
      { name: 'images/', data: '' },
      { name: 'images/a.png', data: PNG_A },
      { name: 'images/b.png', data: PNG_B, method: 'store' },
      { name: 'unused.png', data: Buffer.alloc(1000, 7) },
      {
        name: 'catalog.csv',
        data: catalogCsv(
          'p1,One,images/a.png|./images/b.png|https://cdn.example/1.jpg',
          'p2,Two,./images/a.png',
          'p3,Three,images/missing.png',
          'p4,,images/b.png',
          'p5,Five,../evil.png',
        ),
      },
    ]);
    expect(rows.map((r) => [r.row, r.error?.code ?? null])).toEqual([
      [1, null],
      [2, null],
      [3, 'FILE_NOT_IN_ARCHIVE'],
      [4, 'INVALID_ROW'],
      [5, 'INVALID_ROW'],
    ]);
    expect(rows[0]?.item?.images).toEqual([
      { file: 'images/a.png' },
      { file: 'images/b.png' },
      { url: 'https://cdn.example/1.jpg' },
    ]);
    expect(rows[1]?.item?.images).toEqual([{ file: 'images/a.png' }]);
    expect(rows[2]?.error?.reason).toBe(
      'imageUrls entry 1 "images/missing.png" names no file in the archive',
    );
    expect(rows[4]?.error?.reason).toMatch(/not a path inside the archive: it contains a "\.\."/);
    // Read once each, and only what a valid row uses (unused.png never is).
    expect(put.map((p) => p.path)).toEqual(['images/a.png', 'images/b.png']);
    expect(put[0]?.bytes.equals(PNG_A)).toBe(true);
    expect(put[1]?.bytes.equals(PNG_B)).toBe(true);
  });

  it('hands files over only after the whole catalog is parsed', async () => {
    // Row 1 is fine, but the file as a whole is refused: nothing may have reached storage.
    const catalog = catalogCsv('p1,One,a.png', 'p2,Two,a.png', 'p3,Three,a.png');
    const error = await zipError(
      [
        { name: 'a.png', data: PNG_A },
        { name: 'catalog.csv', data: catalog },
      ],
      { maxRows: 2 },
    );
    expect(error.code).toBe('TOO_MANY_ROWS');
  });

  it('reads catalog.jsonl the same way', async () => {
    const { rows, put } = await importZip([
      { name: './pics/x.jpg', data: PNG_A },
      {
        name: 'catalog.jsonl',
        data: [
          JSON.stringify({ externalId: 'j1', title: 'J', imageUrls: ['pics/x.jpg'] }),
          'not json',
          JSON.stringify({ externalId: 'j2', title: 'K', imageUrls: ['pics/y.jpg'] }),
        ].join('\n'),
      },
    ]);
    expect(rows.map((r) => [r.row, r.error?.code ?? null])).toEqual([
      [1, null],
      [2, 'INVALID_ROW'],
      [3, 'FILE_NOT_IN_ARCHIVE'],
    ]);
    expect(put).toEqual([{ path: 'pics/x.jpg', bytes: PNG_A }]);
  });

  it('works without putFile (validation only)', async () => {
    const { rows } = await parseCatalog(
      buildZip([
        { name: 'a.png', data: PNG_A },
        { name: 'catalog.csv', data: catalogCsv('p1,One,a.png') },
      ]),
      'ZIP',
    );
    expect(rows[0]?.item?.images).toEqual([{ file: 'a.png' }]);
  });

  it('needs exactly one catalog, at the root', async () => {
    const none = await zipError([{ name: 'a.png', data: PNG_A }]);
    expect(none.code).toBe('ZIP_NO_CATALOG');
    const both = await zipError([
      { name: 'catalog.csv', data: catalogCsv() },
      { name: 'catalog.jsonl', data: '' },
    ]);
    expect(both.code).toBe('ZIP_NO_CATALOG');
    expect(both.message).toMatch(/both/);
    const nested = await zipError([{ name: 'export/catalog.csv', data: catalogCsv() }]);
    expect(nested.code).toBe('ZIP_NO_CATALOG');
    expect(nested.message).toMatch(/found export\/catalog\.csv/);
  });

  it('checks the catalog inside a ZIP like a bare one', async () => {
    const missing = await zipError([{ name: 'catalog.csv', data: 'id,name\n1,x\n' }]);
    expect(missing.code).toBe('MISSING_COLUMNS');
    const rows = Array.from({ length: 4 }, (_, i) => `p${i},T,`);
    expect(
      (await zipError([{ name: 'catalog.csv', data: catalogCsv(...rows) }], { maxRows: 3 })).code,
    ).toBe('TOO_MANY_ROWS');
    const latin1 = Buffer.from('externalId,title\n1,Caf\xe9\n', 'latin1');
    expect((await zipError([{ name: 'catalog.csv', data: latin1 }])).code).toBe('BAD_FORMAT');
  });

  it.each([
    ['../evil.png', 'contains a ".." segment'],
    ['images/../../evil.png', 'contains a ".." segment'],
    ['/etc/passwd', 'is an absolute path'],
    ['a\\b', 'contains a backslash'],
    ['C:/Windows/x.png', 'starts with a drive letter'],
    ['a\u0000.png', 'contains a NUL byte'],
    ['a\n.png', 'contains a control character'],
  ])('refuses an archive with an entry named %j (ZIP_UNSAFE_PATH)', async (name, why) => {
    const error = await zipError([
      { name: 'catalog.csv', data: catalogCsv('p1,One,') },
      { name, data: PNG_A },
    ]);
    expect(error.code).toBe('ZIP_UNSAFE_PATH');
    expect(error.message).toContain(why);
  });

  it('refuses symbolic links and a name that appears twice', async () => {
    const link = await zipError([
      { name: 'catalog.csv', data: catalogCsv() },
      { name: 'a.png', data: '/etc/passwd', unixMode: 0o120777 },
    ]);
    expect(link.code).toBe('ZIP_UNSAFE_PATH');
    expect(link.message).toMatch(/symbolic link/);
    const twice = await zipError([
      { name: 'catalog.csv', data: catalogCsv('p1,One,a.png') },
      { name: 'a.png', data: PNG_A },
      { name: './a.png', data: PNG_B },
    ]);
    expect(twice.code).toBe('ZIP_UNSAFE_PATH');
    expect(twice.message).toMatch(/appears twice/);
  });

  it('refuses more entries than maxZipEntries, before reading any', async () => {
    const entries = [
      { name: 'catalog.csv', data: catalogCsv() },
      ...Array.from({ length: 4 }, (_, i) => ({ name: `i${i}.png`, data: PNG_A })),
    ];
    expect((await importZip(entries, { maxZipEntries: 5 })).rows).toEqual([]);
    const error = await zipError(entries, { maxZipEntries: 4 });
    expect(error.code).toBe('ZIP_TOO_MANY_ENTRIES');
    expect(error.details).toEqual({ limit: 4, entries: 5 });
    // The count the end record declares is enough: a directory of 60,000 is not read first.
    const claims = buildZip([{ name: 'catalog.csv', data: catalogCsv() }], {
      declaredEntryCount: 60_000,
    });
    expect((await zipError(claims)).code).toBe('ZIP_TOO_MANY_ENTRIES');
  });

  describe('zip bombs', () => {
    // 30 MiB of zeros deflate to about 30 KiB.
    const zeros = Buffer.alloc(30 * MiB);

    it('refuses an entry that declares more than maxZipEntryBytes', async () => {
      const error = await zipError([
        { name: 'catalog.csv', data: catalogCsv('p1,One,') },
        { name: 'bomb.png', data: zeros },
      ]);
      expect(error.code).toBe('ZIP_BOMB');
      expect(error.message).toMatch(
        /bomb\.png expands to 31457280 bytes, the limit per file is 20971520/,
      );
    });

    it('refuses an entry that expands more than maxCompressionRatio times', async () => {
      const error = await zipError([
        { name: 'catalog.csv', data: catalogCsv() },
        { name: 'flat.bmp', data: zeros.subarray(0, 5 * MiB) },
      ]);
      expect(error.code).toBe('ZIP_BOMB');
      expect(error.message).toMatch(/more than 200 times/);
      // Small entries may compress further: they cannot amount to much.
      const { rows } = await importZip([
        { name: 'catalog.csv', data: catalogCsv('p1,One,tiny.png') },
        { name: 'tiny.png', data: zeros.subarray(0, 60 * 1024) },
      ]);
      expect(rows[0]?.error).toBeNull();
    });

    it('refuses an archive whose entries together declare more than maxZipExpandedBytes', async () => {
      const entries = [
        { name: 'catalog.csv', data: catalogCsv() },
        ...Array.from({ length: 5 }, (_, i) => ({ name: `p${i}.png`, data: Buffer.alloc(300, i) })),
      ];
      const error = await zipError(entries, {
        maxZipExpandedBytes: 1000,
        maxCompressionRatio: 1e6,
      });
      expect(error.code).toBe('ZIP_BOMB');
      expect(error.details).toEqual({ limit: 1000 });
    });

    it('refuses an entry that expands past the size it declares, when it is read', async () => {
      const error = await zipError([
        { name: 'catalog.csv', data: catalogCsv('p1,One,liar.png') },
        { name: 'liar.png', data: zeros.subarray(0, 8 * MiB), declaredSize: 1000 },
      ]);
      expect(error.code).toBe('ZIP_BOMB');
      expect(error.message).toMatch(/liar\.png expands past the size it declares/);
    });

    it('holds the catalog to maxBytes, not to the per-image limit', async () => {
      const catalog = catalogCsv(
        ...Array.from({ length: 200 }, (_, i) => `p${i},${'T'.repeat(400)},`),
      );
      const { rows } = await importZip([{ name: 'catalog.csv', data: catalog }], {
        maxZipEntryBytes: 1000,
        maxCompressionRatio: 1e6,
      });
      expect(rows).toHaveLength(200);
      const error = await zipError([{ name: 'catalog.csv', data: catalog }], {
        maxBytes: 50_000,
        maxCompressionRatio: 1e6,
      });
      expect(error.code).toBe('TOO_LARGE');
      expect(error.message).toMatch(/catalog\.csv expands to/);
    });
  });

  it('refuses damaged or unsupported archives as BAD_FORMAT', async () => {
    expect((await zipError(Buffer.from('not a zip at all'))).code).toBe('BAD_FORMAT');
    const good = buildZip([
      { name: 'a.png', data: PNG_A },
      { name: 'catalog.csv', data: catalogCsv('p1,One,a.png') },
    ]);
    expect((await zipError(good.subarray(0, good.length - 5))).code).toBe('BAD_FORMAT');
    const badCrc = await zipError([
      { name: 'a.png', data: PNG_A, crc: 1234 },
      { name: 'catalog.csv', data: catalogCsv('p1,One,a.png') },
    ]);
    expect(badCrc.code).toBe('BAD_FORMAT');
    expect(badCrc.message).toMatch(/CRC/);
    // A stored entry whose sizes disagree: yauzl refuses it while listing.
    const storedLie = await zipError([
      { name: 'catalog.csv', data: catalogCsv() },
      { name: 'a.png', data: PNG_A, method: 'store', declaredSize: 2 },
    ]);
    expect(storedLie.code).toBe('BAD_FORMAT');
  });
});

describe('archive paths', () => {
  it('normalises leading ./, . segments and doubled slashes', () => {
    expect(normaliseArchivePath('./a/b.png')).toBe('a/b.png');
    expect(normaliseArchivePath('././a//./b.png')).toBe('a/b.png');
    expect(normaliseArchivePath('dir/')).toBe('dir');
    expect(normaliseArchivePath('../a')).toBeNull();
    expect(normaliseArchivePath('./')).toBeNull();
  });

  it('says why a name is unsafe', () => {
    expect(archivePathProblem('a/b..c/d.png')).toBeNull(); // ".." only as a whole segment
    expect(archivePathProblem('')).toBe('is empty');
    expect(archivePathProblem('a/..')).toBe('contains a ".." segment');
    expect(archivePathProblem('d:x')).toBe('starts with a drive letter');
  });
});

describe('openCatalogArchive', () => {
  it('reads one entry at a time on demand and knows files from directories', async () => {
    const archive = await openCatalogArchive(
      buildZip([
        { name: 'dir/', data: '' },
        { name: 'dir/a.png', data: PNG_A },
        { name: 'catalog.jsonl', data: '{}' },
      ]),
      resolveImportLimits(),
    );
    try {
      expect(archive.catalogName).toBe('catalog.jsonl');
      expect(archive.catalog.toString()).toBe('{}');
      expect(archive.has('dir/a.png')).toBe(true);
      expect(archive.has('dir')).toBe(false);
      expect((await archive.read('dir/a.png')).equals(PNG_A)).toBe(true);
      expect((await archive.read('dir/a.png')).equals(PNG_A)).toBe(true);
      await expect(archive.read('nope.png')).rejects.toThrow(/no file nope\.png/);
    } finally {
      archive.close();
    }
  });

  it('uses the documented defaults', () => {
    expect(resolveImportLimits()).toEqual(DEFAULT_IMPORT_LIMITS);
    expect(DEFAULT_IMPORT_LIMITS).toEqual({
      maxBytes: 100 * MiB,
      maxRows: 50_000,
      maxImagesPerProduct: 10,
      maxZipEntries: 20_000,
      maxZipExpandedBytes: 1024 * MiB,
      maxZipEntryBytes: 20 * MiB,
      maxCompressionRatio: 200,
    });
  });
});
