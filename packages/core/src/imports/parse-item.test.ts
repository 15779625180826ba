import { describe, expect, it } from 'vitest';
import { isRowError, validateItem, type ImportItem, type RowError } from './parse-item.js';

const base = { externalId: 'sku-1', title: 'Red dress' };

function ok(raw: Record<string, unknown>, ctx = {}): ImportItem {
  const result = validateItem(raw, ctx);
  if (isRowError(result)) throw new Error(`expected an item, got ${result.code}: ${result.reason}`);
  return result;
}

function fails(raw: Record<string, unknown>, ctx = {}): RowError {
  const result = validateItem(raw, ctx);
  if (!isRowError(result)) throw new Error(`expected an error, got ${JSON.stringify(result)}`);
  return result;
}

describe('validateItem', () => {
  it('gives the item with nulls and empties for what is absent', () => {
    expect(ok(base)).toEqual({
      externalId: 'sku-1',
      title: 'Red dress',
      description: null,
      category: null,
      labels: {},
      price: null,
      currency: null,
      url: null,
      images: [],
    });
  });

  it('accepts the JSON API spelling and the CSV spelling alike', () => {
    const json = ok({
      ...base,
      description: 'Line one\r\nline two\tand a tab',
      category: 'dresses',
      labels: { color: 'red', sizes: ['S', 'M'] },
      price: 19.99,
      currency: 'eur',
      url: 'https://shop.example/p/1',
      imageUrls: ['https://cdn.example/1.jpg', ' https://cdn.example/2.jpg '],
      ignored: 'whatever',
    });
    const csv = ok({
      ...base,
      description: 'Line one\r\nline two\tand a tab',
      category: 'dresses',
      labels: '{"color":"red","sizes":["S","M"]}',
      price: '19.99',
      currency: 'EUR',
      url: 'https://shop.example/p/1',
      imageUrls: 'https://cdn.example/1.jpg| https://cdn.example/2.jpg |',
    });
    expect(json).toEqual(csv);
    expect(json.description).toBe('Line one\nline two\tand a tab');
    expect(json.currency).toBe('EUR');
    expect(json.images).toEqual([
      { url: 'https://cdn.example/1.jpg' },
      { url: 'https://cdn.example/2.jpg' },
    ]);
  });

  it('reads empty strings as null and a numeric externalId as its digits', () => {
    const item = ok({
      externalId: 42,
      title: ' Shoe ',
      description: '',
      category: '  ',
      labels: '',
      price: '',
      currency: '',
      url: '',
      imageUrls: '',
    });
    expect(item).toMatchObject({ externalId: '42', title: 'Shoe', description: null });
    expect(item).toMatchObject({ category: null, price: null, currency: null, url: null });
  });

  it.each([
    [{ title: 'x' }, /^externalId is required/],
    [{ externalId: '  ', title: 'x' }, /^externalId is required/],
    [{ externalId: 'a'.repeat(257), title: 'x' }, /^externalId is longer than 256/],
    [{ externalId: 1.5, title: 'x' }, /^externalId must be a string/],
    [{ externalId: 'a' }, /^title is required/],
    [{ ...base, title: 't'.repeat(501) }, /^title is longer than 500/],
    [{ ...base, title: 'a\u0000b' }, /^title contains a NUL byte/],
    [{ ...base, title: 'a\tb' }, /^title contains a control character/],
    [{ ...base, description: 'd'.repeat(10_001) }, /^description is longer than 10000/],
    [{ ...base, description: 'bell\u0007' }, /^description contains a control character/],
    [{ ...base, category: 'c'.repeat(201) }, /^category is longer than 200/],
    [{ ...base, labels: '[1,2]' }, /^labels must be a JSON object/],
    [{ ...base, labels: ['a'] }, /^labels must be a JSON object/],
    [{ ...base, labels: '{"a":' }, /^labels is not valid JSON/],
    [{ ...base, labels: '"text"' }, /^labels must be a JSON object/],
    [{ ...base, labels: { when: new Date() } }, /^labels.when is not a JSON value/],
    [{ ...base, labels: { n: Number.NaN } }, /^labels.n is not a finite number/],
    [{ ...base, labels: '{"__proto__":{"admin":true}}' }, /^labels may not have a "__proto__"/],
    [{ ...base, labels: { a: 'x\u0000' } }, /^labels.a contains a control character/],
    [{ ...base, price: '-1' }, /^price must be/],
    [{ ...base, price: -0.01 }, /^price must be/],
    [{ ...base, price: '1.999' }, /^price must be/],
    [{ ...base, price: 1.999 }, /^price must be/],
    [{ ...base, price: '1,50' }, /^price must be/],
    [{ ...base, price: '1e3' }, /^price must be/],
    [{ ...base, price: Number.POSITIVE_INFINITY }, /^price must be/],
    [{ ...base, price: '10000000000' }, /^price must be less than/],
    [{ ...base, price: true }, /^price must be/],
    [{ ...base, currency: 'EURO' }, /^currency must be a three-letter/],
    [{ ...base, currency: 'E1R' }, /^currency must be a three-letter/],
    [{ ...base, url: 'ftp://shop.example/x' }, /^url .* is not an http\(s\) URL/],
    [{ ...base, url: 'shop.example/x' }, /^url .* is not an absolute URL/],
    [{ ...base, url: `https://shop.example/${'a'.repeat(2048)}` }, /^url is longer than 2048/],
    [{ ...base, url: 'https://user:pw@shop.example/' }, /^url .* carries a user name/],
    [{ ...base, imageUrls: 'javascript://alert(1)' }, /^imageUrls entry 1 .* not an http\(s\) URL/],
    [{ ...base, imageUrls: 'images/a.png' }, /^imageUrls entry 1 .* not an absolute URL/],
    [{ ...base, imageUrls: ['https://a.example/x.png', 3] }, /^imageUrls entry 2 must be a string/],
    [{ ...base, imageUrls: ['https://a.example/x.png', ''] }, /^imageUrls entry 2 is empty/],
    [{ ...base, imageUrls: { a: 1 } }, /^imageUrls must be a list/],
    [{ ...base, imageUrls: 'https://a.example/\u0000.png' }, /^imageUrls contains a NUL byte/],
  ])('refuses %j as INVALID_ROW naming the field', (raw, reason) => {
    const error = fails(raw);
    expect(error.code).toBe('INVALID_ROW');
    expect(error.reason).toMatch(reason);
  });

  it('bounds labels in keys, depth and size', () => {
    const keys = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
    expect(ok({ ...base, labels: keys(50) }).labels).toEqual(keys(50));
    expect(fails({ ...base, labels: keys(51) }).reason).toMatch(
      /^labels has 51 keys, the limit is 50/,
    );

    const nest = (depth: number): unknown =>
      depth === 1 ? { leaf: 1 } : { next: nest(depth - 1) };
    expect(ok({ ...base, labels: nest(5) }).labels).toEqual(nest(5));
    expect(fails({ ...base, labels: nest(6) }).reason).toMatch(/^labels is nested deeper than 5/);
    expect(fails({ ...base, labels: { a: [[[[['deep']]]]] } }).reason).toMatch(/nested deeper/);

    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(fails({ ...base, labels: cyclic }).reason).toMatch(/nested deeper/);

    expect(ok({ ...base, labels: { text: 'x'.repeat(8000) } }).labels).toBeDefined();
    expect(fails({ ...base, labels: { text: 'x'.repeat(8192) } }).reason).toMatch(
      /^labels is 8203 bytes as JSON, the limit is 8192/,
    );
  });

  it('keeps prices to the cent and counts lengths in characters', () => {
    expect(ok({ ...base, price: '0' }).price).toBe(0);
    expect(ok({ ...base, price: '0019.90' }).price).toBe(19.9);
    expect(ok({ ...base, price: 0.1 + 0.2 }).price).toBe(0.3);
    expect(ok({ ...base, price: 9_999_999_999.99 }).price).toBe(9_999_999_999.99);
    // 500 emoji are 1000 UTF-16 units but 500 characters.
    expect(ok({ ...base, title: '👗'.repeat(500) }).title).toHaveLength(1000);
    expect(fails({ ...base, title: '👗'.repeat(501) }).reason).toMatch(/^title is longer than 500/);
  });

  it('limits images per product, counting each image once', () => {
    const urls = (n: number) => Array.from({ length: n }, (_, i) => `https://cdn.example/${i}.jpg`);
    expect(ok({ ...base, imageUrls: urls(10) }).images).toHaveLength(10);
    expect(fails({ ...base, imageUrls: urls(11) })).toEqual({
      code: 'TOO_MANY_IMAGES',
      reason: 'imageUrls lists 11 images, the limit is 10',
    });
    expect(fails({ ...base, imageUrls: urls(3) }, { maxImagesPerProduct: 2 }).code).toBe(
      'TOO_MANY_IMAGES',
    );
    const twice = [...urls(10), ...urls(10)];
    expect(ok({ ...base, imageUrls: twice }).images).toHaveLength(10);
  });

  it('resolves relative image paths against an archive, refusing unsafe ones', () => {
    const files = new Set(['images/a.png', 'b.jpg']);
    const archive = { has: (path: string) => files.has(path) };
    expect(
      ok(
        { ...base, imageUrls: './images/a.png|b.jpg|images//a.png|https://cdn.example/c.jpg' },
        {
          archive,
        },
      ).images,
    ).toEqual([{ file: 'images/a.png' }, { file: 'b.jpg' }, { url: 'https://cdn.example/c.jpg' }]);

    expect(fails({ ...base, imageUrls: 'b.jpg|missing.png' }, { archive })).toEqual({
      code: 'FILE_NOT_IN_ARCHIVE',
      reason: 'imageUrls entry 2 "missing.png" names no file in the archive',
    });
    for (const [path, why] of [
      ['../evil.png', 'contains a ".." segment'],
      ['/etc/passwd', 'is an absolute path'],
      ['a\\b.png', 'contains a backslash'],
      ['C:/x.png', 'starts with a drive letter'],
    ] as const) {
      const error = fails({ ...base, imageUrls: [path] }, { archive });
      expect(error.code).toBe('INVALID_ROW');
      expect(error.reason).toContain(why);
    }
    // A malformed entry is reported before a missing one, wherever it is.
    expect(fails({ ...base, imageUrls: 'missing.png|ftp://x.example/a' }, { archive }).code).toBe(
      'INVALID_ROW',
    );
  });
});
