import { describe, expect, it } from 'vitest';
import { ImportFileError, parseCatalog, type ImportFormat, type ParsedRow } from './parse.js';

const HEADER = 'externalId,title,description,category,labels,price,currency,url,imageUrls';

const csv = (...lines: string[]) => Buffer.from(lines.join('\n') + '\n');
const jsonl = (...lines: string[]) => Buffer.from(lines.join('\n'));

async function fileError(
  bytes: Buffer,
  format: ImportFormat,
  limits = {},
): Promise<ImportFileError> {
  const error = await parseCatalog(bytes, format, { limits }).then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof ImportFileError))
    throw new Error(`expected ImportFileError, got ${String(error)}`);
  return error;
}

/** Row number and error code of each row (null for a good one), the shape most tests check. */
const outcome = (rows: ParsedRow[]) => rows.map((r) => [r.row, r.error?.code ?? null]);

describe('parseCatalog: CSV', () => {
  it('reads quoted fields with commas, quotes and newlines, a BOM, labels and images', async () => {
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      csv(
        HEADER,
        'sku-1,"Dress, red","Soft.\nMachine ""washable"".",dresses,"{""color"":""red"",""size"":[""S"",""M""]}",19.99,eur,https://shop.example/1,https://cdn.example/1.jpg|https://cdn.example/2.jpg',
        'sku-2,Plain shirt,,,,,,,',
        'sku-3,12" monitor stand,,,,0,,,',
      ),
    ]);
    const { rows } = await parseCatalog(bytes, 'CSV');
    expect(rows).toEqual([
      {
        row: 1,
        externalId: 'sku-1',
        error: null,
        item: {
          externalId: 'sku-1',
          title: 'Dress, red',
          description: 'Soft.\nMachine "washable".',
          category: 'dresses',
          labels: { color: 'red', size: ['S', 'M'] },
          price: 19.99,
          currency: 'EUR',
          url: 'https://shop.example/1',
          images: [{ url: 'https://cdn.example/1.jpg' }, { url: 'https://cdn.example/2.jpg' }],
        },
      },
      {
        row: 2,
        externalId: 'sku-2',
        error: null,
        item: {
          externalId: 'sku-2',
          title: 'Plain shirt',
          description: null,
          category: null,
          labels: {},
          price: null,
          currency: null,
          url: null,
          images: [],
        },
      },
      expect.objectContaining({ row: 3, externalId: 'sku-3', error: null }),
    ]);
    expect(rows[2]?.item).toMatchObject({ title: '12" monitor stand', price: 0 });
  });

  it('matches columns in any order and case, ignores unknown ones, accepts CRLF', async () => {
    const bytes = Buffer.from(
      'Title, EXTERNALID ,notes,imageurls\r\nHat,h-1,ignored,https://cdn.example/h.jpg\r\n',
    );
    const { rows } = await parseCatalog(bytes, 'CSV');
    expect(rows).toHaveLength(1);
    expect(rows[0]?.item).toMatchObject({
      externalId: 'h-1',
      title: 'Hat',
      images: [{ url: 'https://cdn.example/h.jpg' }],
    });
  });

  it('turns each bad row into an error row and keeps every good one', async () => {
    const { rows } = await parseCatalog(
      csv(
        'externalId,title,price,currency,url,imageUrls,labels',
        'a,Good one,10,USD,,,', // 1
        ',No id,,,,,', // 2
        'b,,,,,,', // 3
        'c,Bad price,12.345,,,,', // 4
        'd,Bad currency,,EURO,,,', // 5
        'e,Bad url,,,notaurl,,', // 6
        'f,Too many,,,,' +
          Array.from({ length: 11 }, (_, i) => `https://c.example/${i}.jpg`).join('|') +
          ',', // 7
        'g,Relative image,,,,images/g.png,', // 8
        'a,Dup of 1,,,,,', // 9
        'h,Bad labels,,,,,"[1]"', // 10
        'i,Nul \u0000 title,,,,,', // 11
        'j,Too,many,cells,,,,', // 12
        ',,,,,,', // 13: blank, counted, no row
        'k,Good two,0.5,,https://shop.example/k,https://c.example/k.jpg,{}', // 14
      ),
      'CSV',
    );
    expect(outcome(rows)).toEqual([
      [1, null],
      [2, 'INVALID_ROW'],
      [3, 'INVALID_ROW'],
      [4, 'INVALID_ROW'],
      [5, 'INVALID_ROW'],
      [6, 'INVALID_ROW'],
      [7, 'TOO_MANY_IMAGES'],
      [8, 'INVALID_ROW'],
      [9, 'DUPLICATE_EXTERNAL_ID'],
      [10, 'INVALID_ROW'],
      [11, 'INVALID_ROW'],
      [12, 'INVALID_ROW'],
      [14, null],
    ]);
    const reasons = Object.fromEntries(rows.map((r) => [r.row, r.error?.reason]));
    expect(reasons[2]).toMatch(/^externalId is required/);
    expect(reasons[3]).toMatch(/^title is required/);
    expect(reasons[4]).toMatch(/^price/);
    expect(reasons[5]).toMatch(/^currency/);
    expect(reasons[6]).toMatch(/^url/);
    expect(reasons[8]).toMatch(/^imageUrls entry 1/);
    expect(reasons[9]).toBe('externalId "a" already appears in row 1');
    expect(reasons[10]).toMatch(/^labels/);
    expect(reasons[11]).toMatch(/^title contains a NUL byte/);
    expect(reasons[12]).toMatch(/the row has 8 cells, the header has 7/);
    // A refused row still says which product it was, when it can.
    expect(rows.find((r) => r.row === 4)?.externalId).toBe('c');
    expect(rows.find((r) => r.row === 2)?.externalId).toBeNull();
    expect(rows.filter((r) => r.item).map((r) => r.externalId)).toEqual(['a', 'k']);
  });

  it('refuses a header without externalId or title, and an empty file', async () => {
    const missing = await fileError(csv('id,name', '1,x'), 'CSV');
    expect(missing.code).toBe('MISSING_COLUMNS');
    expect(missing.message).toMatch(/externalId or title/);
    expect((await fileError(csv('externalId,price', '1,2'), 'CSV')).message).toMatch(
      /no title column/,
    );
    const semicolons = await fileError(csv('externalId;title', '1;x'), 'CSV');
    expect(semicolons.message).toMatch(/";"/);
    expect((await fileError(Buffer.alloc(0), 'CSV')).code).toBe('MISSING_COLUMNS');
    expect((await fileError(csv('externalId,title,title'), 'CSV')).code).toBe('BAD_FORMAT');
  });

  it('accepts a header with no rows', async () => {
    expect((await parseCatalog(csv('externalId,title'), 'CSV')).rows).toEqual([]);
  });

  it('refuses what it cannot read: an unclosed quote, text that is not UTF-8', async () => {
    const unclosed = await fileError(csv('externalId,title', 'a,"never closed', 'b,x'), 'CSV');
    expect(unclosed.code).toBe('BAD_FORMAT');
    expect(unclosed.message).toMatch(/Quote Not Closed/);
    const latin1 = Buffer.from('externalId,title\na,Caf\xe9\n', 'latin1');
    expect((await fileError(latin1, 'CSV')).message).toMatch(/not UTF-8/);
  });
});

