import { isIP } from 'node:net';
import { verifyWebhook } from '@lookalike/core';
import { testEngines } from '@lookalike/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startImageServer, startReceiver, type ImageServer } from './testing/image-server.js';
import { startTestServer, type TestServer } from './testing/server.js';

const IMPORT = `mutation ($file: Upload!, $format: ImportFormat!) {
  importCatalog(file: $file, format: $format) { id status total done failed }
}`;
const JOB = `query ($id: ID!, $after: String) {
  ingestJob(id: $id) {
    id status total done failed images finishedAt
    errors(first: 1000, after: $after) { nodes { row externalId code reason } pageInfo { hasNextPage endCursor } }
  }
}`;

interface Job {
  id: string;
  status: string;
  total: number;
  done: number;
  failed: number;
  images: number;
  errors: { nodes: { row: number; externalId: string | null; code: string; reason: string }[] };
}

export async function waitForJob(t: TestServer, id: string, timeoutMs = 240_000): Promise<Job> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await t.client.query<{ ingestJob: Job }>(JOB, { id });
    const job = res.data?.ingestJob;
    if (!job) throw new Error(JSON.stringify(res.errors));
    if (!['QUEUED', 'RUNNING'].includes(job.status)) return job;
    if (Date.now() > until) throw new Error(`job still ${job.status}: ${job.done}/${job.total}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Loopback only: a connection anywhere else is a broken filter, refused here and recorded. */
function loopbackGuard(violations: string[]) {
  return {
    onConnect: ({ address }: { address: string }) => {
      const loopback = isIP(address) === 4 ? address.startsWith('127.') : address === '::1';
      if (!loopback) {
        violations.push(address);
        throw new Error(`test guard: refusing to connect to ${address}`);
      }
    },
  };
}

// Refused by the address rules before any connection (IMAGE_FETCH_ALLOW names 127.0.0.1 only).
const REFUSED = [
  'http://10.0.0.1/a.png',
  'http://172.16.0.1/a.png',
  'http://192.168.1.1/a.png',
  'http://100.64.0.1/a.png',
  'http://169.254.169.254/latest/meta-data/',
  'http://[::1]/a.png',
  'http://0.0.0.0/a.png',
  'http://167772161/a.png', // 10.0.0.1, decimal
  'http://012.0.0.1/a.png', // 10.0.0.1, octal
  'http://[fe80::1]/a.png',
];

function csvCell(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** 1,000 rows: 850 good, 50 invalid, 40 unreachable, 30 refused, 15 corrupt, 15 not images. */
function catalog(img: string): { csv: string; expected: Record<string, number> } {
  const lines = ['externalId,title,category,price,currency,labels,imageUrls'];
  const row = (cells: string[]) => lines.push(cells.map(csvCell).join(','));
  for (let i = 1; i <= 850; i++) {
    row([
      `P-${i}`,
      `Product ${i}`,
      `cat-${i % 7}`,
      '19.99',
      'EUR',
      `{"n":${i}}`,
      `${img}/img/${i % 60}.png`,
    ]);
  }
  const invalid = [
    (i: number) => [`P-${i}`, '', 'c', '1', 'EUR', '', `${img}/img/1.png`], // no title
    (i: number) => [`P-${i}`, 'T', 'c', 'abc', 'EUR', '', `${img}/img/1.png`], // bad price
    (i: number) => [`P-${i}`, 'T', 'c', '1', 'EURO', '', `${img}/img/1.png`], // bad currency
    (i: number) => [`P-${i}`, 'T', 'c', '1', 'EUR', '[1]', `${img}/img/1.png`], // labels not an object
    (i: number) => [`P-${i}`, 'bad\u0000title', 'c', '1', 'EUR', '', `${img}/img/1.png`], // NUL
  ];
  for (let i = 851; i <= 900; i++) row(invalid[i % invalid.length]!(i));
  for (let i = 901; i <= 940; i++) {
    const url = i % 2 ? `${img}/missing/${i}.png` : `http://127.0.0.1:1/${i}.png`;
    row([`P-${i}`, `Product ${i}`, 'c', '', '', '', url]);
  }
  for (let i = 941; i <= 970; i++)
    row([`P-${i}`, `Product ${i}`, 'c', '', '', '', REFUSED[i % REFUSED.length]!]);
  for (let i = 971; i <= 985; i++)
    row([`P-${i}`, `Product ${i}`, 'c', '', '', '', `${img}/corrupt/${i}.png`]);
  for (let i = 986; i <= 1000; i++)
    row([`P-${i}`, `Product ${i}`, 'c', '', '', '', `${img}/text/${i}.png`]);
  return {
    csv: `${lines.join('\n')}\n`,
    expected: {
      INVALID_ROW: 50,
      FETCH_FAILED: 40,
      URL_REFUSED: 30,
      CORRUPT_IMAGE: 15,
      NOT_AN_IMAGE: 15,
    },
  };
}

