import { testEngines } from '@lookalike/db';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './testing/server.js';

// Postgres text cannot hold U+0000: such a value must be refused at the edge, never reach the
// database (where it would be an INTERNAL_SERVER_ERROR with a stack in the log).
const NUL = '\u0000';

interface Job {
  status: string;
  errors: { nodes: { row: number; code: string; reason: string }[] };
}

async function waitForJob(t: TestServer, id: string): Promise<Job> {
  const until = Date.now() + 120_000;
  for (;;) {
    const res = await t.client.query<{ ingestJob: Job }>(
      `query ($id: ID!) { ingestJob(id: $id) { status errors(first: 100) { nodes { row code reason } } } }`,
      { id },
    );
    const job = res.data?.ingestJob;
    if (!job) throw new Error(JSON.stringify(res.errors));
    if (!['QUEUED', 'RUNNING'].includes(job.status)) return job;
    if (Date.now() > until) throw new Error(`job still ${job.status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Refusal {
  status: number;
  data?: unknown;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

describe.each(testEngines())('input at the edge ($name)', (engine) => {
  let t: TestServer;
  let photo: Buffer;
  let productId: string;

  const merchantId = () => t.server.bootstrap.merchantId;

  /** What the catalog holds, to prove a refused request stored nothing. */
  async function stored() {
    const { items } = await t.db.products.list(merchantId(), { first: 100 });
    const jobs = await t.client.query<{ ingestJobs: { nodes: { id: string }[] } }>(
      `{ ingestJobs(first: 100) { nodes { id } } }`,
    );
    return {
      count: await t.db.products.count(merchantId()),
      products: items,
      jobs: jobs.data?.ingestJobs.nodes.length,
    };
  }

  /** Where this test's log lines start. */
  let logMark = 0;
  beforeEach(() => {
    logMark = t.logs.length;
  });

  /** No request of this test was an unexpected error: none logged, no stack trace. */
  function expectNothingUnexpected() {
    const lines = t.logs.slice(logMark);
    expect(lines.filter((l) => l.includes('unexpected') || /\n\s+at /.test(l))).toEqual([]);
  }

  /**
   * POST with the variables as JSON text, for values too deep to build or encode here
   * (JSON.stringify and the SDK's encoder recurse).
   */
  async function rawQuery(query: string, variablesJson: string): Promise<Refusal> {
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
      body: `{"query": ${JSON.stringify(query)}, "variables": ${variablesJson}}`,
    });
    return { status: res.status, ...((await res.json()) as Omit<Refusal, 'status'>) };
  }

  function expectRefused(res: Refusal, field: string | RegExp, message: RegExp) {
    expect(res.status, JSON.stringify(res.errors)).toBeLessThan(500);
    expect(res.data ?? null).toBeNull();
    const error = res.errors?.[0];
    expect(error?.extensions?.code, JSON.stringify(res.errors)).toBe('BAD_USER_INPUT');
    if (typeof field === 'string') expect(error?.extensions?.field).toBe(field);
    else expect(String(error?.extensions?.field)).toMatch(field);
    expect(error?.message).toMatch(message);
  }

  beforeAll(async () => {
    // A worker in this process on both engines: the import tests below wait for their rows.
    t = await startTestServer(engine, { WORKER: 'on' });
    photo = await sharp({
      create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 40, b: 40 } },
    })
      .png()
      .toBuffer();
    const created = await t.client.query<{ createProduct: { id: string } }>(
      `mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`,
      { input: { externalId: 'keep-1', title: 'Red dress', category: 'dress' } },
    );
    expect(created.errors).toBeUndefined();
    productId = created.data?.createProduct.id as string;
  }, 120_000);

  afterAll(async () => {
    await t.stop();
  });

  describe('NUL bytes in text are refused with BAD_USER_INPUT naming the field', () => {
    const CREATE = `mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`;
    const UPSERT = `mutation($input: CreateProductInput!) { upsertProduct(input: $input) { id } }`;
    const UPDATE = `mutation($id: ID!, $input: UpdateProductInput!) { updateProduct(id: $id, input: $input) { id } }`;
    const base = { externalId: 'nul-1', title: 'Plain title' };

    const variableCases: [string, () => [string, Record<string, unknown>], string][] = [
      [
        'createProduct title',
        () => [CREATE, { input: { ...base, title: `a${NUL}b` } }],
        'input.title',
      ],
      [
        'createProduct description',
        () => [CREATE, { input: { ...base, description: NUL } }],
        'input.description',
      ],
      [
        'createProduct externalId',
        () => [CREATE, { input: { ...base, externalId: `x${NUL}` } }],
        'input.externalId',
      ],
      [
        'createProduct category',
        () => [CREATE, { input: { ...base, category: `dress${NUL}` } }],
        'input.category',
      ],
      [
        'createProduct label value',
        () => [CREATE, { input: { ...base, labels: { color: `red${NUL}` } } }],
        'input.labels.color',
      ],
      [
        'createProduct label key',
        () => [CREATE, { input: { ...base, labels: { [`col${NUL}or`]: 'red' } } }],
        'input.labels',
      ],
      [
        'createProduct nested label value',
        () => [CREATE, { input: { ...base, labels: { sizes: ['s', `m${NUL}`] } } }],
        'input.labels.sizes[1]',
      ],
      ['upsertProduct title', () => [UPSERT, { input: { ...base, title: NUL } }], 'input.title'],
      [
        'updateProduct title',
        () => [UPDATE, { id: productId, input: { title: `Red${NUL}dress` } }],
        'input.title',
      ],
      [
        'updateProduct url',
        () => [UPDATE, { id: productId, input: { url: `https://example.com/${NUL}` } }],
        'input.url',
      ],
      [
        'products filter query',
        () => [
          `query($f: ProductFilter) { products(filter: $f) { totalCount } }`,
          { f: { query: `red${NUL}` } },
        ],
        'f.query',
      ],
      [
        'products filter label',
        () => [
          `query($f: ProductFilter) { products(filter: $f) { totalCount } }`,
          { f: { labels: { color: NUL } } },
        ],
        'f.labels.color',
      ],
      [
        'importProducts title',
        () => [
          `mutation($items: [ImportItemInput!]!) { importProducts(items: $items) { id } }`,
          {
            items: [
              { externalId: 'i-1', title: 'ok' },
              { externalId: 'i-2', title: `t${NUL}` },
            ],
          },
        ],
        'items[1].title',
      ],
      [
        'importProducts image URL',
        () => [
          `mutation($items: [ImportItemInput!]!) { importProducts(items: $items) { id } }`,
          { items: [{ externalId: 'i-1', title: 'ok', imageUrls: [`https://x.test/${NUL}.png`] }] },
        ],
        'items[0].imageUrls[0]',
      ],
      [
        'createApiKey name',
        () => [
          `mutation($name: String!) { createApiKey(name: $name, scopes: [SEARCH]) { secret } }`,
          { name: `key${NUL}` },
        ],
        'name',
      ],
      [
        'createWebhookEndpoint URL',
        () => [
          `mutation($url: String!) { createWebhookEndpoint(url: $url, events: ["import.completed"]) { secret } }`,
          { url: `https://hooks.example.com/${NUL}` },
        ],
        'url',
      ],
      [
        'createMerchant name',
        () => [
          `mutation($name: String!) { createMerchant(name: $name) { merchant { id } } }`,
          { name: `Shop${NUL}` },
        ],
        'name',
      ],
    ];

    it.each(variableCases)('in variables: %s', async (_name, make, field) => {
      const before = await stored();
      const [query, variables] = make();
      const res = await t.client.query(query, variables);
      expectRefused(res, field, /NUL/);
      expect(await stored()).toEqual(before);
      expectNothingUnexpected();
    });

    const literalCases: [string, string, string][] = [
      [
        'createProduct title',
        `mutation { createProduct(input: { externalId: "lit-1", title: "a\\u0000b" }) { id } }`,
        'input.title',
      ],
      [
        'createProduct label value',
        `mutation { createProduct(input: { externalId: "lit-1", title: "t", labels: { color: "r\\u0000" } }) { id } }`,
        'input.labels.color',
      ],
      [
        'updateProduct category (block string)',
        `mutation { updateProduct(id: "PRODUCT", input: { category: """a\u0000b""" }) { id } }`,
        'input.category',
      ],
      [
        'products filter in a list',
        `{ products(filter: { categories: ["dress", "x\\u0000"] }) { totalCount } }`,
        'filter.categories[1]',
      ],
      [
        'importProducts externalId',
        `mutation { importProducts(items: [{ externalId: "\\u0000", title: "t" }]) { id } }`,
        'items[0].externalId',
      ],
      [
        'a variable default',
        `query($q: String = "\\u0000") { products(filter: { query: $q }) { totalCount } }`,
        'q',
      ],
    ];

    it.each(literalCases)('inline: %s', async (_name, query, field) => {
      const before = await stored();
      const res = await t.client.query(query.replace('PRODUCT', productId));
      expectRefused(res, field, /NUL/);
      expect(await stored()).toEqual(before);
      expectNothingUnexpected();
    });

    it('in similarProducts filter, beside an upload', async () => {
      const res = await t.client.upload(
        `query($image: Upload!, $filter: ProductFilter) { similarProducts(image: $image, filter: $filter) { hits { score } } }`,
        { filter: { category: `dress${NUL}` } },
        { image: { bytes: photo, type: 'image/png', name: 'photo.png' } },
      );
      expectRefused(res, 'filter.category', /NUL/);
      expectNothingUnexpected();
    });

    it('text with other characters still passes (tabs and line breaks in a description)', async () => {
      const res = await t.client.query<{ createProduct: { id: string; description: string } }>(
        `mutation($input: CreateProductInput!) { createProduct(input: $input) { id description } }`,
        { input: { externalId: 'ok-ünï', title: 'Rock ✓ “quoted”', description: 'a\tb\nc' } },
      );
      expect(res.errors).toBeUndefined();
      expect(res.data?.createProduct.description).toBe('a\tb\nc');
      await t.db.products.delete(merchantId(), res.data?.createProduct.id as string);
      expectNothingUnexpected();
    });
  });

  describe('labels nested without limit', () => {
    /** `{"a": {"a": ... 1}}`, `depth` objects deep. */
    const nested = (depth: number): unknown => {
      let value: unknown = 1;
      for (let i = 0; i < depth; i++) value = { a: value };
      return value;
    };
    const nestedLiteral = (depth: number) => `${'{ a: '.repeat(depth)}1${' }'.repeat(depth)}`;

    it('10,000 deep in variables: refused with the limit, nothing stored', async () => {
      const before = await stored();
      const deepObject = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
      const deepArray = `{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
      const create = await rawQuery(
        `mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`,
        `{"input": {"externalId": "deep-1", "title": "Deep", "labels": ${deepObject}}}`,
      );
      expectRefused(create, 'input.labels', /limit is 5/);
      const arrays = await rawQuery(
        `mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`,
        `{"input": {"externalId": "deep-2", "title": "Deep", "labels": ${deepArray}}}`,
      );
      expectRefused(arrays, 'input.labels', /limit is 5/);
      const update = await rawQuery(
        `mutation($id: ID!, $input: UpdateProductInput!) { updateProduct(id: $id, input: $input) { id } }`,
        `{"id": "${productId}", "input": {"labels": ${deepObject}}}`,
      );
      expectRefused(update, 'input.labels', /limit is 5/);
      const filter = await rawQuery(
        `query($f: ProductFilter) { products(filter: $f) { totalCount } }`,
        `{"f": {"labels": ${deepObject}}}`,
      );
      expectRefused(filter, 'f.labels', /limit is 5/);
      const imported = await rawQuery(
        `mutation($items: [ImportItemInput!]!) { importProducts(items: $items) { id } }`,
        `{"items": [{"externalId": "deep-3", "title": "Deep", "labels": ${deepObject}}]}`,
      );
      expectRefused(imported, 'items[0].labels', /limit is 5/);
      // A variable's labels, whatever variable carries them.
      const bare = await rawQuery(
        `query($l: JSON) { products(filter: { labels: $l }) { totalCount } }`,
        `{"l": ${deepArray}}`,
      );
      expectRefused(bare, 'l', /limit is 5/);
      expect(await stored()).toEqual(before);
      expectNothingUnexpected();
    });

    it('10,000 deep inline: refused with the limit, nothing stored', async () => {
      const before = await stored();
      const create = await t.client.query(
        `mutation { createProduct(input: { externalId: "deep-3", title: "Deep", labels: ${nestedLiteral(10_000)} }) { id } }`,
      );
      expectRefused(create, /.*/, /deep|depth|nested/i);
      const list = await t.client.query(
        `{ products(filter: { labels: { a: ${'['.repeat(10_000)}${']'.repeat(10_000)} } }) { totalCount } }`,
      );
      expectRefused(list, /.*/, /deep|depth|nested/i);
      expect(await stored()).toEqual(before);
      expectNothingUnexpected();
    });

    it('just past the labels limit: refused naming labels and the limit; at the limit: stored', async () => {
      const deep = await t.client.query(
        `mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`,
        { input: { externalId: 'deep-4', title: 'Deep', labels: nested(6) } },
      );
      expectRefused(deep, 'input.labels', /labels .*5 levels/);
      const inline = await t.client.query(
        `mutation { createProduct(input: { externalId: "deep-4", title: "Deep", labels: ${nestedLiteral(6)} }) { id } }`,
      );
      expectRefused(inline, /labels/, /labels .*5 levels/);
      const filter = await t.client.query(
        `query($f: ProductFilter) { products(filter: $f) { totalCount } }`,
        { f: { labels: nested(6) } },
      );
      expectRefused(filter, 'f.labels', /labels .*5 levels/);
      // Five objects deep is what imports accept too (packages/core/src/imports/limits.ts).
      const ok = await t.client.query<{ createProduct: { id: string; labels: unknown } }>(
        `mutation($input: CreateProductInput!) { createProduct(input: $input) { id labels } }`,
        { input: { externalId: 'deep-5', title: 'Deep', labels: nested(5) } },
      );
      expect(ok.errors).toBeUndefined();
      expect(ok.data?.createProduct.labels).toEqual(nested(5));
      const found = await t.client.query<{ products: { totalCount: number } }>(
        `query($f: ProductFilter) { products(filter: $f) { totalCount } }`,
        { f: { labels: nested(5) } },
      );
      expect(found.data?.products.totalCount).toBe(1);
      await t.db.products.delete(merchantId(), ok.data?.createProduct.id as string);
      expectNothingUnexpected();
    });
  });

  describe('documents that make validation recurse or fan out', () => {
    /** Fragments F0..F(n-1), each spreading the next `spreads` times; the last reads a field. */
    const fragments = (n: number, spreads: number) =>
      `query { ...F0 } ` +
      Array.from({ length: n }, (_, i) =>
        i === n - 1
          ? `fragment F${i} on Query { searchSettings { metric } }`
          : `fragment F${i} on Query { ${`...F${i + 1} `.repeat(spreads)}}`,
      ).join(' ');

    it('fragments that each spread the next twice: answered at once, not in 2^30 steps', async () => {
      const started = Date.now();
      const res = await t.client.query<{ searchSettings: { metric: string } }>(fragments(30, 2));
      expect(res.errors).toBeUndefined();
      expect(res.data?.searchSettings.metric).toBe('COSINE');
      expect(Date.now() - started).toBeLessThan(5_000);
      expectNothingUnexpected();
    });

    it('a chain of 10,000 fragments: BAD_USER_INPUT with the limit; 100 still answer', async () => {
      const chain = await rawQuery(fragments(10_000, 1), '{}');
      expectRefused(chain, /.*/, /more than 100 fragments; the limit is 100/);
      const hundred = await t.client.query<{ searchSettings: { metric: string } }>(
        fragments(100, 1),
      );
      expect(hundred.errors).toBeUndefined();
      expect(hundred.data?.searchSettings.metric).toBe('COSINE');
      expectNothingUnexpected();
    });

    it('brackets 1,000 deep in a GET query string: BAD_USER_INPUT before parsing', async () => {
      // 1,000 levels: what fits in a URL under Node's 16 KB header limit.
      const query = `{ products(filter: { labels: ${'['.repeat(1_000)}${']'.repeat(1_000)} }) { totalCount } }`;
      const res = await fetch(`${t.url}/graphql?query=${encodeURIComponent(query)}`, {
        headers: { authorization: `Bearer ${t.key}`, 'apollo-require-preflight': 'true' },
      });
      expectRefused(
        { status: res.status, ...((await res.json()) as Omit<Refusal, 'status'>) },
        /.*/,
        /more than 32 levels deep; the limit is 32/,
      );
      expectNothingUnexpected();
    });
  });

  describe('multipart', () => {
    it('a map entry naming a file part the request never sends: BAD_USER_INPUT', async () => {
      const boundary = 'lookalike-boundary';
      const operations = JSON.stringify({
        query: `query($image: Upload!) { similarProducts(image: $image) { hits { score } } }`,
        variables: { image: null },
      });
      const body =
        `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.image"]}\r\n` +
        `--${boundary}--\r\n`;
      const res = await fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${t.key}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'apollo-require-preflight': 'true',
        },
        body,
      });
      const answer = (await res.json()) as Refusal;
      expectRefused({ ...answer, status: res.status }, 'image', /does not send/);
      expectNothingUnexpected();
    });
  });

  describe('catalog files with NUL in a cell', () => {
    const IMPORT = `mutation ($file: Upload!, $format: ImportFormat!) { importCatalog(file: $file, format: $format) { id status total failed } }`;

    it.each([
      ['CSV', 'externalId,title,category\nn-1,Fine,dress\nn-2,Bad\u0000title,dress\n'],
      [
        'JSONL',
        '{"externalId":"n-1","title":"Fine"}\n{"externalId":"n-2","title":"Bad\\u0000title"}\n' +
          '\u0000{"externalId":"n-3","title":"x"}\n{"externalId":"n-4","title":"x","la\u0000bels":1}\n',
      ],
    ])('%s: the row is INVALID_ROW, never a 500', async (format, text) => {
      const res = await t.client.upload<{ importCatalog: { id: string; total: number } }>(
        IMPORT,
        { format },
        { file: { bytes: Buffer.from(text), type: 'text/plain', name: `catalog.${format}` } },
      );
      expect(res.status, JSON.stringify(res.errors)).toBeLessThan(500);
      expect(res.errors).toBeUndefined();
      const job = await waitForJob(t, res.data?.importCatalog.id as string);
      const failed = job.errors.nodes;
      expect(failed.length).toBeGreaterThan(0);
      for (const row of failed) {
        expect(row.code).toBe('INVALID_ROW');
        expect(row.reason).not.toContain(NUL);
      }
      expect(failed.find((r) => r.row === 2)?.reason).toMatch(/title contains a NUL byte/);
      // The good row is imported.
      expect((await t.db.products.getByExternalId(merchantId(), 'n-1'))?.title).toBe('Fine');
      expectNothingUnexpected();
    });
  });
});
