// Every SQL statement that touches a vector, built by pure functions: the repositories run them,
// `npm run queries -w @lookalike/db` writes their SQL for representative arguments to
// embedding.queries.sql beside this file, and a test fails when that snapshot is stale, so a
// change to a query shows in review. All values are bound parameters; the only text spliced
// into SQL is a vector type (from a validated dims integer), an operator (from a two-value
// enum) and index names (from a validated model id).
import type { Metric } from '@lookalike/search';
import { Prisma } from '../generated/prisma/client.js';
import {
  hasConditions,
  productFilterSql,
  type ProductFilter,
} from '../repositories/product-filter.js';
import { assertModelId, modelIndexName, vectorType, type IndexMetric } from './vector-sql.js';

export type NearestStrategy = 'auto' | 'index' | 'exact';

/** What a nearest-neighbour statement needs, validated by the repository before building. */
export interface NearestQuery {
  merchantId: string;
  modelId: string;
  dims: number;
  /** The query vector as pgvector text, from vectorLiteral(). */
  vector: string;
  metric: Metric;
  /** Candidates the index scan returns. */
  limit: number;
  filter?: ProductFilter | undefined;
  /** UUIDs only (the repository drops anything else). */
  excludeImageIds?: readonly string[] | undefined;
  excludeProductIds?: readonly string[] | undefined;
}

function operator(metric: Metric): Prisma.Sql {
  return Prisma.raw(metric === 'cosine' ? '<=>' : '<->');
}

function notIn(column: string, ids: readonly string[] | undefined): Prisma.Sql {
  if (!ids || ids.length === 0) return Prisma.empty;
  return Prisma.sql`AND ${Prisma.raw(column)} NOT IN (${Prisma.join(ids.map((id) => Prisma.sql`${id}::uuid`))})`;
}

/**
 * The candidates of a nearest query: this merchant's vectors of this model, ordered by
 * distance, the product filter joined in only when it has conditions. MATERIALIZED keeps the
 * planner from pushing anything into the ordered index scan.
 */
function candidatesSql(q: NearestQuery): Prisma.Sql {
  const type = Prisma.raw(vectorType(q.dims));
  const join = hasConditions(q.filter)
    ? Prisma.sql`JOIN products p ON p.id = e.product_id`
    : Prisma.empty;
  return Prisma.sql`candidates AS MATERIALIZED (
        SELECT e.image_id, e.product_id, (e.embedding::${type} ${operator(q.metric)} ${q.vector}::${type}) AS distance
        FROM image_embeddings e ${join}
        WHERE e.model_id = ${q.modelId}
          AND e.merchant_id = ${q.merchantId}::uuid
          AND ${productFilterSql(q.filter)} ${notIn('e.image_id', q.excludeImageIds)} ${notIn('e.product_id', q.excludeProductIds)}
        ORDER BY distance
        LIMIT ${q.limit}
      )`;
}

/** The `limit` nearest images, nearest first (ties by image id): ids and distances only. */
export function nearestSql(q: NearestQuery): Prisma.Sql {
  return Prisma.sql`
      WITH ${candidatesSql(q)}
      SELECT image_id::text AS "imageId", product_id::text AS "productId", distance::float8 AS distance
      FROM candidates
      ORDER BY distance, image_id`;
}

/**
 * Search in one round trip: the nearest candidates, the best image of each product, and the
 * product and image rows themselves. `candidateCount` and `farthest` say whether more
 * candidates could exist (the repository widens `limit` when the distinct products fall short).
 */