describe.each(testEngines())('bulk import through the API and workers ($name)', (engine) => {
  let t: TestServer;
  let img: ImageServer;
  const violations: string[] = [];
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let firstCompletion = true;

  beforeAll(async () => {
    img = await startImageServer();
    // The first import.completed delivery is answered 500: it must be retried.
    receiver = await startReceiver((_n, body) => {
      if (body.includes('"import.completed"') && firstCompletion) {
        firstCompletion = false;
        return 500;
      }
      return 200;
    });
    t = await startTestServer(
      engine,
      { IMAGE_FETCH_ALLOW: ['127.0.0.1'], WORKER: 'on' },
      {
        imageFetch: { ...loopbackGuard(violations), retryBaseMs: 10, timeoutMs: 5000 },
        worker: { pollingIntervalSeconds: 0.5, webhooks: { intervalMs: 100, backoffBaseMs: 200 } },
      },
    );
  }, 120_000);

  afterAll(async () => {
    await t.stop();
    await img.close();
    await receiver.close();
  });

  it('imports 1,000 rows: counts exact, every failed row listed with its reason; a webhook retried after a 500 and signed', async () => {
    const hook = await t.client.query<{
      createWebhookEndpoint: { secret: string; endpoint: { id: string } };
    }>(
      `mutation ($url: String!) { createWebhookEndpoint(url: $url, events: ["import.completed", "image.failed"]) { secret endpoint { id } } }`,
      { url: receiver.url },
    );
    const { secret, endpoint } = hook.data!.createWebhookEndpoint;
    const { csv, expected } = catalog(img.url);
    const res = await t.client.upload<{ importCatalog: { id: string; total: number } }>(
      IMPORT,
      { format: 'CSV' },
      { file: { bytes: Buffer.from(csv), name: 'catalog.csv', type: 'text/csv' } },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.importCatalog.total).toBe(1000);
    const job = await waitForJob(t, res.data!.importCatalog.id);
    expect(job).toMatchObject({
      status: 'COMPLETED',
      total: 1000,
      done: 850,
      failed: 150,
      images: 850,
    });
    const byCode: Record<string, number> = {};
    for (const e of job.errors.nodes) byCode[e.code] = (byCode[e.code] ?? 0) + 1;
    expect(byCode).toEqual(expected);
    const rows = job.errors.nodes.map((e) => e.row);
    expect(rows).toEqual([...rows].sort((a, b) => a - b));
    expect(job.errors.nodes.find((e) => e.row === 852)).toMatchObject({
      externalId: 'P-852',
      code: 'INVALID_ROW',
    });
    const refused = job.errors.nodes.filter((e) => e.code === 'URL_REFUSED');
    expect(refused.some((e) => /169\.254\.169\.254/.test(e.reason))).toBe(true);
    expect(refused.some((e) => /10\.0\.0\.1/.test(e.reason))).toBe(true);
    expect(violations).toEqual([]);

    const products = await t.client.query<{ products: { totalCount: number } }>(
      `{ products(first: 1) { totalCount } }`,
    );
    expect(products.data!.products.totalCount).toBe(850 + 100); // rows whose image failed keep their product
    expect(await t.db.images.count(t.server.bootstrap.merchantId)).toBe(850);

    // The webhook: answered 500 once, retried with the same id, signed per Standard Webhooks.
    const until = Date.now() + 30_000;
    const completions = () =>
      receiver.received.filter((r) => r.body.includes('"import.completed"'));
    while (completions().filter((r) => r.answered === 200).length === 0 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const [first, second] = completions();
    expect(first?.answered).toBe(500);
    expect(second?.answered).toBe(200);
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
    const body = verifyWebhook(secret, second!.body, second!.headers) as {
      type: string;
      data: { jobId: string; done: number; failed: number };
    };
    expect(body).toMatchObject({
      type: 'import.completed',
      data: { jobId: job.id, done: 850, failed: 150 },
    });
    const failedEvents = receiver.received.filter((r) => r.body.includes('"image.failed"'));
    expect(failedEvents).toHaveLength(100);
    const deliveries = await t.client.query<{
      webhookDeliveries: {
        nodes: { eventType: string; status: string; attempts: number; lastStatus: number }[];
      };
    }>(
      `query ($id: ID!) { webhookDeliveries(endpointId: $id, first: 100) { nodes { eventType status attempts lastStatus } } }`,
      {
        id: endpoint.id,
      },
    );
    const completion = deliveries.data!.webhookDeliveries.nodes.find(
      (d) => d.eventType === 'import.completed',
    );
    expect(completion).toMatchObject({ status: 'DELIVERED', attempts: 2, lastStatus: 200 });
  }, 300_000);

  it('importing the same file again changes nothing and fetches none of the stored images again', async () => {
    const before = [...img.hits.entries()]
      .filter(([p]) => p.startsWith('/img/'))
      .reduce((a, [, n]) => a + n, 0);
    const { csv } = catalog(img.url);
    const res = await t.client.upload<{ importCatalog: { id: string } }>(
      IMPORT,
      { format: 'CSV' },
      { file: { bytes: Buffer.from(csv), name: 'catalog.csv', type: 'text/csv' } },
    );
    const job = await waitForJob(t, res.data!.importCatalog.id);
    expect(job).toMatchObject({ status: 'COMPLETED', done: 850, failed: 150 });
    const after = [...img.hits.entries()]
      .filter(([p]) => p.startsWith('/img/'))
      .reduce((a, [, n]) => a + n, 0);
    expect(after).toBe(before);
    expect(await t.db.images.count(t.server.bootstrap.merchantId)).toBe(850);
    const products = await t.client.query<{ products: { totalCount: number } }>(
      `{ products(first: 1) { totalCount } }`,
    );
    expect(products.data!.products.totalCount).toBe(950);
  }, 300_000);

  it('searches by image URL through the same fetcher, and refuses private addresses', async () => {
    const res = await t.client.query<{
      similarProducts: { hits: { verdict: string; product: { externalId: string } }[] };
    }>(
      `query ($u: String!) { similarProducts(imageUrl: $u, first: 3) { hits { verdict product { externalId } } } }`,
      {
        u: `${img.url}/img/7.png`,
      },
    );
    expect(res.errors).toBeUndefined();
    const top = res.data!.similarProducts.hits[0];
    expect(top?.verdict).toBe('EXACT');
    expect(Number(top?.product.externalId.slice(2)) % 60).toBe(7);
    const refused = await t.client.query(
      `{ similarProducts(imageUrl: "http://169.254.169.254/x.png") { tookMs } }`,
    );
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'ADDRESS_REFUSED',
    });
    expect(violations).toEqual([]);
  }, 60_000);

  it('importProducts takes JSON items; bad ones are row errors, the job is answered at once', async () => {
    const res = await t.client.query<{ importProducts: { id: string; total: number } }>(
      `mutation ($items: [ImportItemInput!]!) { importProducts(items: $items) { id total } }`,
      {
        items: [
          {
            externalId: 'J-1',
            title: 'Json one',
            imageUrls: [`${img.url}/img/11.png`],
            labels: { color: 'red' },
          },
          { externalId: 'J-2', title: 'Json two', price: -1 },
          { externalId: 'J-1', title: 'Again' },
        ],
      },
    );
    expect(res.errors).toBeUndefined();
    const job = await waitForJob(t, res.data!.importProducts.id);
    expect(job).toMatchObject({ total: 3, done: 1, failed: 2 });
    expect(job.errors.nodes.map((e) => [e.row, e.code])).toEqual([
      [2, 'INVALID_ROW'],
      [3, 'DUPLICATE_EXTERNAL_ID'],
    ]);
  }, 60_000);

  it('refuses bad files with clear errors and stores nothing', async () => {
    const jobsBefore = await t.client.query<{ ingestJobs: { nodes: unknown[] } }>(
      `{ ingestJobs(first: 100) { nodes { id } } }`,
    );
    const noTitle = await t.client.upload(
      IMPORT,
      { format: 'CSV' },
      {
        file: { bytes: Buffer.from('externalId,price\nA,1\n'), name: 'c.csv' },
      },
    );
    expect(noTitle.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'MISSING_COLUMNS',
    });
    const notZip = await t.client.upload(
      IMPORT,
      { format: 'ZIP' },
      { file: { bytes: Buffer.from('nope'), name: 'c.zip' } },
    );
    expect(notZip.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const jobsAfter = await t.client.query<{ ingestJobs: { nodes: unknown[] } }>(
      `{ ingestJobs(first: 100) { nodes { id } } }`,
    );
    expect(jobsAfter.data!.ingestJobs.nodes.length).toBe(jobsBefore.data!.ingestJobs.nodes.length);
  });
});
