import {
  passesThreshold,
  toScore,
  validateThreshold as thresholdProblem,
  type Metric,
} from '@lookalike/search';
import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import type { EmbeddingModelRepository } from './embedding-model.repository.js';
import { vectorType } from './embedding-model.repository.js';
import {
  hasConditions,
  productFilterSql,
  validateFilter,
  type ProductFilter,
} from './product-filter.js';
import { assertInt, isUuid } from './validate.js';

export type { Metric };
export type NearestStrategy = 'auto' | 'index' | 'exact';

/**
 * hnsw.ef_search: how many candidates each HNSW search keeps (pgvector's default is 40).
 * Chosen with bench/nearest.ts on 50k clustered 128-d vectors (m = 16, ef_construction = 64),
 * both metrics, PGlite and native Postgres, 2-core machine, two runs (HNSW builds are not
 * deterministic; docs/benchmarks.md, 2026-11-28): recall@10 was 0.947-0.962 at 40,
 * 0.976-0.993 at 100, 0.988-0.9995 at 200 and 0.9955-0.9985 at 400, with median latency
 * 1.3-2.5 ms at 40-100, 1.6-3.1 ms at 200 and 1.9-3.0 ms at 400 (per-query overhead dominates
 * the graph walk at this size). 200 keeps recall@10 near 0.99 for well under a millisecond more
 * than 100; raise it (per query: `efSearch`) for larger catalogs. A query asking for more than
 * this many neighbours raises it to k (pgvector's ceiling is 1000).
 */
export const HNSW_EF_SEARCH = 200;

/** The most neighbours one query returns; also pgvector's ceiling for ef_search. */
export const MAX_NEAREST_K = 1000;

export interface NearestArgs {
  merchantId: string;
  modelId: string;
  vector: ArrayLike<number>;
  metric: Metric;
  /** How many hits to return at most. */
  k: number;
  /**
   * Cut on the metric's own scale (DESIGN.md): COSINE a minimum similarity in [-1, 1],
   * EUCLIDEAN a maximum distance >= 0. Applied to the k nearest, so it only removes hits.
   */
  threshold?: number | null;
  filter?: ProductFilter;
  excludeImageIds?: string[];
  /** One hit per product, its closest image ("best image wins"). */
  distinctProducts?: boolean;
  /**
   * `auto` (default): the planner picks the HNSW index or, for a selective filter, an exact scan
   * of the few matching rows. `index`: always the HNSW index (approximate; benchmarks and
   * tests of the index). `exact`: brute force over all candidate rows (evaluation, tests).
   */
  strategy?: NearestStrategy;
  /** hnsw.ef_search for this query (default HNSW_EF_SEARCH, raised to k when k is larger). */
  efSearch?: number;
}

export interface NearestHit {
  imageId: string;
  productId: string;
  /** COSINE: 1 - similarity; EUCLIDEAN: L2 distance. */
  distance: number;
  /** COSINE: similarity; EUCLIDEAN: 1 / (1 + distance). */
  score: number;
}

export interface EmbeddingItem {
  imageId: string;
  vector: ArrayLike<number>;
}

interface Row {
  imageId: string;
  productId: string;
  distance: number;
}

/** Thresholds follow @lookalike/search's convention (and its checks), as InvalidArgumentError. */
export function validateThreshold(metric: Metric, threshold: number): void {
  const problem = thresholdProblem(metric, threshold);
  if (problem) throw new InvalidArgumentError(problem.message);
}

function vectorLiteral(vector: ArrayLike<number>, dims: number, what: string): string {
  if (vector.length !== dims) {
    throw new InvalidArgumentError(
      `${what} has ${vector.length} dimensions, the model has ${dims}`,
    );
  }
  const parts = new Array<string>(vector.length);
  for (let i = 0; i < vector.length; i++) {
    const x = vector[i] as number;
    if (!Number.isFinite(x))
      throw new InvalidArgumentError(`${what} has a non-finite value at ${i}`);
    parts[i] = String(x);
  }
  return `[${parts.join(',')}]`;
}

function parseVector(text: string): number[] {
  return text.slice(1, -1).split(',').map(Number);
}

/**
 * Every SQL statement that touches a vector lives here: writes, reads and nearest-neighbour
 * search with pgvector. All values are bound parameters; the only text spliced into SQL is the
 * vector type (from a validated dims integer) and the operator (from a two-value enum).
 */
