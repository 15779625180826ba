import { seededRandom } from '@lookalike/search';
import type { CatalogService } from '../catalog/catalog.service.js';
import { FASHION_CATEGORIES, readFashionSample } from './fashion-sample.js';
import { COLOURS, renderCatalogImage, renderShopperPhoto, type Colour } from './render.js';

const PRICE_RANGES: [number, number][] = [
  [9, 29],
  [25, 79],
  [29, 89],
  [29, 149],
  [79, 299],
  [19, 69],
  [19, 59],
  [49, 159],
  [29, 249],
  [69, 229],
];

export interface DemoSeedOptions {
  /** Products to create (at most the sample's 3000). */
  count?: number;
  /** Share of products that get one or two more photos (for self-evaluation). */
  extraPhotoShare?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * The demo catalog: one product per sample image (title, category, colour label, price), its
 * catalog photo, and for some products extra photos of the same item, all through the real
 * ingest path (CatalogService: store, embed, index). Deterministic.
 */
export async function seedDemoCatalog(
  catalog: CatalogService,
  merchantId: string,
  { count = 3000, extraPhotoShare = 0.2, onProgress }: DemoSeedOptions = {},
): Promise<{ products: number; images: number }> {
  const sample = await readFashionSample();
  const total = Math.min(count, sample.images.length);
  const random = seededRandom(2026);
  let images = 0;
  const batch = 32; // concurrent adds share the embedder's micro-batches
  for (let start = 0; start < total; start += batch) {
    const indices = Array.from({ length: Math.min(batch, total - start) }, (_, j) => start + j);
    const plans = indices.map((i) => {
      const label = sample.labels[i] ?? 0;
      const colour = COLOURS[Math.floor(random() * COLOURS.length) % COLOURS.length] as Colour;
      const [lo, hi] = PRICE_RANGES[label] ?? [10, 100];
      const price = Math.round((lo + (hi - lo) * random()) * 100) / 100 - 0.01;
      const extra = random() < extraPhotoShare ? (random() < 0.5 ? 1 : 2) : 0;
      return { i, label, colour, price, extra };
    });
    await Promise.all(
      plans.map(async ({ i, label, colour, price, extra }) => {
        const category = FASHION_CATEGORIES[label] ?? 'Other';
        const product = await catalog.upsert(merchantId, {
          externalId: `DEMO-${String(i + 1).padStart(5, '0')}`,
          title: `${colour.name[0]?.toUpperCase()}${colour.name.slice(1)} ${category.toLowerCase()} ${String(i + 1).padStart(4, '0')}`,
          description: `Demo product from Fashion-MNIST test image ${i}.`,
          category,
          labels: { color: colour.name, source: 'fashion-mnist' },
          price,
          currency: 'EUR',
        });
        const photo = await renderCatalogImage(sample.images[i] as Uint8Array, colour);
        await catalog.addImage(merchantId, { productId: product.id }, photo);
        images++;
        for (let e = 0; e < extra; e++) {
          await catalog.addImage(
            merchantId,
            { productId: product.id },
            await renderShopperPhoto(photo, i * 10 + e),
          );
          images++;
        }
      }),
    );
    onProgress?.(start + indices.length, total);
  }
  return { products: total, images };
}
