import type { DbClient } from '../client.js';
import { Prisma } from '../generated/prisma/client.js';
import type { Product as ProductRow } from '../generated/prisma/client.js';
import { ConflictError, InvalidArgumentError, NotFoundError } from '../errors.js';
import { newId } from './ids.js';
import {
  isPlainObject,
  productFilterSql,
  validateFilter,
  type Labels,
  type ProductFilter,
} from './product-filter.js';
import { assertFinite, assertInt, assertText, assertUuid, isUuid } from './validate.js';

export interface ProductRecord {
  id: string;
  merchantId: string;
  externalId: string;
  title: string;
  description: string | null;
  category: string | null;
  labels: Labels;
  /** Stored as NUMERIC(12,2); exact to the cent. */
  price: number | null;
  currency: string | null;
  url: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ProductInput {
  externalId: string;
  title: string;
  description?: string | null;
  category?: string | null;
  labels?: Labels;
  price?: number | null;
  currency?: string | null;
  url?: string | null;
}

export type ProductPatch = Partial<ProductInput>;

export interface ListProductsArgs {
  first: number;
  /** Cursor: the id of the last product of the previous page. */
  after?: string;
  filter?: ProductFilter;
}

export interface ProductPage {
  items: ProductRecord[];
  totalCount: number;
  hasNextPage: boolean;
  endCursor: string | null;
}

export const MAX_PAGE_SIZE = 1000;
const MAX_LABELS_JSON = 16 * 1024;
const MAX_PRICE = 9_999_999_999.99; // NUMERIC(12,2)

function toRecord(row: ProductRow): ProductRecord {
  return {
    id: row.id,
    merchantId: row.merchantId,
    externalId: row.externalId,
    title: row.title,
    description: row.description,
    category: row.category,
    labels: (isPlainObject(row.labels) ? row.labels : {}) as Labels,
    price: row.price === null ? null : row.price.toNumber(),
    currency: row.currency,
    url: row.url,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function validate(input: ProductPatch): void {
  if (input.externalId !== undefined) {
    assertText(input.externalId, 'externalId', { min: 1, max: 256 });
  }
  if (input.title !== undefined) assertText(input.title, 'title', { min: 1, max: 1000 });
  if (input.description != null) assertText(input.description, 'description', { max: 20_000 });
  if (input.category != null) assertText(input.category, 'category', { min: 1, max: 200 });
  if (input.labels !== undefined) {
    if (!isPlainObject(input.labels))
      throw new InvalidArgumentError('labels must be a JSON object');
    if (JSON.stringify(input.labels).length > MAX_LABELS_JSON) {
      throw new InvalidArgumentError(`labels must be at most ${MAX_LABELS_JSON} bytes of JSON`);
    }
  }
  if (input.price != null) {
    assertFinite(input.price, 'price');
    if (input.price < 0 || input.price > MAX_PRICE) {
      throw new InvalidArgumentError(`price must be between 0 and ${MAX_PRICE}`);
    }
  }
  if (input.currency != null && !/^[A-Z]{3}$/.test(input.currency)) {
    throw new InvalidArgumentError('currency must be an ISO 4217 code such as EUR');
  }
  if (input.url != null) {
    assertText(input.url, 'url', { max: 2048 });
    let protocol: string;
    try {
      protocol = new URL(input.url).protocol;
    } catch {
      throw new InvalidArgumentError('url must be an absolute http(s) URL');
    }
    if (protocol !== 'http:' && protocol !== 'https:') {
      throw new InvalidArgumentError('url must be an absolute http(s) URL');
    }
  }
}

function data(input: ProductPatch) {
  return {
    externalId: input.externalId,
    title: input.title,
    description: input.description,
    category: input.category,
    labels: input.labels as Prisma.InputJsonValue | undefined,
    price: input.price,
    currency: input.currency,
    url: input.url,
  };
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

function isNotFound(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025';
}

/** Products of one merchant. Every method is scoped by merchantId; other merchants' ids miss. */
export class ProductRepository {
  constructor(private readonly prisma: DbClient) {}

  async create(merchantId: string, input: ProductInput): Promise<ProductRecord> {
    validate(input);
    try {
      const row = await this.prisma.product.create({
        data: { ...data(input), externalId: input.externalId, title: input.title, merchantId },
      });
      return toRecord(row);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictError(`a product with externalId "${input.externalId}" already exists`);
      }
      throw error;
    }
  }

  /** Returns null when the product does not exist for this merchant. */
  async update(merchantId: string, id: string, patch: ProductPatch): Promise<ProductRecord | null> {
    if (!isUuid(id)) return null;
    validate(patch);
    try {
      const row = await this.prisma.product.update({
        where: { id, merchantId },
        data: data(patch),
      });
      return toRecord(row);
    } catch (error) {
      if (isNotFound(error)) return null;
      if (isUniqueViolation(error)) {
        throw new ConflictError(
          `a product with externalId "${patch.externalId ?? ''}" already exists`,
        );
      }
      throw error;
    }
  }

  /** Create or replace by externalId: the same input twice leaves one product. */
  async upsert(merchantId: string, input: ProductInput): Promise<ProductRecord> {
    validate(input);
    const fields = {
      ...data(input),
      externalId: input.externalId,
      title: input.title,
      // Omitted optional fields are cleared on replace, so an upsert is idempotent.
      description: input.description ?? null,
      category: input.category ?? null,
      labels: (input.labels ?? {}) as Prisma.InputJsonValue,
      price: input.price ?? null,
      currency: input.currency ?? null,
      url: input.url ?? null,
    };
    const where = { merchantId_externalId: { merchantId, externalId: input.externalId } };
    for (let attempt = 0; ; attempt++) {
      try {
        const row = await this.prisma.product.upsert({
          where,
          create: { ...fields, merchantId },
          update: fields,
        });
        return toRecord(row);
      } catch (error) {
        // Two concurrent upserts of a new externalId: the loser retries as an update.
        if (isUniqueViolation(error) && attempt === 0) continue;
        throw error;
      }
    }
  }

  /**
   * The product with this externalId, created from `input` when there is none; an existing
   * product is returned as it is. Two concurrent calls for a new externalId get the same
   * product (ON CONFLICT waits for the other insert instead of failing, also in a transaction).
   */
  async ensure(
    merchantId: string,
    input: ProductInput,
  ): Promise<{ product: ProductRecord; created: boolean }> {
    validate(input);
    const inserted = await this.prisma.$queryRaw<{ id: string }[]>`
      INSERT INTO products (id, merchant_id, external_id, title, description, category, labels,
                            price, currency, url, updated_at)
      VALUES (${newId()}::uuid, ${merchantId}::uuid, ${input.externalId}, ${input.title},
              ${input.description ?? null}, ${input.category ?? null},
              ${JSON.stringify(input.labels ?? {})}::jsonb, ${input.price ?? null}::numeric,
              ${input.currency ?? null}, ${input.url ?? null}, now())
      ON CONFLICT (merchant_id, external_id) DO NOTHING
      RETURNING id::text AS id`;
    const product = await this.getByExternalId(merchantId, input.externalId);
    if (!product) throw new NotFoundError(`merchant ${merchantId}`);
    return { product, created: inserted.length > 0 };
  }

  /**
   * Lock the product's row until the surrounding transaction ends (FOR UPDATE); false when the
   * merchant has no such product. Inserting an image of a product takes a share lock on its row
   * (the foreign key), which this lock waits for and excludes: a transaction holding it sees
   * every image the product will ever have. Only meaningful inside db.transaction.
   */
  async lock(merchantId: string, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await this.prisma.$queryRaw<{ id: string }[]>`
      SELECT id::text AS id FROM products
      WHERE id = ${id}::uuid AND merchant_id = ${merchantId}::uuid
      FOR UPDATE`;
    return rows.length > 0;
  }

  /** Deletes the product with its images and embeddings (ON DELETE CASCADE). */
  async delete(merchantId: string, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const { count } = await this.prisma.product.deleteMany({ where: { id, merchantId } });
    return count > 0;
  }

  async get(merchantId: string, id: string): Promise<ProductRecord | null> {
    if (!isUuid(id)) return null;
    const row = await this.prisma.product.findFirst({ where: { id, merchantId } });
    return row ? toRecord(row) : null;
  }

  async getByExternalId(merchantId: string, externalId: string): Promise<ProductRecord | null> {
    const row = await this.prisma.product.findUnique({
      where: { merchantId_externalId: { merchantId, externalId } },
    });
    return row ? toRecord(row) : null;
  }

  /** Several products by id, in the order asked; ids of other merchants are left out. */
  async getMany(merchantId: string, ids: string[]): Promise<ProductRecord[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    const rows = await this.prisma.product.findMany({ where: { id: { in: valid }, merchantId } });
    const byId = new Map(rows.map((r) => [r.id, toRecord(r)]));
    return valid.flatMap((id) => byId.get(id) ?? []);
  }

  /** Newest first, cursor-paginated, with the total matching the filter. */
  async list(merchantId: string, { first, after, filter }: ListProductsArgs): Promise<ProductPage> {
    assertInt(first, 'first', 1, MAX_PAGE_SIZE);
    if (after !== undefined) assertUuid(after, 'cursor');
    if (filter) validateFilter(filter);
    const where = productFilterSql(filter);
    const cursor = after === undefined ? Prisma.sql`TRUE` : Prisma.sql`p.id < ${after}::uuid`;
    const [idRows, countRows] = await Promise.all([
      this.prisma.$queryRaw<{ id: string }[]>`
        SELECT p.id FROM products p
        WHERE p.merchant_id = ${merchantId}::uuid AND ${where} AND ${cursor}
        ORDER BY p.id DESC
        LIMIT ${first + 1}`,
      this.prisma.$queryRaw<{ count: number | bigint }[]>`
        SELECT count(*)::int AS count FROM products p
        WHERE p.merchant_id = ${merchantId}::uuid AND ${where}`,
    ]);
    const ids = idRows.slice(0, first).map((r) => r.id);
    const items = await this.getMany(merchantId, ids);
    return {
      items,
      totalCount: Number(countRows[0]?.count ?? 0),
      hasNextPage: idRows.length > first,
      endCursor: ids.at(-1) ?? null,
    };
  }

  async count(merchantId: string, filter?: ProductFilter): Promise<number> {
    if (filter) validateFilter(filter);
    const rows = await this.prisma.$queryRaw<{ count: number | bigint }[]>`
      SELECT count(*)::int AS count FROM products p
      WHERE p.merchant_id = ${merchantId}::uuid AND ${productFilterSql(filter)}`;
    return Number(rows[0]?.count ?? 0);
  }

  /** Distinct categories with product counts, most products first. */
  async categories(merchantId: string): Promise<{ category: string; count: number }[]> {
    const rows = await this.prisma.product.groupBy({
      by: ['category'],
      where: { merchantId, category: { not: null } },
      _count: { _all: true },
      orderBy: { _count: { category: 'desc' } },
    });
    return rows.map((r) => ({ category: r.category ?? '', count: r._count._all }));
  }
}