export function nearestProductsSql(q: NearestQuery & { k: number }): Prisma.Sql {
  return Prisma.sql`
      WITH ${candidatesSql(q)},
      best AS (
        SELECT DISTINCT ON (product_id) image_id, product_id, distance
        FROM candidates
        ORDER BY product_id, distance, image_id
      ),
      -- The k nearest products before the joins: only their rows are fetched.
      top AS (
        SELECT image_id, product_id, distance FROM best ORDER BY distance, image_id LIMIT ${q.k}
      )
      SELECT b.distance::float8 AS distance,
             (SELECT count(*)::int FROM candidates) AS "candidateCount",
             (SELECT max(distance)::float8 FROM candidates) AS farthest,
             p.id::text AS "productId", p.external_id AS "externalId", p.title, p.description,
             p.category, p.labels, p.price::text AS price, p.currency, p.url,
             p.created_at AS "productCreatedAt", p.updated_at AS "productUpdatedAt",
             i.id::text AS "imageId", i.sha256, i.mime, i.width, i.height,
             i.byte_size AS "byteSize", i.storage_key AS "storageKey", i.status::text AS status,
             i.source, i.created_at AS "imageCreatedAt"
      FROM top b
      JOIN products p ON p.id = b.product_id AND p.merchant_id = ${q.merchantId}::uuid
      JOIN product_images i ON i.id = b.image_id
      ORDER BY b.distance, b.image_id`;
}

/**
 * Session settings of a nearest query that departs from the connection defaults (a strategy
 * other than auto, or another ef_search), run first in the same transaction. set_config(...,
 * true) is SET LOCAL: the settings end with the transaction. JIT stays off: a k-NN query runs in
 * about a millisecond, and a disabled plan node's huge cost estimate (enable_* = off) would
 * otherwise trigger 100+ ms of JIT compilation per query (seen with EXPLAIN ANALYZE on native
 * Postgres 15).
 */
export function searchSettingsSql(strategy: NearestStrategy, efSearch: number): Prisma.Sql {
  return strategy === 'exact'
    ? Prisma.sql`SELECT set_config('enable_indexscan', 'off', true), set_config('jit', 'off', true)`
    : Prisma.sql`SELECT set_config('hnsw.ef_search', ${String(efSearch)}, true),
                        set_config('hnsw.iterative_scan', 'relaxed_order', true),
                        -- 'index': an ordered HNSW scan is the only plan left without a sort.
                        set_config('enable_sort', ${strategy === 'index' ? 'off' : 'on'}, true),
                        set_config('jit', 'off', true)`;
}

/** Back to the connection defaults of a search (what createDb sets on every connection). */
export function defaultSearchSettingsSql(efSearch: number): Prisma.Sql {
  return Prisma.sql`SELECT set_config('hnsw.ef_search', ${String(efSearch)}, true),
                        set_config('hnsw.iterative_scan', 'relaxed_order', true),
                        set_config('enable_sort', 'on', true),
                        set_config('enable_indexscan', 'on', true)`;
}

/**
 * Store (or replace) vectors of images in one statement. Rows for images that are not this
 * merchant's join nothing and are skipped.
 */
export function upsertEmbeddingsSql(
  merchantId: string,
  modelId: string,
  rows: readonly { imageId: string; vector: string }[],
): Prisma.Sql {
  const values = rows.map((r) => Prisma.sql`(${r.imageId}::uuid, ${r.vector})`);
  return Prisma.sql`
      INSERT INTO image_embeddings (id, image_id, model_id, merchant_id, product_id, embedding)
      SELECT gen_random_uuid(), i.id, ${modelId}, i.merchant_id, i.product_id, v.embedding::vector
      FROM (VALUES ${Prisma.join(values)}) AS v(image_id, embedding)
      JOIN product_images i ON i.id = v.image_id AND i.merchant_id = ${merchantId}::uuid
      ON CONFLICT (image_id, model_id)
      DO UPDATE SET embedding = EXCLUDED.embedding, created_at = now()`;
}

/** The stored vectors of some images for one model, as text. */
export function embeddingsOfImagesSql(
  merchantId: string,
  modelId: string,
  imageIds: readonly string[],
): Prisma.Sql {
  return Prisma.sql`
      SELECT image_id::text AS id, embedding::text AS v FROM image_embeddings
      WHERE image_id = ANY(${imageIds}::uuid[]) AND model_id = ${modelId}
        AND merchant_id = ${merchantId}::uuid`;
}

