import { Prisma, type PrismaClient } from '../generated/prisma/client.js';
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import { assertInt } from './validate.js';

export type EmbeddingModelStatus = 'ACTIVE' | 'BACKFILLING' | 'RETIRED';

export interface EmbeddingModelRecord {
  id: string;
  dims: number;
  status: EmbeddingModelStatus;
  createdAt: Date;
}

/**
 * pgvector indexes `vector` up to 2000 dimensions and `halfvec` up to 4000 (DESIGN.md): larger
 * models (ResNet-50's 2048-d) are indexed and searched as half precision.
 */
export const MAX_VECTOR_INDEX_DIMS = 2000;
export const MAX_HALFVEC_INDEX_DIMS = 4000;

/**
 * Model ids end up in index names and in the SQL type cast of the index expression, where
 * Postgres takes no parameters; this pattern keeps them to plain identifiers.
 */
const MODEL_ID = /^[a-z0-9][a-z0-9-]{0,48}$/;

export function assertModelId(id: string): void {
  if (!MODEL_ID.test(id)) {
    throw new InvalidArgumentError(
      `embedding model id "${id}" must match ${String(MODEL_ID)} (lowercase letters, digits, dashes)`,
    );
  }
}

/** The SQL type a model's vectors are cast to in its indexes and queries, e.g. vector(128). */
export function vectorType(dims: number): string {
  assertInt(dims, 'dims', 1, MAX_HALFVEC_INDEX_DIMS);
  return dims > MAX_VECTOR_INDEX_DIMS ? `halfvec(${dims})` : `vector(${dims})`;
}

function indexName(id: string, metric: 'cosine' | 'l2'): string {
  return `image_embeddings_${id.replace(/-/g, '_')}_${metric}_idx`;
}

/** Embedding models known to the database; several can serve side by side. */
export class EmbeddingModelRepository {
  private readonly cache = new Map<string, EmbeddingModelRecord>();

  constructor(private readonly prisma: PrismaClient) {}

  async list(): Promise<EmbeddingModelRecord[]> {
    return this.prisma.embeddingModel.findMany({ orderBy: { createdAt: 'asc' } });
  }

  /** The model, or NotFoundError. Cached: a model's dims never change. */
  async require(id: string): Promise<EmbeddingModelRecord> {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const row = await this.prisma.embeddingModel.findUnique({ where: { id } });
    if (!row) throw new NotFoundError(`embedding model ${id}`);
    this.cache.set(id, row);
    return row;
  }

  /**
   * Register a model and create its HNSW indexes (cosine and Euclidean), partial on its id, so
   * its vectors can be backfilled while other models keep serving. Idempotent; a known id with
   * other dims is refused.
   */
  async register(
    id: string,
    dims: number,
    status: EmbeddingModelStatus = 'BACKFILLING',
  ): Promise<EmbeddingModelRecord> {
    assertModelId(id);
    const type = vectorType(dims);
    const existing = await this.prisma.embeddingModel.findUnique({ where: { id } });
    if (existing && existing.dims !== dims) {
      throw new InvalidArgumentError(
        `embedding model ${id} is registered with ${existing.dims} dimensions, not ${dims}`,
      );
    }
    const row =
      existing ?? (await this.prisma.embeddingModel.create({ data: { id, dims, status } }));
    const ops = type.startsWith('halfvec') ? 'halfvec' : 'vector';
    for (const [metric, opclass] of [
      ['cosine', `${ops}_cosine_ops`],
      ['l2', `${ops}_l2_ops`],
    ] as const) {
      // Identifiers and the literal are built from the validated id and dims only.
      await this.prisma.$executeRawUnsafe(
        `CREATE INDEX IF NOT EXISTS "${indexName(id, metric)}" ON "image_embeddings"
           USING hnsw (("embedding"::${type}) ${opclass}) WHERE "model_id" = '${id}'`,
      );
    }
    this.cache.set(id, row);
    return row;
  }

  async setStatus(id: string, status: EmbeddingModelStatus): Promise<EmbeddingModelRecord> {
    try {
      const row = await this.prisma.embeddingModel.update({ where: { id }, data: { status } });
      this.cache.set(id, row);
      return row;
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025') {
        throw new NotFoundError(`embedding model ${id}`);
      }
      throw error;
    }
  }
}
