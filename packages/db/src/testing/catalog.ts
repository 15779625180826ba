import { createHash, randomUUID } from 'node:crypto';
import type { Db } from '../create-db.js';

export interface SeededItem {
  productId: string;
  imageId: string;
  vector: Float32Array;
  category: string;
}

/**
 * Bulk-load products, one image each, and their vectors for one model — the fast path for
 * tests and benchmarks (the API adds images one by one through the repositories).
 */
export async function seedCatalog(
  db: Db,
  merchantId: string,
  vectors: Float32Array[],
  options: { modelId?: string; category?: (i: number) => string; prefix?: string } = {},
): Promise<SeededItem[]> {
  const { modelId = 'fashion-resnet-v1', category = () => 'all', prefix = 'p' } = options;
  const items: SeededItem[] = vectors.map((vector, i) => ({
    productId: randomUUID(),
    imageId: randomUUID(),
    vector,
    category: category(i),
  }));
  const batch = 1000;
  for (let start = 0; start < items.length; start += batch) {
    const chunk = items.slice(start, start + batch);
    await db.prisma.product.createMany({
      data: chunk.map((item, j) => ({
        id: item.productId,
        merchantId,
        externalId: `${prefix}${start + j}`,
        title: `Product ${start + j}`,
        category: item.category,
      })),
    });
    await db.prisma.productImage.createMany({
      data: chunk.map((item) => ({
        id: item.imageId,
        merchantId,
        productId: item.productId,
        sha256: createHash('sha256').update(item.imageId).digest('hex'),
        mime: 'image/png',
        width: 28,
        height: 28,
        byteSize: 1,
        storageKey: `test/${item.imageId}`,
        status: 'READY',
      })),
    });
    for (let k = 0; k < chunk.length; k += 500) {
      await db.embeddings.upsertMany(
        merchantId,
        modelId,
        chunk.slice(k, k + 500).map((item) => ({ imageId: item.imageId, vector: item.vector })),
      );
    }
  }
  return items;
}
