import {
  passesThreshold,
  toScore,
  validateThreshold as thresholdProblem,
  type Metric,
} from '@lookalike/search';
import { isRootClient, type DbClient } from '../client.js';
import { Prisma } from '../generated/prisma/client.js';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import {
  embeddedCatalogSql,
  embeddingsOfImagesSql,
  embeddingsOfProductsSql,
  imagesMissingEmbeddingSql,
  nearestProductsSql,
  nearestSql,
  defaultSearchSettingsSql,
  searchSettingsSql,
  upsertEmbeddingsSql,
  type NearestQuery,
  type NearestStrategy,
} from '../queries/embedding.queries.js';
import { parseVector, vectorLiteral } from '../queries/vector-sql.js';
import type { EmbeddingModelRepository } from './embedding-model.repository.js';
import type { ImageRecord, ImageStatus } from './image.repository.js';
import {
  isPlainObject,
  validateFilter,
  type Labels,
  type ProductFilter,
} from './product-filter.js';
import type { ProductRecord } from './product.repository.js';
import { assertInt, isUuid } from './validate.js';

export type { Metric, NearestStrategy };

/**
 * hnsw.ef_search: how many candidates each HNSW search keeps (pgvector's default is 40).
 * Chosen with bench/nearest.ts on 50k clustered 128-d vectors (m = 16, ef_construction = 64),
 * both metrics, PGlite and native Postgres, 2-core machine, two runs (HNSW builds are not
 * deterministic; docs/benchmarks.md, 2026-11-28): recall@10 was 0.947-0.962 at 40,
 * 0.976-0.993 at 100, 0.988-0.9995 at 200 and 0.9955-0.9985 at 400, with median latency
 * 1.3-2.5 ms at 40-100, 1.6-3.1 ms at 200 and 1.9-3.0 ms at 400 (per-query overhead dominates
 * the graph walk at this size). 200 keeps recall@10 near 0.99 for well under a millisecond more
 * than 100; raise it (per query: `efSearch`) for larger catalogs. Every connection starts with
 * it (createDb), so a default query needs no extra statement; a query asking for more than this
 * many candidates raises it to its candidate count (pgvector's ceiling is 1000).
 */
export const HNSW_EF_SEARCH = 200;

/** The most neighbours one query returns; also pgvector's ceiling for ef_search. */
export const MAX_NEAREST_K = 1000;

/** The most product or image ids one nearest query excludes. */
const MAX_EXCLUDED = MAX_NEAREST_K;

export interface NearestArgs {
  merchantId: string;
  modelId: string;
  vector: ArrayLike<number>;
  metric: Metric;
  /** How many hits to return at most. */
  k: number;
  /**
   * Cut on the metric's own scale (docs/architecture.md): COSINE a minimum similarity in
   * [-1, 1], EUCLIDEAN a maximum distance >= 0. Applied to the k nearest, so it only removes hits.
   */
  threshold?: number | null;
  filter?: ProductFilter;
  excludeImageIds?: string[];
  /** Leave these products out ("more like this" excludes the products it starts from). */
  excludeProductIds?: string[];
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

/** A search hit with its product and image, from the same statement. */
export interface NearestProductHit extends NearestHit {
  product: ProductRecord;
  image: ImageRecord;
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

interface ProductHitRow {
  distance: number;
  candidateCount: number;
  farthest: number | null;
  productId: string;
  externalId: string;
  title: string;
  description: string | null;
  category: string | null;
  labels: unknown;
  price: string | null;
  currency: string | null;
  url: string | null;
  productCreatedAt: Date;
  productUpdatedAt: Date;
  imageId: string;
  sha256: string;
  mime: string;
  width: number;
  height: number;
  byteSize: number;
  storageKey: string;
  status: string;
  source: string | null;
  imageCreatedAt: Date;
}

/** Thresholds follow @lookalike/search's convention (and its checks), as InvalidArgumentError. */
export function validateThreshold(metric: Metric, threshold: number): void {
  const problem = thresholdProblem(metric, threshold);
  if (problem) throw new InvalidArgumentError(problem.message);
}

function toProductHit(merchantId: string, metric: Metric, r: ProductHitRow): NearestProductHit {
  const distance = Math.max(0, r.distance);
  // jsonb arrives parsed from pg, and as text from some drivers: accept both.
  const labels = typeof r.labels === 'string' ? (JSON.parse(r.labels) as unknown) : r.labels;
  return {
    imageId: r.imageId,
    productId: r.productId,
    distance,
    score: toScore(metric, distance),
    product: {
      id: r.productId,
      merchantId,
      externalId: r.externalId,
      title: r.title,
      description: r.description,
      category: r.category,
      labels: (isPlainObject(labels) ? labels : {}) as Labels,
      price: r.price === null ? null : Number(r.price),
      currency: r.currency,
      url: r.url,
      createdAt: new Date(r.productCreatedAt),
      updatedAt: new Date(r.productUpdatedAt),
    },
    image: {
      id: r.imageId,
      merchantId,
      productId: r.productId,
      sha256: r.sha256.trim(),
      mime: r.mime,
      width: r.width,
      height: r.height,
      byteSize: r.byteSize,
      storageKey: r.storageKey,
      status: r.status as ImageStatus,
      source: r.source,
      createdAt: new Date(r.imageCreatedAt),
    },
  };
}

/**
 * Reads, writes and nearest-neighbour search of vectors with pgvector; the statements are
 * built in queries/embedding.queries.ts.
 */
export class EmbeddingRepository {
  /**
   * @param onWrite told how many vectors each write added, replaced or deleted (the planner's
   *   statistics are refreshed from it: see TableStats).
   */
  constructor(
    private readonly prisma: DbClient,
    private readonly models: EmbeddingModelRepository,
    private readonly onWrite: (rows: number) => void = () => undefined,
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
    const rows: { imageId: string; vector: string }[] = [];
    for (const item of items) {
      if (seen.has(item.imageId)) {
        throw new InvalidArgumentError(`image ${item.imageId} appears twice in one batch`);
      }
      seen.add(item.imageId);
      const vector = vectorLiteral(item.vector, model.dims, `embedding of image ${item.imageId}`);
      if (isUuid(item.imageId)) rows.push({ imageId: item.imageId, vector });
    }
    if (rows.length === 0) return 0;
    const written = await this.prisma.$executeRaw(upsertEmbeddingsSql(merchantId, modelId, rows));
    this.onWrite(written);
    return written;
  }