export class EmbeddingRepository {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly models: EmbeddingModelRepository,
  ) {}

  /** Store (or replace) the vector of one image for one model. */
  async upsert(merchantId: string, modelId: string, item: EmbeddingItem): Promise<void> {
    const written = await this.upsertMany(merchantId, modelId, [item]);
    if (written === 0) throw new NotFoundError(`image ${item.imageId}`);
  }

  /**
   * Store vectors of many images in one statement. Images that are not this merchant's are
   * skipped; returns how many were written.
   */
  async upsertMany(merchantId: string, modelId: string, items: EmbeddingItem[]): Promise<number> {
    if (items.length === 0) return 0;
    if (items.length > 1000) throw new InvalidArgumentError('at most 1000 embeddings per call');
    const model = await this.models.require(modelId);
    const seen = new Set<string>();
    const values: Prisma.Sql[] = [];
    for (const item of items) {
      if (seen.has(item.imageId)) {
        throw new InvalidArgumentError(`image ${item.imageId} appears twice in one batch`);
      }
      seen.add(item.imageId);
      const literal = vectorLiteral(item.vector, model.dims, `embedding of image ${item.imageId}`);
      if (isUuid(item.imageId)) values.push(Prisma.sql`(${item.imageId}::uuid, ${literal})`);
    }
    if (values.length === 0) return 0;
    return this.prisma.$executeRaw`
      INSERT INTO image_embeddings (id, image_id, model_id, merchant_id, product_id, embedding)
      SELECT gen_random_uuid(), i.id, ${modelId}, i.merchant_id, i.product_id, v.embedding::vector
      FROM (VALUES ${Prisma.join(values)}) AS v(image_id, embedding)
      JOIN product_images i ON i.id = v.image_id AND i.merchant_id = ${merchantId}::uuid
      ON CONFLICT (image_id, model_id)
      DO UPDATE SET embedding = EXCLUDED.embedding, created_at = now()`;
  }

  /** The stored vector, or null. */
  async get(merchantId: string, modelId: string, imageId: string): Promise<number[] | null> {
    if (!isUuid(imageId)) return null;
    const rows = await this.prisma.$queryRaw<{ v: string }[]>`
      SELECT embedding::text AS v FROM image_embeddings
      WHERE image_id = ${imageId}::uuid AND model_id = ${modelId}
        AND merchant_id = ${merchantId}::uuid`;
    return rows[0] ? parseVector(rows[0].v) : null;
  }

  /**
   * Every embedded image of the merchant for a model, with its product and category: the
   * population a catalog evaluation samples its queries from.
   */
  /** The vectors of several images (one model) by image id; ids not found are left out. */
  async getMany(
    merchantId: string,
    modelId: string,
    imageIds: readonly string[],
  ): Promise<Map<string, number[]>> {
    const ids = imageIds.filter(isUuid);
    if (ids.length === 0) return new Map();
    const rows = await this.prisma.$queryRaw<{ id: string; v: string }[]>`
      SELECT image_id::text AS id, embedding::text AS v FROM image_embeddings
      WHERE image_id = ANY(${ids}::uuid[]) AND model_id = ${modelId}
        AND merchant_id = ${merchantId}::uuid`;
    return new Map(rows.map((r) => [r.id, parseVector(r.v)]));
  }

  async catalog(
    merchantId: string,
    modelId: string,
  ): Promise<{ imageId: string; productId: string; category: string | null }[]> {
    return this.prisma.$queryRaw`
      SELECT e.image_id::text AS "imageId", e.product_id::text AS "productId", p.category
      FROM image_embeddings e JOIN products p ON p.id = e.product_id
      WHERE e.merchant_id = ${merchantId}::uuid AND e.model_id = ${modelId}
      ORDER BY e.image_id`;
  }

  /** Remove an image's vectors (all models, or one). Returns how many were removed. */
  async delete(merchantId: string, imageId: string, modelId?: string): Promise<number> {
    if (!isUuid(imageId)) return 0;
    const { count } = await this.prisma.imageEmbedding.deleteMany({
      where: { imageId, merchantId, ...(modelId === undefined ? {} : { modelId }) },
    });
    return count;
  }

  async count(merchantId: string, modelId: string): Promise<number> {
    return this.prisma.imageEmbedding.count({ where: { merchantId, modelId } });
  }

  /**
   * The k nearest images to `vector` in this merchant's catalog, nearest first, with distance
   * and score on the metric's scale. Filtered queries use pgvector's iterative index scan
   * (`hnsw.iterative_scan = relaxed_order`) so a selective filter still yields k rows; the
   * relaxed order is restored by sorting the materialised candidates.
   */
  async nearest(args: NearestArgs): Promise<NearestHit[]> {
    const { metric, k, threshold, distinctProducts = false } = args;
    if (!['cosine', 'euclidean'].includes(metric)) {
      throw new InvalidArgumentError(`metric must be cosine or euclidean, got ${metric}`);
    }
    assertInt(k, 'k', 1, MAX_NEAREST_K);
    if (threshold != null) validateThreshold(metric, threshold);
    if (args.filter) validateFilter(args.filter);
    if (args.strategy !== undefined && !['auto', 'index', 'exact'].includes(args.strategy)) {
      throw new InvalidArgumentError(`strategy must be auto, index or exact`);
    }
    if (args.efSearch !== undefined) assertInt(args.efSearch, 'efSearch', 1, MAX_NEAREST_K);
    if ((args.excludeImageIds?.length ?? 0) > MAX_NEAREST_K) {
      throw new InvalidArgumentError(`excludeImageIds takes at most ${MAX_NEAREST_K} ids`);
    }
    const model = await this.models.require(args.modelId);
    const literal = vectorLiteral(args.vector, model.dims, 'query vector');
    if (metric === 'cosine' && !Array.from(args.vector).some((x) => x !== 0)) {
      throw new InvalidArgumentError('a zero vector has no cosine similarity');
    }

    // Several images of one product can crowd the top k: ask for more candidates until k
    // distinct products are found, the candidates run out, or they pass the threshold.
    let limit = distinctProducts ? Math.min(k * 4, MAX_NEAREST_K) : k;
    for (;;) {
      const rows = (await this.run(args, model.dims, literal, limit)).map((r) => ({
        ...r,
        score: toScore(metric, r.distance),
      }));
      const within =
        threshold == null ? rows : rows.filter((r) => passesThreshold(metric, r, threshold));
      const hits = distinctProducts ? bestPerProduct(within).slice(0, k) : within;
      const exhausted =
        rows.length < limit ||
        limit >= MAX_NEAREST_K ||
        (threshold != null && rows.length > 0 && within.length < rows.length);
      if (!distinctProducts || hits.length >= k || exhausted) {
        return hits;
      }
      limit = Math.min(limit * 4, MAX_NEAREST_K);
    }
  }

  /** The plan Postgres chooses for a nearest query (EXPLAIN), for tests and benchmarks. */
  async explainNearest(args: NearestArgs): Promise<string> {
    const model = await this.models.require(args.modelId);
    const literal = vectorLiteral(args.vector, model.dims, 'query vector');
    const rows = await this.inSearchSettings(
      args,
      Prisma.sql`EXPLAIN ${this.nearestSql(args, model.dims, literal, args.k)}`,
    );
    return (rows as unknown as Record<string, string>[]).map((r) => Object.values(r)[0]).join('\n');
  }

  private nearestSql(args: NearestArgs, dims: number, literal: string, limit: number): Prisma.Sql {
    const type = Prisma.raw(vectorType(dims));
    const op = Prisma.raw(args.metric === 'cosine' ? '<=>' : '<->');
    const join = hasConditions(args.filter)
      ? Prisma.sql`JOIN products p ON p.id = e.product_id`
      : Prisma.empty;
    const excluded = (args.excludeImageIds ?? []).filter(isUuid);
    const exclude =
      excluded.length === 0
        ? Prisma.empty
        : Prisma.sql`AND e.image_id NOT IN (${Prisma.join(excluded.map((id) => Prisma.sql`${id}::uuid`))})`;
    return Prisma.sql`
      WITH candidates AS MATERIALIZED (
        SELECT e.image_id, e.product_id, (e.embedding::${type} ${op} ${literal}::${type}) AS distance
        FROM image_embeddings e ${join}
        WHERE e.model_id = ${args.modelId}
          AND e.merchant_id = ${args.merchantId}::uuid
          AND ${productFilterSql(args.filter)} ${exclude}
        ORDER BY distance
        LIMIT ${limit}
      )
      SELECT image_id::text AS "imageId", product_id::text AS "productId", distance::float8 AS distance
      FROM candidates
      ORDER BY distance, image_id`;
  }

  private async run(
    args: NearestArgs,
    dims: number,
    literal: string,
    limit: number,
  ): Promise<Row[]> {
    const rows = await this.inSearchSettings(args, this.nearestSql(args, dims, literal, limit));
    return rows.map((r) => ({ ...r, distance: Math.max(0, r.distance) }));
  }

  /** Run a query in a transaction with the session settings of a nearest search. */
  private async inSearchSettings(args: NearestArgs, query: Prisma.Sql): Promise<Row[]> {
    const strategy = args.strategy ?? 'auto';
    const efSearch = Math.min(Math.max(args.efSearch ?? HNSW_EF_SEARCH, args.k), MAX_NEAREST_K);
    // set_config(..., true) is SET LOCAL: the settings end with this transaction. One statement
    // for all of them: each extra statement is another round trip inside the transaction.
    // JIT is off: a k-NN query runs in about a millisecond, and a disabled plan node's huge cost
    // estimate (enable_* = off) would otherwise trigger 100+ ms of JIT compilation per query
    // (seen with EXPLAIN ANALYZE on native Postgres 15).
    const settings =
      strategy === 'exact'
        ? Prisma.sql`SELECT set_config('enable_indexscan', 'off', true),
                            set_config('jit', 'off', true)`
        : Prisma.sql`SELECT set_config('hnsw.ef_search', ${String(efSearch)}, true),
                            set_config('hnsw.iterative_scan', 'relaxed_order', true),
                            -- 'index': an ordered HNSW scan is the only plan left without a sort.
                            set_config('enable_sort', ${strategy === 'index' ? 'off' : 'on'}, true),
                            set_config('jit', 'off', true)`;
    const [, rows] = await this.prisma.$transaction([
      this.prisma.$queryRaw(settings),
      this.prisma.$queryRaw<Row[]>(query),
    ]);
    return rows;
  }
}

function bestPerProduct<T extends Row>(rows: T[]): T[] {
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(r.productId) && seen.add(r.productId));
}
