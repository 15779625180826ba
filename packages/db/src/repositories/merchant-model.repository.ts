import type { DbClient } from '../client.js';
import { Prisma } from '../generated/prisma/client.js';
import type { MerchantModel as MerchantModelRow } from '../generated/prisma/client.js';
import { ConflictError, NotFoundError } from '../errors.js';
import { coverageSql } from '../queries/embedding.queries.js';
import { assertModelId } from '../queries/vector-sql.js';
import { fromDbMetric, type SearchSettingsRecord } from './settings.repository.js';
import { assertInt, assertText, isUuid } from './validate.js';

export type MerchantModelStatus = 'ACTIVE' | 'BACKFILLING' | 'READY' | 'RETIRED';

export interface MerchantModelRecord {
  merchantId: string;
  modelId: string;
  status: MerchantModelStatus;
  activatedAt: Date | null;
  /** When the current (or last) re-index started or was resumed. */
  reindexStartedAt: Date | null;
  reindexFinishedAt: Date | null;
  /** Who runs the backfill now, while its lease lasts. */
  reindexLeaseOwner: string | null;
  reindexLeaseUntil: Date | null;
  /**
   * Switch to this model when its re-index completes with every image covered (startReindex's
   * `activateWhenReady`, the automatic upgrade). Cleared when the re-index finishes either way,
   * and whenever the model is activated or retired.
   */
  activateWhenReady: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** How much of a merchant's catalog a model covers. */
export interface ModelCoverage {
  modelId: string;
  /** READY images of the merchant. */
  total: number;
  /** Of those, with a vector of this model. */
  embedded: number;
  /** Images this model failed to embed during a backfill. */
  failed: number;
  /** Vectors written since the current re-index started (for its rate). */
  sinceStart: number;
}

/** What a search needs to know about a merchant, in one query: its model and settings. */
export interface ServingModel {
  modelId: string;
  dims: number;
  /** The stored settings for this model; null while the merchant runs on the defaults. */
  settings: SearchSettingsRecord | null;
  /** Models whose vectors a new image gets (MAINTAINED_STATUSES), this one included. */
  maintained: string[];
}

/** Models whose vectors new images get: the one serving and those kept for a switch. */
export const MAINTAINED_STATUSES: readonly MerchantModelStatus[] = [
  'ACTIVE',
  'BACKFILLING',
  'READY',
];

const MAX_REASON = 1000;

function toRecord(row: MerchantModelRow): MerchantModelRecord {
  return { ...row, status: row.status };
}

function assertIds(merchantId: string, modelId: string): void {
  if (!isUuid(merchantId)) throw new NotFoundError(`merchant ${merchantId}`);
  assertModelId(modelId);
}

/**
 * Each merchant's models: which one serves (exactly one ACTIVE, enforced by a partial unique
 * index), which are being re-indexed, kept or retired, and the lease of the process running a
 * backfill. Lease times are the database's clock, so processes on other machines agree.
 */
export class MerchantModelRepository {
  constructor(private readonly prisma: DbClient) {}

  async list(merchantId: string): Promise<MerchantModelRecord[]> {
    if (!isUuid(merchantId)) return [];
    const rows = await this.prisma.merchantModel.findMany({
      where: { merchantId },
      orderBy: [{ createdAt: 'asc' }, { modelId: 'asc' }],
    });
    return rows.map(toRecord);
  }

  async get(merchantId: string, modelId: string): Promise<MerchantModelRecord | null> {
    if (!isUuid(merchantId)) return null;
    const row = await this.prisma.merchantModel.findUnique({
      where: { merchantId_modelId: { merchantId, modelId } },
    });
    return row ? toRecord(row) : null;
  }

  async active(merchantId: string): Promise<MerchantModelRecord | null> {
    if (!isUuid(merchantId)) return null;
    const row = await this.prisma.merchantModel.findFirst({
      where: { merchantId, status: 'ACTIVE' },
    });
    return row ? toRecord(row) : null;
  }