describe('parseCatalog: JSONL', () => {
  it('reads one object a line, keeping line numbers past blank and invalid lines', async () => {
    const { rows } = await parseCatalog(
      jsonl(
        JSON.stringify({
          externalId: 'a',
          title: 'A',
          labels: { fit: 'slim' },
          price: 12.5,
          currency: 'gbp',
          imageUrls: ['https://c.example/a.jpg'],
          extra: true,
        }),
        '',
        '{"externalId":"b","title":',
        '   ',
        '[1,2]',
        '"just a string"',
        '{"externalId":"c","title":"C","imageUrls":"https://c.example/c1.jpg|https://c.example/c2.jpg"}',
        '{"externalId":"a","title":"again"}\r',
        '{"externalId":"d","title":"D","price":-1}',
        '',
      ),
      'JSONL',
    );
    expect(outcome(rows)).toEqual([
      [1, null],
      [3, 'INVALID_ROW'],
      [5, 'INVALID_ROW'],
      [6, 'INVALID_ROW'],
      [7, null],
      [8, 'DUPLICATE_EXTERNAL_ID'],
      [9, 'INVALID_ROW'],
    ]);
    expect(rows[0]?.item).toEqual({
      externalId: 'a',
      title: 'A',
      description: null,
      category: null,
      labels: { fit: 'slim' },
      price: 12.5,
      currency: 'GBP',
      url: null,
      images: [{ url: 'https://c.example/a.jpg' }],
    });
    expect(rows[1]?.error?.reason).toMatch(/^the line is not valid JSON/);
    expect(rows[2]?.error?.reason).toBe('the line must be a JSON object');
    expect(rows[4]?.item?.images).toHaveLength(2);
    expect(rows[5]?.error?.reason).toBe('externalId "a" already appears in row 1');
    expect(rows[6]).toMatchObject({ externalId: 'd', item: null });
  });

  it('a NUL in a line never reaches a row: its reason shows the character escaped', async () => {
    const { rows } = await parseCatalog(
      jsonl(
        '\u0000{"externalId":"a","title":"A"}',
        '{"externalId":"b","title":"B\\u0000"}',
        '{"externalId":"c","title":"C\u0000"}',
      ),
      'JSONL',
    );
    expect(rows.map((r) => r.error?.code)).toEqual(['INVALID_ROW', 'INVALID_ROW', 'INVALID_ROW']);
    for (const row of rows) expect(row.error?.reason).not.toContain('\u0000');
    expect(rows[0]?.error?.reason).toContain('\\u0000');
    expect(rows[1]?.error?.reason).toBe('title contains a NUL byte');
  });

  it('accepts a BOM and an empty file', async () => {
    const withBom = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      jsonl('{"externalId":"a","title":"A"}'),
    ]);
    expect(outcome((await parseCatalog(withBom, 'JSONL')).rows)).toEqual([[1, null]]);
    expect((await parseCatalog(Buffer.alloc(0), 'JSONL')).rows).toEqual([]);
  });
});

