import { Prisma } from '../generated/prisma/client.js';
import { InvalidArgumentError } from '../errors.js';
import { assertFinite, assertText } from './validate.js';

export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type Labels = Record<string, JsonValue>;

/**
 * Which products a list or a nearest-neighbour query considers. All conditions are ANDed.
 * The same SQL serves `products.list` and `embeddings.nearest`, so a filter means the same in
 * the catalog and in search.
 */
export interface ProductFilter {
  category?: string;
  /** Any of these categories. */
  categories?: string[];
  /** JSON containment: the product's labels contain these keys with these values. */
  labels?: Labels;
  minPrice?: number;
  maxPrice?: number;
  /** Case-insensitive substring of the title. */
  query?: string;
}

const MAX_CATEGORIES = 100;
const MAX_LABELS_JSON = 4096;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function validateFilter(filter: ProductFilter): void {
  if (filter.category !== undefined) assertText(filter.category, 'filter.category', { max: 200 });
  if (filter.categories !== undefined) {
    if (filter.categories.length > MAX_CATEGORIES) {
      throw new InvalidArgumentError(`filter.categories takes at most ${MAX_CATEGORIES} values`);
    }
    for (const c of filter.categories) assertText(c, 'filter.categories[]', { max: 200 });
  }
  if (filter.labels !== undefined) {
    if (!isPlainObject(filter.labels)) {
      throw new InvalidArgumentError('filter.labels must be a JSON object');
    }
    if (JSON.stringify(filter.labels).length > MAX_LABELS_JSON) {
      throw new InvalidArgumentError(
        `filter.labels must be at most ${MAX_LABELS_JSON} bytes of JSON`,
      );
    }
  }
  if (filter.minPrice !== undefined) assertFinite(filter.minPrice, 'filter.minPrice');
  if (filter.maxPrice !== undefined) assertFinite(filter.maxPrice, 'filter.maxPrice');
  if (filter.query !== undefined) assertText(filter.query, 'filter.query', { max: 200 });
}

/** Escape LIKE wildcards so a search for "50%" means the characters 5, 0, %. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * SQL conditions (parameterised) over the products table aliased `p`; `TRUE` when empty.
 * Validate with `validateFilter` first.
 */
export function productFilterSql(filter: ProductFilter | undefined): Prisma.Sql {
  if (!filter) return Prisma.sql`TRUE`;
  const parts: Prisma.Sql[] = [];
  if (filter.category !== undefined) parts.push(Prisma.sql`p.category = ${filter.category}`);
  if (filter.categories !== undefined) {
    parts.push(
      filter.categories.length === 0
        ? Prisma.sql`FALSE`
        : Prisma.sql`p.category IN (${Prisma.join(filter.categories)})`,
    );
  }
  if (filter.labels !== undefined && Object.keys(filter.labels).length > 0) {
    parts.push(Prisma.sql`p.labels @> ${JSON.stringify(filter.labels)}::jsonb`);
  }
  if (filter.minPrice !== undefined) parts.push(Prisma.sql`p.price >= ${filter.minPrice}::numeric`);
  if (filter.maxPrice !== undefined) parts.push(Prisma.sql`p.price <= ${filter.maxPrice}::numeric`);
  if (filter.query !== undefined && filter.query.trim() !== '') {
    parts.push(Prisma.sql`p.title ILIKE ${likePattern(filter.query.trim())} ESCAPE '\\'`);
  }
  return parts.length === 0 ? Prisma.sql`TRUE` : Prisma.join(parts, ' AND ');
}

export function hasConditions(filter: ProductFilter | undefined): boolean {
  return productFilterSql(filter).sql !== 'TRUE';
}