  /** The ACTIVE model of a merchant with its dims and stored settings; null without one. */
  async serving(merchantId: string): Promise<ServingModel | null> {
    if (!isUuid(merchantId)) return null;
    const rows = await this.prisma.$queryRaw<
      {
        modelId: string;
        dims: number;
        metric: 'COSINE' | 'EUCLIDEAN' | null;
        searchThreshold: number | null;
        matchThreshold: number | null;
        topK: number | null;
        updatedAt: Date | null;
        maintained: string[] | null;
      }[]
    >`
      SELECT mm.model_id AS "modelId", m.dims, s.metric::text AS metric,
             s.search_threshold AS "searchThreshold", s.match_threshold AS "matchThreshold",
             s.top_k AS "topK", s.updated_at AS "updatedAt",
             (SELECT array_agg(o.model_id ORDER BY o.model_id) FROM merchant_models o
               WHERE o.merchant_id = mm.merchant_id
                 AND o.status IN ('ACTIVE', 'BACKFILLING', 'READY')) AS maintained
      FROM merchant_models mm
      JOIN embedding_models m ON m.id = mm.model_id
      LEFT JOIN search_settings s ON s.merchant_id = mm.merchant_id AND s.model_id = mm.model_id
      WHERE mm.merchant_id = ${merchantId}::uuid AND mm.status = 'ACTIVE'`;
    const row = rows[0];
    if (!row) return null;
    return {
      modelId: row.modelId,
      dims: row.dims,
      maintained: row.maintained ?? [row.modelId],
      settings:
        row.metric === null || row.topK === null
          ? null
          : {
              metric: fromDbMetric[row.metric],
              searchThreshold: row.searchThreshold,
              matchThreshold: row.matchThreshold,
              topK: row.topK,
              updatedAt: row.updatedAt === null ? null : new Date(row.updatedAt),
            },
    };
  }

  /** Model ids whose vectors a new image of this merchant gets. */
  async maintained(merchantId: string): Promise<string[]> {
    if (!isUuid(merchantId)) return [];
    const rows = await this.prisma.merchantModel.findMany({
      where: { merchantId, status: { in: [...MAINTAINED_STATUSES] } },
      select: { modelId: true },
      orderBy: { modelId: 'asc' },
    });
    return rows.map((r) => r.modelId);
  }

  /** How many merchants keep vectors of this model (any status but RETIRED). */
  async users(modelId: string): Promise<number> {
    return this.prisma.merchantModel.count({ where: { modelId, status: { not: 'RETIRED' } } });
  }

  /** Rows of every merchant in one of `statuses`, oldest first (start-up: models still in use). */
  async withStatus(statuses: readonly MerchantModelStatus[]): Promise<MerchantModelRecord[]> {
    const rows = await this.prisma.merchantModel.findMany({
      where: { status: { in: [...statuses] } },
      orderBy: [{ createdAt: 'asc' }, { merchantId: 'asc' }, { modelId: 'asc' }],
    });
    return rows.map(toRecord);
  }

  /**
   * Make `modelId` the merchant's ACTIVE model when it has none (a new merchant, a fresh
   * database). Returns the merchant's active model afterwards, whichever it is.
   */
  async activateIfNone(merchantId: string, modelId: string): Promise<MerchantModelRecord> {
    assertIds(merchantId, modelId);
    const current = await this.active(merchantId);
    if (current) return current;
    try {
      const row = await this.prisma.merchantModel.upsert({
        where: { merchantId_modelId: { merchantId, modelId } },
        create: { merchantId, modelId, status: 'ACTIVE', activatedAt: new Date() },
        update: { status: 'ACTIVE', activatedAt: new Date() },
      });
      return toRecord(row);
    } catch (error) {
      // Another process activated one first (the partial unique index): theirs stands.
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
        const winner = await this.active(merchantId);
        if (winner) return winner;
      }
      throw error;
    }
  }