  /** The stored vector, or null. */
  async get(merchantId: string, modelId: string, imageId: string): Promise<number[] | null> {
    return (await this.getMany(merchantId, modelId, [imageId])).get(imageId) ?? null;
  }

  /** The models that hold a vector of this image. */
  async modelsOf(merchantId: string, imageId: string): Promise<string[]> {
    if (!isUuid(imageId)) return [];
    const rows = await this.prisma.imageEmbedding.findMany({
      where: { merchantId, imageId },
      select: { modelId: true },
      orderBy: { modelId: 'asc' },
    });
    return rows.map((r) => r.modelId);
  }

  /** The vectors of several images (one model) by image id; ids not found are left out. */
  async getMany(
    merchantId: string,
    modelId: string,
    imageIds: readonly string[],
  ): Promise<Map<string, number[]>> {
    const ids = imageIds.filter(isUuid);
    if (ids.length === 0) return new Map();
    const rows = await this.prisma.$queryRaw<{ id: string; v: string }[]>(
      embeddingsOfImagesSql(merchantId, modelId, ids),
    );
    return new Map(rows.map((r) => [r.id, parseVector(r.v)]));
  }

  /** The vectors of the images of several products (one model), grouped by product. */
  async ofProducts(
    merchantId: string,
    modelId: string,
    productIds: readonly string[],
  ): Promise<Map<string, number[][]>> {
    const ids = productIds.filter(isUuid);
    const grouped = new Map<string, number[][]>();
    if (ids.length === 0) return grouped;
    const rows = await this.prisma.$queryRaw<{ productId: string; v: string }[]>(
      embeddingsOfProductsSql(merchantId, modelId, ids),
    );
    for (const row of rows) {
      const list = grouped.get(row.productId) ?? [];
      list.push(parseVector(row.v));
      grouped.set(row.productId, list);
    }
    return grouped;
  }

  /**
   * Every embedded image of the merchant for a model, with its product and category: the
   * population a catalog evaluation samples its queries from.
   */
  async catalog(
    merchantId: string,
    modelId: string,
  ): Promise<{ imageId: string; productId: string; category: string | null }[]> {
    return this.prisma.$queryRaw(embeddedCatalogSql(merchantId, modelId));
  }

  /**
   * A backfill's next batch: READY images of the merchant without a vector of this model and
   * not failed for it, in id order after `afterId`.
   */
  async missing(
    merchantId: string,
    modelId: string,
    afterId: string | null,
    limit: number,
  ): Promise<{ imageId: string; sha256: string }[]> {
    assertInt(limit, 'limit', 1, MAX_NEAREST_K);
    if (afterId !== null && !isUuid(afterId))
      throw new InvalidArgumentError('afterId must be a UUID');
    const rows = await this.prisma.$queryRaw<{ id: string; sha256: string }[]>(
      imagesMissingEmbeddingSql(merchantId, modelId, afterId, limit),
    );
    return rows.map((r) => ({ imageId: r.id, sha256: r.sha256.trim() }));
  }

  /** Remove an image's vectors (all models, or one). Returns how many were removed. */
  async delete(merchantId: string, imageId: string, modelId?: string): Promise<number> {
    if (!isUuid(imageId)) return 0;
    const { count } = await this.prisma.imageEmbedding.deleteMany({
      where: { imageId, merchantId, ...(modelId === undefined ? {} : { modelId }) },
    });
    return count;
  }

