import type { DbClient } from '../client.js';
import type { EvaluationJob as JobRow, Prisma } from '../generated/prisma/client.js';
import { newId } from './ids.js';
import { assertInt, isUuid } from './validate.js';

export type EvaluationJobStatus = 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED';

export interface EvaluationJobRecord {
  id: string;
  merchantId: string;
  status: EvaluationJobStatus;
  /** What was asked, as the service validated it. */
  args: unknown;
  done: number;
  total: number;
  /** One evaluation per metric asked, once COMPLETED. */
  result: unknown;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

function toJob(row: JobRow): EvaluationJobRecord {
  return { ...row, status: row.status };
}

/**
 * Catalog evaluations as jobs. `create` is the only way in and refuses a second unfinished job
 * of the same merchant; run it under db.withLock for the merchant so two requests at once cannot
 * both pass the check.
 */
export class EvaluationRepository {
  constructor(private readonly prisma: DbClient) {}

  /** A QUEUED job, or null when the merchant already has one queued or running. */
  async create(
    merchantId: string,
    args: object,
    total: number,
  ): Promise<{ job: EvaluationJobRecord; unfinished: null } | { job: null; unfinished: string }> {
    assertInt(total, 'total', 0, 1_000_000);
    const open = await this.prisma.evaluationJob.findFirst({
      where: { merchantId, status: { in: ['QUEUED', 'RUNNING'] } },
      select: { id: true },
    });
    if (open) return { job: null, unfinished: open.id };
    const row = await this.prisma.evaluationJob.create({
      data: { id: newId(), merchantId, args: args, total },
    });
    return { job: toJob(row), unfinished: null };
  }

  async get(merchantId: string, id: string): Promise<EvaluationJobRecord | null> {
    if (!isUuid(id)) return null;
    const row = await this.prisma.evaluationJob.findFirst({ where: { id, merchantId } });
    return row ? toJob(row) : null;
  }

  /** Newest first; `after` is the id of the last job of the previous page (ids are UUIDv7). */
  async list(
    merchantId: string,
    { first, after }: { first: number; after?: string },
  ): Promise<{ items: EvaluationJobRecord[]; hasNextPage: boolean }> {
    assertInt(first, 'first', 1, 100);
    const rows = await this.prisma.evaluationJob.findMany({
      where: { merchantId, ...(after && isUuid(after) ? { id: { lt: after } } : {}) },
      orderBy: { id: 'desc' },
      take: first + 1,
    });
    return { items: rows.slice(0, first).map(toJob), hasNextPage: rows.length > first };
  }

  /**
   * Take a QUEUED job to run (any merchant: the worker's side). A RUNNING one is taken again
   * too: its worker died (the queue hands the job out again only after its attempt expired).
   */
  async start(id: string): Promise<EvaluationJobRecord | null> {
    if (!isUuid(id)) return null;
    const updated = await this.prisma.evaluationJob.updateMany({
      where: { id, status: { in: ['QUEUED', 'RUNNING'] } },
      data: { status: 'RUNNING', startedAt: new Date(), done: 0 },
    });
    if (updated.count === 0) return null;
    return toJob(await this.prisma.evaluationJob.findUniqueOrThrow({ where: { id } }));
  }

  async progress(id: string, done: number, total: number): Promise<void> {
    await this.prisma.evaluationJob.updateMany({
      where: { id, status: 'RUNNING' },
      data: { done, total },
    });
  }

  /** The results, and every one of the `queries` run (done = total). */
  async complete(id: string, result: unknown[], queries: number): Promise<void> {
    await this.prisma.evaluationJob.updateMany({
      where: { id, status: 'RUNNING' },
      data: {
        status: 'COMPLETED',
        result: result as Prisma.InputJsonArray,
        done: queries,
        total: queries,
        finishedAt: new Date(),
      },
    });
  }

  async fail(id: string, error: string): Promise<void> {
    await this.prisma.evaluationJob.updateMany({
      where: { id, status: { in: ['QUEUED', 'RUNNING'] } },
      data: { status: 'FAILED', error: error.slice(0, 2000), finishedAt: new Date() },
    });
  }
}
