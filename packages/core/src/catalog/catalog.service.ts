import type {
  Db,
  ImageRecord,
  Labels,
  ProductFilter as DbFilter,
  ProductInput as DbProductInput,
  ProductRecord,
  Repositories,
} from '@lookalike/db';
import { sha256Hex, type Embedder, type ImageInfo } from '@lookalike/inference';
import { badInput, conflict, notFound, toCoreError } from '../errors.js';
import type { ImageStore } from '../images/image-store.js';
import type { ModelRegistry } from '../models/model-registry.js';
import { MAX_FIRST } from '../settings/settings.service.js';
import type { ServingModels } from '../settings/serving.js';

/** Which products to consider, as a client sends it (labels not yet known to be an object). */
export interface ProductFilterInput {
  category?: string | null;
  categories?: string[] | null;
  labels?: unknown;
  minPrice?: number | null;
  maxPrice?: number | null;
  query?: string | null;
}

export interface ProductInput {
  externalId: string;
  title: string;
  description?: string | null;
  category?: string | null;
  labels?: unknown;
  price?: number | null;
  currency?: string | null;
  url?: string | null;
}

/** Only the fields given change; null clears an optional field. */
export type ProductPatch = { [K in keyof ProductInput]?: ProductInput[K] | null };

export interface ProductPage {
  edges: { cursor: string; node: ProductRecord }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

/**
 * Where an image goes: a product by id, or by externalId — `attach` (it must exist), `create`
 * (it must not), `ensure` (attach, or create it with `title` and `category`).
 */
export type ImageTarget =
  | { productId: string }
  | {
      externalId: string;
      mode: 'attach' | 'create' | 'ensure';
      title?: string | null;
      category?: string | null;
    };

export interface AddedImage {
  product: ProductRecord;
  image: ImageRecord;
  /** True when this call created the product. */
  createdProduct: boolean;
  /** False when the product already had these exact bytes. */
  createdImage: boolean;
}

export interface AddImageOptions {
  /** Where the bytes came from (an import's image URL or archive path), stored with the image. */
  source?: string | null;
  /**
   * Runs inside the transaction that stores the image, after it is written: what must commit
   * with it (a webhook event in the outbox).
   */
  inTransaction?: (tx: Repositories, added: AddedImage) => Promise<void>;
}

/**
 * What became of a PENDING image: `embedded` (now READY), `failed` (now FAILED, with why),
 * `skipped` (left PENDING, with why), `settled` (another process, or a delete, got there first).
 */
export type PendingImageRepair =
  { outcome: 'embedded' | 'settled' } | { outcome: 'failed' | 'skipped'; reason: string };

export function isJsonObject(value: unknown): value is Labels {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A client's filter -> the repository's, rejecting non-object labels and empty price ranges. */
export function toDbFilter(filter: ProductFilterInput | undefined | null): DbFilter | undefined {
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

function productFields(input: ProductPatch): Record<string, unknown> {
  if (input.labels != null && !isJsonObject(input.labels)) {
    throw badInput('labels must be a JSON object such as {"color": "red"}', 'labels');
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value !== undefined) out[key] = key === 'labels' && value === null ? {} : value;
  }
  return out;
}

/**
 * Products and their images: rules and mapping; the repositories do the I/O. An image is
 * embedded with every model the merchant keeps (the serving one and those being re-indexed or
 * kept for a switch back) before anything is written, so a bad file changes nothing; its rows,
 * vectors and file then go in one transaction.
 */
export class CatalogService {
  constructor(
    private readonly db: Db,
    private readonly registry: ModelRegistry,
    private readonly serving: ServingModels,
    private readonly store: ImageStore,
  ) {}

  async list(
    merchantId: string,
    args: { first?: number | null; after?: string | null; filter?: ProductFilterInput | null },
  ): Promise<ProductPage> {
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
      edges: page.items.map((p) => ({ cursor: encodeCursor(p.id), node: p })),
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

  get(merchantId: string, id: string): Promise<ProductRecord | null> {
    return this.db.products.get(merchantId, id);
  }

  getByExternalId(merchantId: string, externalId: string): Promise<ProductRecord | null> {
    return this.db.products.getByExternalId(merchantId, externalId);
  }

  create(merchantId: string, input: ProductInput): Promise<ProductRecord> {
    return this.db.products.create(merchantId, productFields(input) as unknown as DbProductInput);
  }

  /** Create, or replace the product with this externalId (idempotent). */
  upsert(merchantId: string, input: ProductInput): Promise<ProductRecord> {
    return this.db.products.upsert(merchantId, productFields(input) as unknown as DbProductInput);
  }

  async update(merchantId: string, id: string, input: ProductPatch): Promise<ProductRecord> {
    if (input.title === null || input.externalId === null) {
      throw badInput(
        'title and externalId cannot be null',
        input.title === null ? 'title' : 'externalId',
      );
    }
    const fields = productFields(input);
    // An update that changes nothing would only read the product: refused before the lookup,
    // so a key that may write but not read (CATALOG_WRITE without SEARCH) learns neither a
    // product's fields nor whether an id exists.
    if (Object.keys(fields).length === 0) {
      throw badInput('nothing to update: input gives no field', 'input');
    }
    const p = await this.db.products.update(merchantId, id, fields);
    if (!p) throw notFound(`product ${id}`);
    return p;
  }

  /**
   * Deletes the product, its images and embeddings, and then the image files no image of any
   * merchant uses any more. The images whose files may go are read in the transaction that
   * deletes them, after locking the product: an upload whose transaction has already inserted
   * an image of it is waited for (and its image is among those read), and one that has not
   * cannot insert it any more (it fails, and removes the file it wrote itself).
   */
  async delete(merchantId: string, id: string): Promise<boolean> {
    const removed = await this.db.transaction(async (tx) => {
      if (!(await tx.products.lock(merchantId, id))) return null;
      const images = await tx.images.list(merchantId, id);
      await tx.products.delete(merchantId, id);
      return images;
    });
    if (!removed) return false;
    await this.collectGarbage(removed);
    return true;
  }

  imagesOf(merchantId: string, productIds: readonly string[]): Promise<Map<string, ImageRecord[]>> {
    return this.db.images.listForProducts(merchantId, [...productIds]);
  }

  /**
   * Store, embed and index an image; it is searchable with every kept model when this returns.
   * The same bytes on the same product are stored once; adding them again fills in vectors a
   * model is missing (a failed write, a model kept since).
   */
  async addImage(
    merchantId: string,
    target: ImageTarget,
    bytes: Uint8Array,
    options: AddImageOptions = {},
  ): Promise<AddedImage> {
    const sha256 = sha256Hex(bytes);
    const existingProduct =
      'productId' in target
        ? await this.db.products.get(merchantId, target.productId)
        : await this.db.products.getByExternalId(merchantId, target.externalId);
    if ('productId' in target || target.mode === 'attach') {
      if (!existingProduct) {
        throw notFound(
          'productId' in target
            ? `product ${target.productId}`
            : `product with externalId "${target.externalId}"`,
        );
      }
    } else if (target.mode === 'create' && existingProduct) {
      throw conflict(`a product with externalId "${target.externalId}" already exists`, {
        field: 'externalId',
      });
    }

    const { modelId: active, maintained } = await this.serving.get(merchantId);
    // The serving model must get the vector, or the image would be invisible to searches.
    this.registry.require(active);
    const kept = maintained.filter((key) => this.registry.get(key));
    const existing = existingProduct
      ? (await this.db.images.list(merchantId, existingProduct.id)).find((i) => i.sha256 === sha256)
      : undefined;
    const present = existing
      ? new Set(await this.db.embeddings.modelsOf(merchantId, existing.id))
      : new Set();
    const needed = kept.filter((key) => !present.has(key));
    if (existing && existingProduct && existing.status === 'READY' && needed.length === 0) {
      return {
        product: existingProduct,
        image: existing,
        createdProduct: false,
        createdImage: false,
      };
    }

    // Every model embeds the bytes before anything is written: a bad file changes nothing.
    const embedded = await this.embedAll(bytes, needed.length > 0 ? needed : [active]);
    const info = embedded[0]?.image as ImageInfo;
    // The file goes first, outside the transaction (PGlite runs one transaction at a time, so
    // file I/O inside one would hold up every other query). It is content-addressed: writing
    // it again is harmless.
    await this.store.put(bytes);
    let result;
    try {
      result = await this.db.transaction(async (tx) => {
        // Garbage collection deletes a file only under this lock and only when no row references
        // it; from here until commit it cannot touch this one. It may have deleted it between
        // the write above and this lock: then it is written again.
        await tx.images.lockContent(sha256);
        if (!(await this.store.has(sha256))) await this.store.put(bytes);
        const { product, created } = await this.targetProduct(tx, merchantId, target);
        const { image, created: createdImage } = await tx.images.add(merchantId, {
          productId: product.id,
          sha256,
          mime: info.mime,
          width: info.width,
          height: info.height,
          byteSize: bytes.length,
          storageKey: this.store.keyOf(sha256),
          status: 'READY',
          source: options.source ?? null,
        });
        for (const e of embedded.filter((x) => needed.includes(x.model))) {
          await tx.embeddings.upsert(merchantId, e.model, { imageId: image.id, vector: e.vector });
        }
        if (image.status !== 'READY') await tx.images.setStatus(merchantId, image.id, 'READY');
        const ready = { ...image, status: 'READY' as const };
        await options.inTransaction?.(tx, {
          product,
          image: ready,
          createdProduct: created,
          createdImage,
        });
        return { product, image: ready, created, createdImage };
      });
    } catch (error) {
      // Nothing was written: the file goes again unless another image uses the same bytes.
      await this.collectGarbage([{ sha256, storageKey: this.store.keyOf(sha256) }]);
      throw error;
    }
    return {
      product: result.product,
      image: result.image,
      createdProduct: result.created,
      createdImage: result.createdImage,
    };
  }

  private async embedAll(
    bytes: Uint8Array,
    models: readonly string[],
  ): Promise<{ model: string; vector: Float32Array; image: ImageInfo }[]> {
    return Promise.all(
      models.map(async (model) => {
        const embedder: Embedder = this.registry.require(model);
        const { vector, image } = await embedder.embed(bytes);
        return { model, vector, image };
      }),
    );
  }

  private async targetProduct(
    tx: Repositories,
    merchantId: string,
    target: ImageTarget,
  ): Promise<{ product: ProductRecord; created: boolean }> {
    if ('productId' in target) {
      const product = await tx.products.get(merchantId, target.productId);
      if (!product) throw notFound(`product ${target.productId}`);
      return { product, created: false };
    }
    if (target.mode === 'attach') {
      const product = await tx.products.getByExternalId(merchantId, target.externalId);
      if (!product) throw notFound(`product with externalId "${target.externalId}"`);
      return { product, created: false };
    }
    const input = {
      externalId: target.externalId,
      title: target.title?.trim() || target.externalId,
      ...(target.category ? { category: target.category } : {}),
    };
    if (target.mode === 'create') {
      return { product: await tx.products.create(merchantId, input), created: true };
    }
    return tx.products.ensure(merchantId, input);
  }

  /**
   * Finish an image left PENDING (its row written, never embedded: a process died in between):
   * embed its stored file with every kept model and mark it READY, or mark it FAILED when the
   * file is missing, is not the bytes the row names, or cannot be embedded. `skipped` leaves it
   * PENDING for a process that loads the merchant's serving model.
   */
  async repairPendingImage(image: ImageRecord): Promise<PendingImageRepair> {
    const { merchantId, id } = image;
    const fail = async (reason: string): Promise<PendingImageRepair> =>
      (await this.db.images.settlePending(merchantId, id, 'FAILED'))
        ? { outcome: 'failed', reason }
        : { outcome: 'settled' };
    const bytes = await this.store.get(image.sha256);
    if (!bytes) return fail('the stored image file is missing');
    if (sha256Hex(bytes) !== image.sha256) {
      return fail('the stored image file does not hold the bytes of its sha256');
    }
    const { modelId: active, maintained } = await this.serving.get(merchantId);
    if (!this.registry.get(active)) {
      return { outcome: 'skipped', reason: `its serving model ${active} is not loaded here` };
    }
    const kept = maintained.filter((key) => this.registry.get(key));
    let embedded;
    try {
      embedded = await this.embedAll(bytes, kept);
    } catch (error) {
      const coded = toCoreError(error);
      // The file's fault (not an image, too large, corrupt): retrying would fail the same way.
      // Anything else (a model that cannot run, a busy pool) is left for the next pass.
      if (coded && coded.code !== 'SERVICE_UNAVAILABLE') {
        return fail(`the stored image file cannot be embedded: ${coded.message}`);
      }
      throw error;
    }
    const settled = await this.db.transaction(async (tx) => {
      // Another process may have settled it meanwhile, or the product been deleted.
      const current = await tx.images.get(merchantId, id);
      if (current?.status !== 'PENDING') return false;
      for (const e of embedded) {
        await tx.embeddings.upsert(merchantId, e.model, { imageId: id, vector: e.vector });
      }
      return tx.images.settlePending(merchantId, id, 'READY');
    });
    return settled ? { outcome: 'embedded' } : { outcome: 'settled' };
  }

  async removeImage(merchantId: string, id: string): Promise<boolean> {
    const removed = await this.db.images.remove(merchantId, id);
    if (!removed) throw notFound(`image ${id}`);
    await this.collectGarbage([removed]);
    return true;
  }

  /**
   * Delete stored files that no image (of any merchant) references and that were written more
   * than `graceMs` ago (a younger one may be an upload's whose transaction is still to come:
   * uploads write the file first). Catches what a delete could not remove itself (the process
   * died after the delete committed) and files an older version lost track of. Returns how many
   * files went.
   */
  async sweepUnreferencedFiles({ graceMs }: { graceMs: number }): Promise<number> {
    const before = Date.now() - graceMs;
    let removed = 0;
    let batch: string[] = [];
    const flush = async () => {
      const keys = batch.map((sha256) => this.store.keyOf(sha256));
      const used = await this.db.images.referencedStorageKeys(keys);
      const unused = batch.filter((sha256) => !used.has(this.store.keyOf(sha256)));
      batch = [];
      // collectGarbage checks again under the file's lock: an add may have referenced it since.
      for (const sha256 of unused) {
        if (await this.collectGarbage([{ sha256, storageKey: this.store.keyOf(sha256) }])) {
          removed++;
        }
      }
    };
    for await (const file of this.store.list()) {
      if (file.writtenAt.getTime() >= before) continue;
      batch.push(file.sha256);
      if (batch.length >= 500) await flush();
    }
    await flush();
    return removed;
  }

  /** Delete stored files that no image row references any more; how many went. */
  private async collectGarbage(
    images: readonly Pick<ImageRecord, 'sha256' | 'storageKey'>[],
  ): Promise<number> {
    const bySha = new Map(images.map((i) => [i.sha256, i.storageKey]));
    let deleted = 0;
    for (const [sha256, storageKey] of bySha) {
      await this.db.transaction(async (tx) => {
        await tx.images.lockContent(sha256);
        if ((await tx.images.countByStorageKey(storageKey)) === 0) {
          await this.store.delete(sha256);
          deleted++;
        }
      });
    }
    return deleted;
  }
}
