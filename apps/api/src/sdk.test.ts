// The SDK against the real API over HTTP: typed operations, uploads of every kind, catalog sync
// with progress, typed errors with the API's codes, RATE_LIMITED with the server's Retry-After,
// and a webhook test delivery verified the way a receiver verifies it.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { testEngines } from '@lookalike/db';
import {
  createClient,
  LookalikeError,
  verifyWebhook,
  WebhookVerificationError,
  type IngestJob,
  type LookalikeClient,
} from '@lookalike/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startImageServer, startReceiver, type ImageServer } from './testing/image-server.js';
import { startTestServer, type TestServer } from './testing/server.js';

const root = path.resolve(import.meta.dirname, '../../..');
const catalogDir = path.join(root, 'examples/catalog');
const image = (name: string) => path.join(catalogDir, 'images', name);
/** A photo of the catalog's sneaker on grey, not the catalog's own bytes. */
const sneakerPhoto = path.join(root, 'models/fashion-resnet-v2/parity/21-grey-sneaker.png');

async function rejection(promise: Promise<unknown>): Promise<LookalikeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LookalikeError) return error;
    throw error;
  }
  throw new Error('expected a LookalikeError');
}

describe.each(testEngines())('the SDK against the API ($name)', (engine) => {
  let t: TestServer;
  let img: ImageServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let client: LookalikeClient;

  beforeAll(async () => {
    img = await startImageServer();
    receiver = await startReceiver();
    t = await startTestServer(
      engine,
      { IMAGE_FETCH_ALLOW: ['127.0.0.1'], WORKER: 'on' },
      {
        imageFetch: { retryBaseMs: 10, timeoutMs: 5000 },
        worker: { pollingIntervalSeconds: 0.5, webhooks: { intervalMs: 100, backoffBaseMs: 200 } },
      },
    );
    client = createClient({ url: t.url, apiKey: t.key });
  }, 120_000);

  afterAll(async () => {
    await t.stop();
    await img.close();
    await receiver.close();
  });

  it('imports a folder (sent as a ZIP) and follows it to COMPLETED with progress', async () => {
    const job = await client.importCatalog(catalogDir);
    expect(job).toMatchObject({ total: 10 });
    const seen: IngestJob[] = [];
    const done = await client.waitForJob(job.id, {
      intervalMs: 200,
      timeoutMs: 120_000,
      onProgress: (j) => seen.push(j),
    });
    expect(done).toMatchObject({ status: 'COMPLETED', total: 10, done: 10, failed: 0, images: 10 });
    expect(seen.at(-1)).toEqual(done);
    expect(seen.every((j, i) => i === 0 || j.done >= (seen[i - 1]?.done ?? 0))).toBe(true);
    const errors = [];
    for await (const e of client.jobErrors(job.id)) errors.push(e);
    expect(errors).toEqual([]);
    expect((await client.jobs()).nodes.map((j) => j.id)).toContain(job.id);
  }, 180_000);

  it('imports a CSV given as bytes; the failed rows come back through jobErrors', async () => {
    const csv = [
      'externalId,title,imageUrls',
      `URL-1,From a URL,${img.url}/img/1.png`,
      'URL-2,,', // no title
      `URL-3,Unreachable,${img.url}/missing/3.png`,
    ].join('\n');
    const job = await client.importCatalog(Buffer.from(csv), { name: 'urls.csv' });
    const done = await client.waitForJob(job.id, { intervalMs: 200, timeoutMs: 120_000 });
    expect(done).toMatchObject({ status: 'COMPLETED', total: 3, done: 1, failed: 2 });
    const errors = [];
    for await (const e of client.jobErrors(job.id, 1)) errors.push(e);
    expect(errors.map((e) => [e.row, e.externalId, e.code])).toEqual([
      [2, 'URL-2', 'INVALID_ROW'],
      [3, 'URL-3', 'FETCH_FAILED'],
    ]);
  }, 180_000);

  it('searches with a path, bytes, a stream and a URL; the photographed product comes first', async () => {
    const bytes = await readFile(sneakerPhoto);
    const answers = [
      await client.search(sneakerPhoto, { first: 3, detect: false }),
      await client.search(bytes, { first: 3, detect: false }),
      await client.search(createReadStream(sneakerPhoto), { first: 3, detect: false }),
    ];
    for (const a of answers) expect(a.hits[0]?.product.externalId).toBe('SKU-008');
    // The same bytes however they were sent: the same scores.
    expect(answers.map((a) => a.hits.map((h) => h.score.toFixed(5)))).toEqual([
      answers[0]?.hits.map((h) => h.score.toFixed(5)),
      answers[0]?.hits.map((h) => h.score.toFixed(5)),
      answers[0]?.hits.map((h) => h.score.toFixed(5)),
    ]);
    // A URL is fetched by the SDK (the client's machine) and uploaded.
    const fromUrl = await client.search(`${img.url}/img/1.png`, { first: 1, detect: false });
    expect(fromUrl.hits[0]?.product.externalId).toBe('URL-1');
    expect(fromUrl.hits[0]?.verdict).toBe('EXACT');

    const again = await client.moreLikeThis({
      productIds: [answers[0]?.hits[0]?.product.id ?? ''],
    });
    expect(again.hits.map((h) => h.product.externalId)).not.toContain('SKU-008');
  }, 120_000);

  it('matches two images', async () => {
    const same = await client.match(image('dress.png'), await readFile(image('dress.png')));
    expect(same).toMatchObject({ isMatch: true, verdict: 'EXACT' });
    const other = await client.match(image('dress.png'), image('sandal.png'));
    expect(other.isMatch).toBe(false);
    expect(other.score).toBeLessThan(same.score);
  }, 60_000);

  it("throws LookalikeError with the API's code", async () => {
    const notImage = await rejection(client.search(Buffer.from('not an image'), { detect: false }));
    expect(notImage.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(notImage.status).toBe(200);

    const wrongKey = createClient({ url: t.url, apiKey: 'lk_AAAAAAAAAAAA_' + 'A'.repeat(40) });
    const refused = await rejection(wrongKey.viewer());
    expect([refused.code, refused.status]).toEqual(['UNAUTHENTICATED', 401]);

    const missing = await rejection(client.job('ij_does_not_exist'));
    expect(['NOT_FOUND', 'BAD_USER_INPUT']).toContain(missing.code);

    const unknownFormat = await rejection(
      client.importCatalog(Buffer.from('x'), { name: 'a.txt' }),
    );
    expect(unknownFormat.code).toBe('BAD_USER_INPUT');

    const down = createClient({ url: 'http://127.0.0.1:9', apiKey: t.key });
    expect((await rejection(down.viewer())).code).toBe('API_UNREACHABLE');
  }, 60_000);

  it('lists the events an endpoint can subscribe to; an unknown one is refused by name', async () => {
    const events = await client.webhookEvents();
    expect(events.map((e) => e.name)).toEqual([
      'import.completed',
      'import.failed',
      'image.indexed',
      'image.failed',
      'model.switched',
    ]);
    for (const e of events) expect(e.description.length).toBeGreaterThan(10);
    const unknown = await rejection(
      client.createWebhookEndpoint(receiver.url, ['import.completed', 'import.started']),
    );
    expect(unknown).toMatchObject({ code: 'BAD_USER_INPUT', field: 'events' });
    expect(unknown.message).toContain('unknown events: import.started');

    const { data } = await t.client.query<{ createApiKey: { secret: string } }>(
      `mutation { createApiKey(name: "searcher", scopes: [SEARCH]) { secret } }`,
    );
    const searcher = createClient({ url: t.url, apiKey: data!.createApiKey.secret });
    expect((await rejection(searcher.webhookEvents())).code).toBe('FORBIDDEN');
  });

  it("sends a test webhook that verifies with the endpoint's secret", async () => {
    const { endpoint, secret } = await client.createWebhookEndpoint(receiver.url, [
      'import.completed',
    ]);
    const queued = await client.sendTestWebhook(endpoint.id);
    expect(queued).toMatchObject({ eventType: 'webhook.test', status: 'PENDING' });

    let delivery = queued;
    for (let i = 0; i < 100 && delivery.status === 'PENDING'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const page = await client.webhookDeliveries(endpoint.id);
      delivery = page.nodes.find((d) => d.id === queued.id) ?? delivery;
    }
    expect(delivery).toMatchObject({ status: 'DELIVERED', attempts: 1, lastStatus: 200 });

    const got = receiver.received.find((r) => r.headers['webhook-id'] === queued.eventId);
    if (!got) throw new Error('the receiver got no webhook.test delivery');
    const event = verifyWebhook(secret, got.body, got.headers);
    expect(event).toMatchObject({ type: 'webhook.test', data: { endpointId: endpoint.id } });
    expect(() =>
      verifyWebhook(secret, got.body.replace('webhook', 'webhooc'), got.headers),
    ).toThrow(WebhookVerificationError);

    expect(await client.deleteWebhookEndpoint(endpoint.id)).toBe(true);
    const gone = await rejection(client.sendTestWebhook(endpoint.id));
    expect(gone.code).toBe('NOT_FOUND');
  }, 60_000);
});

describe('the SDK and a rate-limited key', () => {
  const engine = testEngines()[0];
  let t: TestServer;

  beforeAll(async () => {
    if (!engine) throw new Error('no database engine');
    t = await startTestServer(engine, { RATE_LIMIT_PER_MINUTE: 2 });
  }, 120_000);

  afterAll(async () => {
    await t.stop();
  });

  it("gives up past maxWaitSeconds with the server's Retry-After, after telling onRetry nothing", async () => {
    const retries: number[] = [];
    const client = createClient({
      url: t.url,
      apiKey: t.key,
      // The window is a minute: waiting for it is the unit tests' job (a scripted server).
      retry: { attempts: 3, maxWaitSeconds: 0 },
      onRetry: ({ waitSeconds }) => retries.push(waitSeconds),
    });
    await client.viewer();
    await client.viewer();
    const limited = await rejection(client.viewer());
    expect(limited.code).toBe('RATE_LIMITED');
    expect(limited.status).toBe(429);
    expect(limited.retryAfter).toBeGreaterThanOrEqual(1);
    expect(limited.retryAfter).toBeLessThanOrEqual(60);
    expect(retries).toEqual([]);
  });
});
