import { testEngines } from '@lookalike/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testImage } from './testing/image-server.js';
import { startTestServer, type TestServer } from './testing/server.js';

describe.each(testEngines())('merchants on one platform ($name)', (engine) => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer(engine, { WORKER: 'on' });
  }, 120_000);

  afterAll(async () => {
    await t.stop();
  });

  it('the operator creates and lists merchants; a merchant key can do neither, nor grant the scope', async () => {
    const created = await t.client.query<{
      createMerchant: {
        merchant: { id: string; name: string };
        secret: string;
        apiKey: { scopes: string[] };
      };
    }>(
      `mutation { createMerchant(name: "Shop B") { merchant { id name } secret apiKey { scopes } } }`,
    );
    expect(created.errors).toBeUndefined();
    const b = created.data!.createMerchant;
    expect(b.apiKey.scopes).not.toContain('MERCHANTS_ADMIN');
    expect(b.apiKey.scopes).toEqual(
      expect.arrayContaining(['SEARCH', 'CATALOG_WRITE', 'SETTINGS_WRITE', 'KEYS_ADMIN']),
    );
    const list = await t.client.query<{ merchants: { nodes: { name: string }[] } }>(
      `{ merchants { nodes { name } } }`,
    );
    expect(list.data!.merchants.nodes.map((m) => m.name)).toEqual(['Default merchant', 'Shop B']);

    const asB = t.client.withKey(b.secret);
    for (const q of [
      `mutation { createMerchant(name: "Shop C") { secret } }`,
      `{ merchants { nodes { id } } }`,
      `mutation { createApiKey(name: "escalate", scopes: [MERCHANTS_ADMIN]) { secret } }`,
    ]) {
      const res = await asB.query(q);
      expect(res.errors?.[0]?.extensions?.code, q).toBe('FORBIDDEN');
    }
    const bad = await t.client.query(`mutation { createMerchant(name: "") { secret } }`);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it("merchant B cannot read, search, change or delete A's products, jobs, webhooks or deliveries", async () => {
    const b = (
      await t.client.query<{ createMerchant: { secret: string } }>(
        `mutation { createMerchant(name: "Shop D") { secret } }`,
      )
    ).data!.createMerchant;
    const asB = t.client.withKey(b.secret);
    const photo = await testImage(5);

    // A's product with an image, an import job and a webhook endpoint.
    const product = await t.client.upload<{
      uploadProductImage: { product: { id: string }; image: { id: string } };
    }>(
      `mutation ($image: Upload!) { uploadProductImage(image: $image, externalId: "A-1", mode: ENSURE, title: "A's") { product { id } image { id } } }`,
      {},
      { image: { bytes: photo, name: 'a.png', type: 'image/png' } },
    );
    expect(product.errors).toBeUndefined();
    const { product: ap, image: ai } = product.data!.uploadProductImage;
    const job = await t.client.query<{ importProducts: { id: string } }>(
      `mutation { importProducts(items: [{ externalId: "A-2", title: "A two" }]) { id } }`,
    );
    const jobId = job.data!.importProducts.id;
    const hook = await t.client.query<{ createWebhookEndpoint: { endpoint: { id: string } } }>(
      `mutation { createWebhookEndpoint(url: "https://a.example/hook", events: ["import.completed"]) { endpoint { id } } }`,
    );
    const hookId = hook.data!.createWebhookEndpoint.endpoint.id;

    const notFound = async (query: string, variables: Record<string, unknown> = {}) => {
      const res = await asB.query(query, variables);
      expect(res.errors?.[0]?.extensions?.code, query).toBe('NOT_FOUND');
    };
    await notFound(`query ($id: ID!) { ingestJob(id: $id) { id } }`, { id: jobId });
    await notFound(`mutation ($id: ID!) { cancelIngestJob(id: $id) { id } }`, { id: jobId });
    await notFound(`mutation ($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id: hookId });
    await notFound(`query ($id: ID!) { webhookDeliveries(endpointId: $id) { nodes { id } } }`, {
      id: hookId,
    });
    await notFound(`query ($id: ID!) { similarProducts(imageId: $id) { tookMs } }`, { id: ai.id });
    await notFound(
      `mutation ($id: ID!) { updateProduct(id: $id, input: { title: "B's" }) { id } }`,
      {
        id: ap.id,
      },
    );
    const jobs = await asB.query<{ ingestJobs: { nodes: unknown[] } }>(
      `{ ingestJobs { nodes { id } } }`,
    );
    expect(jobs.data!.ingestJobs.nodes).toEqual([]);
    const hooks = await asB.query<{ webhookEndpoints: unknown[] }>(`{ webhookEndpoints { id } }`);
    expect(hooks.data!.webhookEndpoints).toEqual([]);
    const read = await asB.query<{ product: null }>(
      `query ($id: ID!) { product(id: $id) { id } }`,
      { id: ap.id },
    );
    expect(read.data!.product).toBeNull();
    const del = await asB.query<{ deleteProduct: boolean }>(
      `mutation ($id: ID!) { deleteProduct(id: $id) }`,
      { id: ap.id },
    );
    expect(del.data!.deleteProduct).toBe(false);
    const more = await asB.query(
      `query ($ids: [ID!]) { similarProducts(productIds: $ids) { hits { product { id } } } }`,
      {
        ids: [ap.id],
      },
    );
    expect(more.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    // Searching and matching A's photo from B finds nothing of A's.
    const search = await asB.upload<{ similarProducts: { hits: unknown[] } }>(
      `query ($image: Upload!) { similarProducts(image: $image, threshold: -1) { hits { product { id } } } }`,
      {},
      { image: { bytes: photo, name: 'a.png', type: 'image/png' } },
    );
    expect(search.data!.similarProducts.hits).toEqual([]);
    // A's things are all still there.
    expect(
      (await t.client.query(`query ($id: ID!) { ingestJob(id: $id) { id } }`, { id: jobId }))
        .errors,
    ).toBeUndefined();
    const aHooks = await t.client.query<{ webhookEndpoints: unknown[] }>(
      `{ webhookEndpoints { id } }`,
    );
    expect(aHooks.data!.webhookEndpoints).toHaveLength(1);
  });
});