  /** Remove every vector of one model in a merchant's catalog (retiring the model). */
  async deleteModel(merchantId: string, modelId: string): Promise<number> {
    const { count } = await this.prisma.imageEmbedding.deleteMany({
      where: { merchantId, modelId },
    });
    this.onWrite(count);
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
    const query = await this.prepare(args);
    const { metric, k, threshold, distinctProducts = false } = args;
    // Several images of one product can crowd the top k: ask for more candidates until k
    // distinct products are found, the candidates run out, or they pass the threshold.
    let limit = distinctProducts ? Math.min(k * 4, MAX_NEAREST_K) : k;
    for (;;) {
      const rows = (await this.run<Row>(args, nearestSql({ ...query, limit }))).map((r) => {
        const distance = Math.max(0, r.distance);
        return { ...r, distance, score: toScore(metric, distance) };
      });
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

  /**
   * Search: the k nearest products (each with its closest image), hydrated with the product
   * and image rows, in one statement (one round trip with the connection's default settings).
   * Widens the candidate window like `nearest` when images of the same products crowd it.
   */
  async nearestProducts(args: NearestArgs): Promise<NearestProductHit[]> {
    const query = await this.prepare(args);
    const { metric, k, threshold } = args;
    let limit = Math.min(k * 4, MAX_NEAREST_K);
    for (;;) {
      const rows = await this.run<ProductHitRow>(args, nearestProductsSql({ ...query, limit, k }));
      const hits = rows.map((r) => toProductHit(args.merchantId, metric, r));
      const within =
        threshold == null ? hits : hits.filter((h) => passesThreshold(metric, h, threshold));
      const candidates = rows[0]?.candidateCount ?? 0;
      const farthest = rows[0]?.farthest ?? null;
      const cutByThreshold =
        threshold != null &&
        farthest !== null &&
        !passesThreshold(
          metric,
          { distance: Math.max(0, farthest), score: toScore(metric, Math.max(0, farthest)) },
          threshold,
        );
      const exhausted = candidates < limit || limit >= MAX_NEAREST_K || cutByThreshold;
      if (within.length >= k || exhausted || rows.length === 0) return within.slice(0, k);
      limit = Math.min(limit * 4, MAX_NEAREST_K);
    }
  }

  /** The plan Postgres chooses for a nearest query (EXPLAIN), for tests and benchmarks. */
  async explainNearest(args: NearestArgs): Promise<string> {
    const query = await this.prepare(args);
    const rows = await this.run<Record<string, string>>(
      args,
      Prisma.sql`EXPLAIN ${nearestSql({ ...query, limit: args.k })}`,
    );
    return rows.map((r) => Object.values(r)[0]).join('\n');
  }

  /** Validate the arguments before any query runs, and resolve the model's dims. */
  private async prepare(args: NearestArgs): Promise<Omit<NearestQuery, 'limit'>> {
    const { metric, k, threshold } = args;
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
    for (const [name, ids] of [
      ['excludeImageIds', args.excludeImageIds],
      ['excludeProductIds', args.excludeProductIds],
    ] as const) {
      if ((ids?.length ?? 0) > MAX_EXCLUDED) {
        throw new InvalidArgumentError(`${name} takes at most ${MAX_EXCLUDED} ids`);
      }
    }
    const model = await this.models.require(args.modelId);
    const vector = vectorLiteral(args.vector, model.dims, 'query vector');
    if (metric === 'cosine' && !Array.from(args.vector).some((x) => x !== 0)) {
      throw new InvalidArgumentError('a zero vector has no cosine similarity');
    }
    return {
      merchantId: args.merchantId,
      modelId: args.modelId,
      dims: model.dims,
      vector,
      metric,
      filter: args.filter,
      excludeImageIds: args.excludeImageIds?.filter(isUuid),
      excludeProductIds: args.excludeProductIds?.filter(isUuid),
    };
  }

  /**
   * Run a nearest statement. Connections start with this repository's defaults (createDb sets
   * hnsw.ef_search = HNSW_EF_SEARCH and relaxed iterative scans), so the usual query is one
   * statement; another strategy or ef_search runs its settings first, in one transaction.
   */
  private async run<T>(args: NearestArgs, query: Prisma.Sql): Promise<T[]> {
    const strategy = args.strategy ?? 'auto';
    // Candidates beyond ef_search come from the iterative scan; k above it raises it.
    const efSearch = Math.min(Math.max(args.efSearch ?? HNSW_EF_SEARCH, args.k), MAX_NEAREST_K);
    if (strategy === 'auto' && efSearch === HNSW_EF_SEARCH) {
      return this.prisma.$queryRaw<T[]>(query);
    }
    const settings = searchSettingsSql(strategy, efSearch);
    if (isRootClient(this.prisma)) {
      const [, rows] = await this.prisma.$transaction([
        this.prisma.$queryRaw(settings),
        this.prisma.$queryRaw<T[]>(query),
      ]);
      return rows;
    }
    // Already inside a transaction: SET LOCAL lasts until it ends, so restore the defaults after.
    await this.prisma.$queryRaw(settings);
    try {
      return await this.prisma.$queryRaw<T[]>(query);
    } finally {
      await this.prisma.$queryRaw(defaultSearchSettingsSql(HNSW_EF_SEARCH));
    }
  }
}

function bestPerProduct<T extends Row>(rows: T[]): T[] {
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(r.productId) && seen.add(r.productId));
}