  /**
   * Ask for a re-index: the model becomes BACKFILLING (an ACTIVE one stays ACTIVE, filling its
   * gaps), its earlier failures are forgotten so they are tried again, and any lease is
   * dropped so a runner can claim it at once. `activateWhenReady` records the intent to switch
   * to it when the re-index completes (never on the ACTIVE model: it serves already).
   */
  async startReindex(
    merchantId: string,
    modelId: string,
    { activateWhenReady = false }: { activateWhenReady?: boolean } = {},
  ): Promise<MerchantModelRecord> {
    assertIds(merchantId, modelId);
    await this.prisma.imageEmbeddingFailure.deleteMany({ where: { merchantId, modelId } });
    const existing = await this.get(merchantId, modelId);
    const data = {
      reindexStartedAt: new Date(),
      reindexFinishedAt: null,
      reindexLeaseOwner: null,
      reindexLeaseUntil: null,
      activateWhenReady: activateWhenReady && existing?.status !== 'ACTIVE',
    };
    const row = await this.prisma.merchantModel.upsert({
      where: { merchantId_modelId: { merchantId, modelId } },
      create: { merchantId, modelId, status: 'BACKFILLING', ...data },
      update: { ...data, ...(existing?.status === 'ACTIVE' ? {} : { status: 'BACKFILLING' }) },
    });
    return toRecord(row);
  }

  /** Re-indexes not finished, of every merchant: what a starting process resumes. */
  async pendingReindexes(): Promise<MerchantModelRecord[]> {
    const rows = await this.prisma.merchantModel.findMany({
      where: { reindexStartedAt: { not: null }, reindexFinishedAt: null },
      orderBy: { reindexStartedAt: 'asc' },
    });
    return rows.map(toRecord);
  }

  /**
   * Take or renew the lease on a pending re-index for `leaseMs`. True when `owner` holds it now:
   * it was free, expired, or already `owner`'s. A finished or retired re-index is never claimed.
   */
  async claimReindex(
    merchantId: string,
    modelId: string,
    owner: string,
    leaseMs: number,
  ): Promise<boolean> {
    assertIds(merchantId, modelId);
    assertText(owner, 'lease owner', { min: 1, max: 200 });
    assertInt(leaseMs, 'leaseMs', 1, 3_600_000);
    const claimed = await this.prisma.$executeRaw`
      UPDATE merchant_models
         SET reindex_lease_owner = ${owner},
             reindex_lease_until = now() + make_interval(secs => ${leaseMs / 1000}::float8),
             updated_at = now()
       WHERE merchant_id = ${merchantId}::uuid AND model_id = ${modelId}
         AND reindex_started_at IS NOT NULL AND reindex_finished_at IS NULL
         AND status <> 'RETIRED'
         AND (reindex_lease_owner IS NULL OR reindex_lease_owner = ${owner}
              OR reindex_lease_until < now())`;
    return claimed > 0;
  }

  /**
   * The backfill found nothing left to embed: the re-index is finished and a BACKFILLING model
   * becomes READY. Only the lease holder finishes; false when it no longer holds the lease. Its
   * `activateWhenReady` is cleared: read it first, in the db.transaction that also makes the
   * switch it asks for.
   */
  async finishReindex(merchantId: string, modelId: string, owner: string): Promise<boolean> {
    assertIds(merchantId, modelId);
    const finished = await this.prisma.$executeRaw`
      UPDATE merchant_models
         SET reindex_finished_at = now(),
             status = CASE WHEN status = 'BACKFILLING' THEN 'READY'::"MerchantModelStatus" ELSE status END,
             reindex_lease_owner = NULL, reindex_lease_until = NULL, activate_when_ready = false,
             updated_at = now()
       WHERE merchant_id = ${merchantId}::uuid AND model_id = ${modelId}
         AND reindex_lease_owner = ${owner} AND reindex_finished_at IS NULL`;
    return finished > 0;
  }

  /** Give a lease back (shutting down): another process may resume at once. */
  async releaseReindex(merchantId: string, modelId: string, owner: string): Promise<void> {
    assertIds(merchantId, modelId);
    await this.prisma.$executeRaw`
      UPDATE merchant_models SET reindex_lease_owner = NULL, reindex_lease_until = NULL
       WHERE merchant_id = ${merchantId}::uuid AND model_id = ${modelId}
         AND reindex_lease_owner = ${owner}`;
  }

