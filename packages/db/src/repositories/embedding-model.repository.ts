import type { DbClient } from '../client.js';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { createModelIndexSql, dropModelIndexSql } from '../queries/embedding.queries.js';
import {
  assertModelId,
  modelIndexName,
  vectorType,
  type IndexMetric,
} from '../queries/vector-sql.js';

export { MAX_HALFVEC_INDEX_DIMS, MAX_VECTOR_INDEX_DIMS } from '../queries/vector-sql.js';

export interface EmbeddingModelRecord {
  id: string;
  dims: number;
  createdAt: Date;
}

const INDEX_METRICS: readonly IndexMetric[] = ['cosine', 'l2'];

/**
 * Embedding models known to the database (any merchant's vectors may use them); several live
 * side by side in image_embeddings, each with its own partial HNSW indexes. Which model serves
 * a merchant is MerchantModelRepository's business.
 */
export class EmbeddingModelRepository {
  /**
   * @param cache shared by every repository of one database (transactions included): a model's
   *   dims never change, so `require` asks the database once per model and process.
   */
  constructor(
    private readonly prisma: DbClient,
    private readonly cache: Map<string, EmbeddingModelRecord> = new Map(),
  ) {}

  async list(): Promise<EmbeddingModelRecord[]> {
    return this.prisma.embeddingModel.findMany({ orderBy: { createdAt: 'asc' } });
  }

  async get(id: string): Promise<EmbeddingModelRecord | null> {
    return this.cache.get(id) ?? (await this.prisma.embeddingModel.findUnique({ where: { id } }));
  }

  /** The model, or NotFoundError. */
  async require(id: string): Promise<EmbeddingModelRecord> {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const row = await this.prisma.embeddingModel.findUnique({ where: { id } });
    if (!row) throw new NotFoundError(`embedding model ${id}`);
    this.cache.set(id, row);
    return row;
  }

  /**
   * Make a model known (idempotent). A known id with other dims is refused: vectors of two
   * shapes under one id would break its indexes and every comparison.
   */
  async register(id: string, dims: number): Promise<EmbeddingModelRecord> {
    assertModelId(id);
    vectorType(dims);
    const existing = await this.prisma.embeddingModel.findUnique({ where: { id } });
    if (existing && existing.dims !== dims) {
      throw new InvalidArgumentError(
        `embedding model ${id} is registered with ${existing.dims} dimensions, not ${dims}`,
      );
    }
    const row =
      existing ??
      (await this.prisma.embeddingModel.upsert({
        where: { id },
        create: { id, dims },
        update: {},
      }));
    this.cache.set(id, row);
    return row;
  }

  /**
   * Create the model's HNSW indexes (cosine and Euclidean), partial on its id, so its vectors
   * can be backfilled and searched while other models keep serving. Idempotent.
   */
  async ensureIndexes(id: string): Promise<void> {
    const model = await this.require(id);
    for (const metric of INDEX_METRICS) {
      await this.prisma.$executeRawUnsafe(createModelIndexSql(model.id, model.dims, metric));
    }
  }

  /** Drop the model's indexes (once no merchant keeps its vectors). Idempotent. */
  async dropIndexes(id: string): Promise<void> {
    for (const metric of INDEX_METRICS) {
      await this.prisma.$executeRawUnsafe(dropModelIndexSql(id, metric));
    }
  }

  /** Names of the model's HNSW indexes that exist now. */
  async indexes(id: string): Promise<string[]> {
    const names = INDEX_METRICS.map((metric) => modelIndexName(id, metric));
    const rows = await this.prisma.$queryRaw<{ name: string }[]>`
      SELECT indexname AS name FROM pg_indexes
      WHERE tablename = 'image_embeddings' AND indexname = ANY(${names}::text[])
      ORDER BY indexname`;
    return rows.map((r) => r.name);
  }
}