/** The stored vectors of some products' images for one model ("more like this"). */
export function embeddingsOfProductsSql(
  merchantId: string,
  modelId: string,
  productIds: readonly string[],
): Prisma.Sql {
  return Prisma.sql`
      SELECT product_id::text AS "productId", embedding::text AS v FROM image_embeddings
      WHERE product_id = ANY(${productIds}::uuid[]) AND model_id = ${modelId}
        AND merchant_id = ${merchantId}::uuid
      ORDER BY product_id, image_id`;
}

/** Every embedded image of a merchant for a model with its product and category. */
export function embeddedCatalogSql(merchantId: string, modelId: string): Prisma.Sql {
  return Prisma.sql`
      SELECT e.image_id::text AS "imageId", e.product_id::text AS "productId", p.category
      FROM image_embeddings e JOIN products p ON p.id = e.product_id
      WHERE e.merchant_id = ${merchantId}::uuid AND e.model_id = ${modelId}
      ORDER BY e.image_id`;
}

/**
 * The next READY images of a merchant without a vector of this model (and not failed for it),
 * in id order after `afterId`: one batch of a backfill.
 */
export function imagesMissingEmbeddingSql(
  merchantId: string,
  modelId: string,
  afterId: string | null,
  limit: number,
): Prisma.Sql {
  const after = afterId === null ? Prisma.empty : Prisma.sql`AND i.id > ${afterId}::uuid`;
  return Prisma.sql`
      SELECT i.id::text AS id, i.sha256
      FROM product_images i
      WHERE i.merchant_id = ${merchantId}::uuid AND i.status = 'READY' ${after}
        AND NOT EXISTS (SELECT 1 FROM image_embeddings e
                        WHERE e.image_id = i.id AND e.model_id = ${modelId})
        AND NOT EXISTS (SELECT 1 FROM image_embedding_failures f
                        WHERE f.image_id = i.id AND f.model_id = ${modelId})
      ORDER BY i.id
      LIMIT ${limit}`;
}

/**
 * Per model of a merchant: READY images, how many have a vector of the model, how many failed
 * for it, and how many vectors were written since the current re-index (re)started.
 */
export function coverageSql(merchantId: string): Prisma.Sql {
  return Prisma.sql`
      SELECT mm.model_id AS "modelId",
             (SELECT count(*)::int FROM product_images i
               WHERE i.merchant_id = mm.merchant_id AND i.status = 'READY') AS total,
             (SELECT count(*)::int FROM image_embeddings e
                JOIN product_images i ON i.id = e.image_id AND i.status = 'READY'
               WHERE e.merchant_id = mm.merchant_id AND e.model_id = mm.model_id) AS embedded,
             (SELECT count(*)::int FROM image_embedding_failures f
               WHERE f.merchant_id = mm.merchant_id AND f.model_id = mm.model_id) AS failed,
             (SELECT count(*)::int FROM image_embeddings e
               WHERE e.merchant_id = mm.merchant_id AND e.model_id = mm.model_id
                 AND mm.reindex_started_at IS NOT NULL
                 AND e.created_at >= mm.reindex_started_at) AS "sinceStart"
      FROM merchant_models mm
      WHERE mm.merchant_id = ${merchantId}::uuid`;
}

/** A model's partial HNSW index for one operator class (DDL takes no parameters). */
export function createModelIndexSql(id: string, dims: number, metric: IndexMetric): string {
  assertModelId(id);
  const type = vectorType(dims);
  const ops = type.startsWith('halfvec') ? 'halfvec' : 'vector';
  const opclass = `${ops}_${metric === 'cosine' ? 'cosine' : 'l2'}_ops`;
  return `CREATE INDEX IF NOT EXISTS "${modelIndexName(id, metric)}" ON "image_embeddings"
           USING hnsw (("embedding"::${type}) ${opclass}) WHERE "model_id" = '${id}'`;
}

export function dropModelIndexSql(id: string, metric: IndexMetric): string {
  return `DROP INDEX IF EXISTS "${modelIndexName(id, metric)}"`;
}