  /** Note images a model could not embed, so the backfill moves on (and counts them). */
  async recordFailures(
    merchantId: string,
    modelId: string,
    failures: readonly { imageId: string; reason: string }[],
  ): Promise<void> {
    assertIds(merchantId, modelId);
    for (const f of failures) {
      if (!isUuid(f.imageId)) continue;
      const reason = f.reason.slice(0, MAX_REASON);
      await this.prisma.$executeRaw`
        INSERT INTO image_embedding_failures (image_id, model_id, merchant_id, reason)
        SELECT i.id, ${modelId}, i.merchant_id, ${reason}
        FROM product_images i WHERE i.id = ${f.imageId}::uuid AND i.merchant_id = ${merchantId}::uuid
        ON CONFLICT (image_id, model_id) DO UPDATE SET reason = EXCLUDED.reason, failed_at = now()`;
    }
  }

  /** Coverage of every model the merchant has (one row per model). */
  async coverage(merchantId: string): Promise<Map<string, ModelCoverage>> {
    if (!isUuid(merchantId)) return new Map();
    const rows = await this.prisma.$queryRaw<ModelCoverage[]>(coverageSql(merchantId));
    // Every count is cast to int in the query: a number on both engines.
    return new Map(rows.map((r) => [r.modelId, r]));
  }

  /**
   * Switch the merchant's ACTIVE model to `modelId`: the old one becomes READY (its vectors stay
   * and keep being written, so switching back is instant). Run it inside db.transaction with the
   * coverage check, so the check and the switch see the same catalog. Returns the previous model.
   */
  async activate(merchantId: string, modelId: string): Promise<string | null> {
    assertIds(merchantId, modelId);
    const target = await this.get(merchantId, modelId);
    if (!target) throw new NotFoundError(`model ${modelId} for this merchant`);
    if (target.status === 'RETIRED') {
      throw new ConflictError(`model ${modelId} is retired; start a re-index to use it again`);
    }
    // Rows of this merchant locked in a fixed order: two switches at once queue up.
    await this.prisma.$queryRaw`
      SELECT model_id FROM merchant_models WHERE merchant_id = ${merchantId}::uuid
      ORDER BY model_id FOR UPDATE`;
    const previous = await this.active(merchantId);
    if (previous?.modelId === modelId) return modelId;
    if (previous) {
      await this.prisma.merchantModel.update({
        where: { merchantId_modelId: { merchantId, modelId: previous.modelId } },
        data: { status: 'READY' },
      });
    }
    await this.prisma.merchantModel.update({
      where: { merchantId_modelId: { merchantId, modelId } },
      data: { status: 'ACTIVE', activatedAt: new Date(), activateWhenReady: false },
    });
    return previous?.modelId ?? null;
  }

  /** Mark a model RETIRED for the merchant (the caller deletes its vectors). Not the ACTIVE one. */
  async retire(merchantId: string, modelId: string): Promise<MerchantModelRecord> {
    assertIds(merchantId, modelId);
    const current = await this.get(merchantId, modelId);
    if (!current) throw new NotFoundError(`model ${modelId} for this merchant`);
    if (current.status === 'ACTIVE') {
      throw new ConflictError(
        `model ${modelId} serves this merchant's searches; activate another model before retiring it`,
      );
    }
    await this.prisma.imageEmbeddingFailure.deleteMany({ where: { merchantId, modelId } });
    const row = await this.prisma.merchantModel.update({
      where: { merchantId_modelId: { merchantId, modelId } },
      data: {
        status: 'RETIRED',
        // A re-index in progress ends here: nothing resumes a retired model.
        reindexFinishedAt:
          current.reindexStartedAt && !current.reindexFinishedAt
            ? new Date()
            : current.reindexFinishedAt,
        reindexLeaseOwner: null,
        reindexLeaseUntil: null,
        activateWhenReady: false,
      },
    });
    return toRecord(row);
  }
}
