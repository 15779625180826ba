import type { DbClient } from '../client.js';
import type { IngestJob as JobRow, IngestRow as RowRow } from '../generated/prisma/client.js';
import { InvalidArgumentError } from '../errors.js';
import { newId } from './ids.js';
import { assertInt, assertText, isUuid } from './validate.js';

export type IngestJobStatus = 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
export type IngestRowStatus = 'PENDING' | 'DONE' | 'FAILED' | 'CANCELLED';

export interface IngestJobRecord {
  id: string;
  merchantId: string;
  format: string;
  status: IngestJobStatus;
  total: number;
  done: number;
  failed: number;
  /** Images the rows worked so far have in place (stored now or by an earlier import). */
  images: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface IngestRowRecord {
  jobId: string;
  row: number;
  merchantId: string;
  externalId: string | null;
  item: unknown;
  status: IngestRowStatus;
  code: string | null;
  reason: string | null;
  finishedAt: Date | null;
}

/** A row as the import found it: a validated item to process, or an error found on parsing. */
export interface NewIngestRow {
  row: number;
  externalId: string | null;
  item: unknown;
  error: { code: string; reason: string } | null;
}

export interface RowOutcome {
  status: 'DONE' | 'FAILED';
  code?: string | null;
  reason?: string | null;
  /** Images of the row in place when it ended (counted into the job). */
  images?: number;
}

export interface FinishedRow {
  /** False when the row was no longer PENDING (a retry of work already recorded, a cancel). */
  recorded: boolean;
  /** The job, when this row was its last: it has just become COMPLETED or FAILED. */
  finishedJob: IngestJobRecord | null;
}

/** Rows inserted per statement: 10k rows go in 10 statements, each well under Postgres' limits. */
const INSERT_CHUNK = 1000;

function toJob(row: JobRow): IngestJobRecord {
  return { ...row, status: row.status };
}

function toRow(row: RowRow): IngestRowRecord {
  return { ...row, status: row.status };
}

/**
 * Bulk imports and their rows. Counters move only when a row leaves PENDING (exactly once, in
 * the transaction that records its outcome), so a retried or duplicated job never counts twice.
 */
export class IngestRepository {
  constructor(private readonly prisma: DbClient) {}

  /** The job and all its rows; rows that failed validation are recorded FAILED at once. */
  async create(
    merchantId: string,
    format: string,
    rows: readonly NewIngestRow[],
    id: string = newId(),
  ): Promise<IngestJobRecord> {
    assertText(format, 'format', { min: 1, max: 20 });
    if (!isUuid(id)) throw new InvalidArgumentError('job id must be a UUID');
    const failed = rows.filter((r) => r.error).length;
    await this.prisma.ingestJob.create({
      data: { id, merchantId, format, total: rows.length, failed },
    });
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const chunk = rows.slice(i, i + INSERT_CHUNK);
      await this.prisma.$executeRaw`
        INSERT INTO ingest_rows (job_id, "row", merchant_id, external_id, item, status, code,
                                 reason, finished_at)
        SELECT ${id}::uuid, r."row", ${merchantId}::uuid, r.external_id, r.item::jsonb,
               r.status::"IngestRowStatus", r.code, r.reason,
               CASE WHEN r.status = 'FAILED' THEN now() END
        FROM unnest(${chunk.map((r) => r.row)}::int[],
                    ${chunk.map((r) => r.externalId)}::text[],
                    ${chunk.map((r) => (r.item == null ? null : JSON.stringify(r.item)))}::text[],
                    ${chunk.map((r) => (r.error ? 'FAILED' : 'PENDING'))}::text[],
                    ${chunk.map((r) => r.error?.code ?? null)}::text[],
                    ${chunk.map((r) => r.error?.reason ?? null)}::text[])
             AS r("row", external_id, item, status, code, reason)`;
    }
    const job = await this.prisma.ingestJob.findUniqueOrThrow({ where: { id } });
    return toJob(job);
  }

  async get(merchantId: string, id: string): Promise<IngestJobRecord | null> {
    if (!isUuid(id)) return null;
    const row = await this.prisma.ingestJob.findFirst({ where: { id, merchantId } });
    return row ? toJob(row) : null;
  }

  /** Newest first; `after` is the id of the last job of the previous page (ids are UUIDv7). */
  async list(
    merchantId: string,
    { first, after }: { first: number; after?: string },
  ): Promise<{ items: IngestJobRecord[]; hasNextPage: boolean }> {
    assertInt(first, 'first', 1, 1000);
    if (after !== undefined && !isUuid(after)) throw new InvalidArgumentError('bad cursor');
    const rows = await this.prisma.ingestJob.findMany({
      where: { merchantId, ...(after ? { id: { lt: after } } : {}) },
      orderBy: { id: 'desc' },
      take: first + 1,
    });
    return { items: rows.slice(0, first).map(toJob), hasNextPage: rows.length > first };
  }

