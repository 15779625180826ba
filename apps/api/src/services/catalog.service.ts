import type {
  Db,
  ImageRecord,
  Labels,
  ProductFilter as DbFilter,
  ProductRecord,
} from '@lookalike/db';
import type { Embedder } from '@lookalike/inference';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { badInput, notFound } from '../errors.js';
import { readUpload } from '../http/uploads.js';
import type {
  CreateProductInput,
  ProductFilter,
  UpdateProductInput,
} from '../inputs/product.input.js';
import type { ImageStore } from '../storage/image-store.js';
import { sha256Hex } from '../storage/image-store.js';
import { ImageStatus } from '../types/enums.js';
import type { Product, ProductConnection, ProductImage } from '../types/product.type.js';
import { MAX_FIRST } from './settings.service.js';

export function isJsonObject(value: unknown): value is Labels {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** GraphQL filter -> repository filter, rejecting non-object labels. */
export function toDbFilter(filter: ProductFilter | undefined | null): DbFilter | undefined {
  if (!filter) return undefined;
  if (filter.labels != null && !isJsonObject(filter.labels)) {
    throw badInput('filter.labels must be a JSON object such as {"color": "red"}', 'filter.labels');
  }
  const out: DbFilter = {};
  if (filter.category != null) out.category = filter.category;
  if (filter.categories != null) out.categories = filter.categories;
  if (filter.labels != null) out.labels = filter.labels;
  if (filter.minPrice != null) out.minPrice = filter.minPrice;
  if (filter.maxPrice != null) out.maxPrice = filter.maxPrice;
  if (filter.query != null) out.query = filter.query;
  if (out.minPrice !== undefined && out.maxPrice !== undefined && out.minPrice > out.maxPrice) {
    throw badInput('filter.minPrice is greater than filter.maxPrice', 'filter.minPrice');
  }
  return out;
}

/** Relay cursors are opaque: base64url of the product id. */
export function encodeCursor(id: string): string {
  return Buffer.from(`product:${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const id = text.startsWith('product:') ? text.slice('product:'.length) : '';
  if (!/^[0-9a-f-]{36}$/i.test(id))
    throw badInput('after is not a cursor returned by products', 'after');
  return id;
}

export function toProduct(record: ProductRecord): Product {
  return {
    id: record.id,
    externalId: record.externalId,
    title: record.title,
    description: record.description,
    category: record.category,
    labels: record.labels,
    price: record.price,
    currency: record.currency,
    url: record.url,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export function toProductImage(record: ImageRecord, baseUrl: string): ProductImage {
  return {
    id: record.id,
    productId: record.productId,
    sha256: record.sha256,
    mime: record.mime,
    width: record.width,
    height: record.height,
    byteSize: record.byteSize,
    status: ImageStatus[record.status],
    url: `${baseUrl}/images/${record.sha256}`,
    createdAt: record.createdAt,
  };
}

function productInput(input: CreateProductInput | UpdateProductInput) {
  if (input.labels != null && !isJsonObject(input.labels)) {
    throw badInput('labels must be a JSON object such as {"color": "red"}', 'labels');
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value !== undefined) out[key] = key === 'labels' && value === null ? {} : value;
  }
  return out;
}

/** Products and their images: rules and mapping; the repositories do the I/O. */
export class CatalogService {
  constructor(
    private readonly db: Db,
    private readonly embedder: Embedder,
    private readonly store: ImageStore,
    private readonly maxUploadBytes: number,
  ) {}

  private get modelKey(): string {
    return this.embedder.info.key;
  }

  async list(
    merchantId: string,
    args: { first?: number | null; after?: string | null; filter?: ProductFilter | null },
  ): Promise<ProductConnection> {
    const first = args.first ?? 20;
    if (!Number.isInteger(first) || first < 1 || first > MAX_FIRST) {
      throw badInput(`first must be an integer in [1, ${MAX_FIRST}]`, 'first');
    }
    const page = await this.db.products.list(merchantId, {
      first,
      ...(args.after ? { after: decodeCursor(args.after) } : {}),
      filter: toDbFilter(args.filter),
    });
    return {
      edges: page.items.map((p) => ({ cursor: encodeCursor(p.id), node: toProduct(p) })),
      pageInfo: {
        hasNextPage: page.hasNextPage,
        endCursor: page.endCursor ? encodeCursor(page.endCursor) : null,
      },
      totalCount: page.totalCount,
    };
  }

  categories(merchantId: string): Promise<{ category: string; count: number }[]> {
    return this.db.products.categories(merchantId);
  }

  async get(merchantId: string, id: string): Promise<Product | null> {
    const p = await this.db.products.get(merchantId, id);
    return p ? toProduct(p) : null;
  }

  async getByExternalId(merchantId: string, externalId: string): Promise<Product | null> {
    const p = await this.db.products.getByExternalId(merchantId, externalId);
    return p ? toProduct(p) : null;
  }

  async create(merchantId: string, input: CreateProductInput): Promise<Product> {
    return toProduct(await this.db.products.create(merchantId, productInput(input) as never));
  }

  async upsert(merchantId: string, input: CreateProductInput): Promise<Product> {
    return toProduct(await this.db.products.upsert(merchantId, productInput(input) as never));
  }

  async update(merchantId: string, id: string, input: UpdateProductInput): Promise<Product> {
    if (input.title === null || input.externalId === null) {
      throw badInput(
        'title and externalId cannot be null',
        input.title === null ? 'title' : 'externalId',
      );
    }
    const p = await this.db.products.update(merchantId, id, productInput(input));
    if (!p) throw notFound(`product ${id}`);
    return toProduct(p);
  }

  /** Deletes the product, its images and embeddings, and image files nobody else uses. */
  async delete(merchantId: string, id: string): Promise<boolean> {
    const images = await this.db.images.list(merchantId, id);
    const deleted = await this.db.products.delete(merchantId, id);
    if (deleted) await this.collectGarbage(images);
    return deleted;
  }

  imagesOf(merchantId: string, productIds: readonly string[]): Promise<Map<string, ImageRecord[]>> {
    return this.db.images.listForProducts(merchantId, [...productIds]);
  }

  /**
   * Store, embed and index an image of a product; it is searchable when this returns. The
   * bytes are embedded before anything is written, so a bad file changes nothing.
   */
  async addImage(
    merchantId: string,
    productId: string,
    upload: Promise<FileUpload>,
  ): Promise<ImageRecord> {
    const product = await this.db.products.get(merchantId, productId);
    if (!product) throw notFound(`product ${productId}`);
    const bytes = await readUpload(upload, this.maxUploadBytes);
    return this.addImageBytes(merchantId, productId, bytes);
  }

  async addImageBytes(
    merchantId: string,
    productId: string,
    bytes: Uint8Array,
  ): Promise<ImageRecord> {
    const sha256 = sha256Hex(bytes);
    const existing = (await this.db.images.list(merchantId, productId)).find(
      (i) => i.sha256 === sha256,
    );
    if (
      existing?.status === 'READY' &&
      (await this.db.embeddings.get(merchantId, this.modelKey, existing.id))
    ) {
      return existing;
    }
    const { vector, image } = await this.embedder.embed(bytes);
    // The row goes in first (PENDING), then the file: from the moment the file exists a row
    // references it, so a concurrent delete of another row with the same bytes cannot collect
    // it. READY only once the vector is stored; a failure on the way leaves PENDING, and
    // adding the same bytes again finishes the job.
    const { image: record } = await this.db.images.add(merchantId, {
      productId,
      sha256,
      mime: image.mime,
      width: image.width,
      height: image.height,
      byteSize: bytes.length,
      storageKey: this.store.keyOf(sha256),
    });
    await this.store.put(bytes);
    await this.db.embeddings.upsert(merchantId, this.modelKey, { imageId: record.id, vector });
    if (record.status !== 'READY') await this.db.images.setStatus(merchantId, record.id, 'READY');
    return { ...record, status: 'READY' };
  }

  async removeImage(merchantId: string, id: string): Promise<boolean> {
    const removed = await this.db.images.remove(merchantId, id);
    if (!removed) throw notFound(`image ${id}`);
    await this.collectGarbage([removed]);
    return true;
  }

  /** Delete stored files that no image row references any more. */
  private async collectGarbage(images: ImageRecord[]): Promise<void> {
    for (const key of new Set(images.map((i) => i.storageKey))) {
      if ((await this.db.images.countByStorageKey(key)) === 0) {
        const sha256 = images.find((i) => i.storageKey === key)?.sha256;
        if (sha256) await this.store.delete(sha256);
      }
    }
  }
}