describe('parseCatalog: limits', () => {
  const rowsCsv = (n: number) =>
    csv('externalId,title', ...Array.from({ length: n }, (_, i) => `id-${i},Title ${i}`));
  const rowsJsonl = (n: number) =>
    jsonl(
      ...Array.from({ length: n }, (_, i) => JSON.stringify({ externalId: `id-${i}`, title: 'T' })),
    );

  it('allows exactly maxRows rows and refuses one more', async () => {
    expect((await parseCatalog(rowsCsv(5), 'CSV', { limits: { maxRows: 5 } })).rows).toHaveLength(
      5,
    );
    const csvError = await fileError(rowsCsv(6), 'CSV', { maxRows: 5 });
    expect(csvError.code).toBe('TOO_MANY_ROWS');
    expect(csvError.details).toEqual({ limit: 5 });
    expect(
      (await parseCatalog(rowsJsonl(5), 'JSONL', { limits: { maxRows: 5 } })).rows,
    ).toHaveLength(5);
    expect((await fileError(rowsJsonl(6), 'JSONL', { maxRows: 5 })).code).toBe('TOO_MANY_ROWS');
  });

  it('counts bad rows toward maxRows too', async () => {
    const bytes = jsonl('nope', 'nope', 'nope');
    expect((await fileError(bytes, 'JSONL', { maxRows: 2 })).code).toBe('TOO_MANY_ROWS');
  });

  it('refuses a file over maxBytes before reading it', async () => {
    const bytes = rowsCsv(3);
    expect(
      (await parseCatalog(bytes, 'CSV', { limits: { maxBytes: bytes.length } })).rows,
    ).toHaveLength(3);
    for (const format of ['CSV', 'JSONL', 'ZIP'] as const) {
      const error = await fileError(bytes, format, { maxBytes: bytes.length - 1 });
      expect(error.code).toBe('TOO_LARGE');
      expect(error.details).toEqual({ limit: bytes.length - 1 });
    }
  });

  it('applies maxImagesPerProduct to each row', async () => {
    const images = (n: number) =>
      Array.from({ length: n }, (_, i) => `https://c.example/${i}.jpg`).join('|');
    const bytes = csv('externalId,title,imageUrls', `a,A,${images(3)}`, `b,B,${images(4)}`);
    const { rows } = await parseCatalog(bytes, 'CSV', { limits: { maxImagesPerProduct: 3 } });
    expect(outcome(rows)).toEqual([
      [1, null],
      [2, 'TOO_MANY_IMAGES'],
    ]);
    expect(rows[1]?.error?.reason).toBe('imageUrls lists 4 images, the limit is 3');
  });

  it('refuses a limit that is not a positive number, and an unknown format', async () => {
    await expect(
      parseCatalog(rowsCsv(1), 'CSV', { limits: { maxRows: Number.NaN } }),
    ).rejects.toThrow(TypeError);
    expect((await fileError(rowsCsv(1), 'XML' as ImportFormat)).code).toBe('BAD_FORMAT');
  });
});