  /** The job's failed rows in row order, after row number `after`. */
  async errors(
    merchantId: string,
    jobId: string,
    { first, after = 0 }: { first: number; after?: number },
  ): Promise<{ items: IngestRowRecord[]; hasNextPage: boolean }> {
    assertInt(first, 'first', 1, 1000);
    if (!isUuid(jobId)) return { items: [], hasNextPage: false };
    const rows = await this.prisma.ingestRow.findMany({
      where: { jobId, merchantId, status: 'FAILED', row: { gt: after } },
      orderBy: { row: 'asc' },
      take: first + 1,
    });
    return { items: rows.slice(0, first).map(toRow), hasNextPage: rows.length > first };
  }

  /** Rows still to do (what a restart enqueues again). */
  async pendingRows(jobId: string): Promise<number[]> {
    const rows = await this.prisma.ingestRow.findMany({
      where: { jobId, status: 'PENDING' },
      select: { row: true },
      orderBy: { row: 'asc' },
    });
    return rows.map((r) => r.row);
  }

  /** Jobs that still have work: QUEUED or RUNNING (any merchant). */
  async unfinished(): Promise<IngestJobRecord[]> {
    const rows = await this.prisma.ingestJob.findMany({
      where: { status: { in: ['QUEUED', 'RUNNING'] } },
      orderBy: { id: 'asc' },
    });
    return rows.map(toJob);
  }

  /**
   * A row to work on: null when it is not PENDING any more (done by an earlier attempt,
   * cancelled). Marks its job RUNNING on the first row.
   */
  async startRow(jobId: string, row: number): Promise<IngestRowRecord | null> {
    if (!isUuid(jobId)) return null;
    const found = await this.prisma.ingestRow.findFirst({
      where: { jobId, row, status: 'PENDING' },
    });
    if (!found) return null;
    await this.prisma.ingestJob.updateMany({
      where: { id: jobId, status: 'QUEUED' },
      data: { status: 'RUNNING', startedAt: new Date() },
    });
    return toRow(found);
  }

  /**
   * Record a row's outcome. Run it inside db.transaction: the job row is locked first, so rows
   * finishing at once on several workers see each other's outcome and exactly one of them
   * finishes the job (and may write its event in the same transaction).
   */
  async finishRow(jobId: string, row: number, outcome: RowOutcome): Promise<FinishedRow> {
    await this.lock(jobId);
    const updated = await this.prisma.ingestRow.updateMany({
      where: { jobId, row, status: 'PENDING' },
      data: {
        status: outcome.status,
        code: outcome.code ?? null,
        reason: outcome.reason ?? null,
        finishedAt: new Date(),
      },
    });
    if (updated.count === 0) return { recorded: false, finishedJob: null };
    const job = await this.prisma.ingestJob.update({
      where: { id: jobId },
      data:
        outcome.status === 'DONE'
          ? { done: { increment: 1 }, images: { increment: outcome.images ?? 0 } }
          : { failed: { increment: 1 }, images: { increment: outcome.images ?? 0 } },
    });
    // The counters move only here, under the job's lock: every row is worked when they add up
    // to the total (no scan of the rows left, which would cost O(rows) per row).
    const finished = job.done + job.failed >= job.total ? await this.finishIfComplete(jobId) : null;
    return { recorded: true, finishedJob: finished };
  }

  /** Lock the job's row until the transaction ends (inside db.transaction). */
  async lock(jobId: string): Promise<void> {
    await this.prisma
      .$queryRaw`SELECT id::text FROM ingest_jobs WHERE id = ${jobId}::uuid FOR UPDATE`;
  }

  /**
   * COMPLETED (or FAILED when rows were given and none could be imported) once no row is
   * PENDING; null when rows remain or the job had already ended. Inside db.transaction, after
   * locking the job (finishRow does).
   */
  async finishIfComplete(jobId: string): Promise<IngestJobRecord | null> {
    const pending = await this.prisma.ingestRow.count({ where: { jobId, status: 'PENDING' } });
    if (pending > 0) return null;
    const job = await this.prisma.ingestJob.findUnique({ where: { id: jobId } });
    if (!job || (job.status !== 'QUEUED' && job.status !== 'RUNNING')) return null;
    const status = job.total > 0 && job.done === 0 ? 'FAILED' : 'COMPLETED';
    const done = await this.prisma.ingestJob.update({
      where: { id: jobId },
      data: { status, finishedAt: new Date(), startedAt: job.startedAt ?? new Date() },
    });
    return toJob(done);
  }

  /** Stop a job: its pending rows are CANCELLED. Null when it is not this merchant's. */
  async cancel(merchantId: string, id: string): Promise<IngestJobRecord | null> {
    if (!isUuid(id)) return null;
    const job = await this.prisma.ingestJob.findFirst({ where: { id, merchantId } });
    if (!job) return null;
    if (job.status !== 'QUEUED' && job.status !== 'RUNNING') return toJob(job);
    await this.prisma.ingestRow.updateMany({
      where: { jobId: id, status: 'PENDING' },
      data: { status: 'CANCELLED', finishedAt: new Date() },
    });
    const updated = await this.prisma.ingestJob.update({
      where: { id },
      data: { status: 'CANCELLED', finishedAt: new Date() },
    });
    return toJob(updated);
  }
}
