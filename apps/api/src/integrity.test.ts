import { testEngines } from '@lookalike/db';
import { sha256Hex } from '@lookalike/inference';
import type { GraphQLClient } from '@lookalike/sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { testImage } from './testing/image-server.js';
import { startTestServer, type TestServer } from './testing/server.js';

const png = (bytes: Uint8Array) => ({ bytes, type: 'image/png', name: 'photo.png' });

const CREATE = `mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateProductInput!) {
  updateProduct(id: $id, input: $input) { id externalId title description price images { sha256 } }
}`;

describe.each(testEngines())('catalog integrity over the API ($name)', (engine) => {
  let t: TestServer;
  let api: GraphQLClient;
  /** A key that may write the catalog but not read it (CATALOG_WRITE without SEARCH). */
  let writer: GraphQLClient;

  beforeAll(async () => {
    t = await startTestServer(engine);
    api = t.client;
    const { token } = await t.server.core.apiKeys.create(
      t.server.bootstrap.merchantId,
      'write only',
      ['CATALOG_WRITE'],
    );
    writer = api.withKey(token);
  });
  afterAll(() => t.stop());

  async function product(externalId: string, extra: Record<string, unknown> = {}) {
    const res = await api.query<{ createProduct: { id: string } }>(CREATE, {
      input: { externalId, title: `Secret ${externalId}`, description: 'supplier: ACME', ...extra },
    });
    expect(res.errors).toBeUndefined();
    return res.data?.createProduct.id as string;
  }

  describe('a CATALOG_WRITE-only key cannot read products through updateProduct', () => {
    it('an empty update is BAD_USER_INPUT ("nothing to update") and answers no product', async () => {
      const id = await product('READ-1', { price: 42 });
      const res = await writer.query(UPDATE, { id, input: {} });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
      expect(res.errors?.[0]?.message).toMatch(/nothing to update/);
      expect(res.data ?? null).toBeNull();
      expect(JSON.stringify(res)).not.toContain('Secret READ-1');
      expect(JSON.stringify(res)).not.toContain('ACME');
    });

    it('an empty update answers the same for an unknown id: no way to probe which ids exist', async () => {
      const known = await product('READ-2');
      const unknown = '01900000-0000-7000-8000-000000000000';
      const a = await writer.query(UPDATE, { id: known, input: {} });
      const b = await writer.query(UPDATE, { id: unknown, input: {} });
      expect(a.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(b.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(a.errors?.[0]?.message).toBe(b.errors?.[0]?.message);
    });

    it('is refused for every key, not only write-only ones (an empty update changes nothing)', async () => {
      const id = await product('READ-3');
      const res = await api.query(UPDATE, { id, input: {} });
      expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    });

    it('still cannot read by id; a real change answers the product it wrote', async () => {
      const id = await product('READ-4');
      const read = await writer.query(`query($id: ID!) { product(id: $id) { title } }`, { id });
      expect(read.errors?.[0]?.extensions).toMatchObject({
        code: 'FORBIDDEN',
        requiredScopes: ['SEARCH'],
      });
      const written = await writer.query<{ updateProduct: { id: string; price: number } }>(UPDATE, {
        id,
        input: { price: 19.5 },
      });
      expect(written.errors).toBeUndefined();
      expect(written.data?.updateProduct).toMatchObject({ id, price: 19.5 });
    });
  });

  describe('image files follow the rows', () => {
    it('an upload committing while deleteProduct runs is not left served at /images/<sha256>', async () => {
      const id = await product('RACE-1');
      const bytes = await testImage(1);
      const sha256 = sha256Hex(bytes);
      // The upload runs to its commit at the last moment the delete leaves open (after what it
      // read before removing the product, outside any transaction of its own).
      let upload: Promise<unknown> | undefined;
      const race = () =>
        (upload ??= api.upload(
          `mutation($productId: ID!, $image: Upload!) { addProductImage(productId: $productId, image: $image) { sha256 } }`,
          { productId: id },
          { image: png(bytes) },
        ));
      const originalDelete = t.db.products.delete.bind(t.db.products);
      const originalTransaction = t.db.transaction.bind(t.db);
      const onDelete = vi.spyOn(t.db.products, 'delete').mockImplementation(async (...args) => {
        await race();
        return originalDelete(...args);
      });
      const onTransaction = vi
        .spyOn(t.db, 'transaction')
        .mockImplementation(async (fn, options) => {
          if (!upload) await race();
          return originalTransaction(fn, options);
        });
      let deleted;
      try {
        deleted = await api.query<{ deleteProduct: boolean }>(
          `mutation($id: ID!) { deleteProduct(id: $id) }`,
          { id },
        );
      } finally {
        onDelete.mockRestore();
        onTransaction.mockRestore();
      }
      expect(deleted.data?.deleteProduct).toBe(true);
      await expect(upload).resolves.toMatchObject({ data: { addProductImage: { sha256 } } });
      expect((await fetch(`${t.url}/images/${sha256}`)).status).toBe(404);
      expect((await fetch(`${t.url}/images/${sha256}?w=64`)).status).toBe(404);
    });
  });
});
