import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  newId,
  type Db,
  type IngestJobRecord,
  type IngestRowRecord,
  type JobQueue,
  type NewIngestRow,
} from '@lookalike/db';
import { badInput, CoreError, CoreErrorCode, notFound } from '../errors.js';
import type { WebhookEventType } from '../webhooks/signing.js';
import { resolveImportLimits, type ImportLimits } from './limits.js';
import { ImportFileError } from './parse-errors.js';
import { externalIdOrNull, isRowError, validateItem, type ImportItem } from './parse-item.js';
import { parseCatalog, type ImportFormat } from './parse.js';

/** Items per importProducts call: a JSON body of this many products stays a few MB. */
export const MAX_ITEMS_PER_CALL = 1000;

/** The queue that carries one import row per job to the workers. */
export const INGEST_QUEUE = 'ingest-row';

export interface IngestRowJob {
  jobId: string;
  row: number;
}

/** An image source as stored with the row: a URL, or a file staged from the uploaded ZIP. */
export type StoredImageSource = { url: string } | { file: string; sha256: string };

/** The row's item as stored (`ingest_rows.item`): the product and where its images are. */
export interface StoredItem extends Omit<ImportItem, 'images'> {
  images: StoredImageSource[];
  /** The folder under `<dataDir>/imports` holding this import's staged ZIP files. */
  staging?: string;
}

export interface ImportAdmission {
  admit?: (rows: number) => Promise<void>;
}

export interface IngestJobPage {
  items: IngestJobRecord[];
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface RowErrorPage {
  items: IngestRowRecord[];
  hasNextPage: boolean;
  endCursor: string | null;
}

/** The outbox: the event an import's end writes (in the transaction that ends it). */
export function importEvent(job: IngestJobRecord): { type: WebhookEventType; payload: object } {
  return {
    type: job.status === 'FAILED' ? 'import.failed' : 'import.completed',
    payload: {
      jobId: job.id,
      status: job.status,
      total: job.total,
      done: job.done,
      failed: job.failed,
      images: job.images,
      createdAt: job.createdAt.toISOString(),
      finishedAt: job.finishedAt?.toISOString() ?? null,
    },
  };
}

function encodeJobCursor(id: string): string {
  return Buffer.from(`ingest:${id}`).toString('base64url');
}

function decodeJobCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const id = text.startsWith('ingest:') ? text.slice('ingest:'.length) : '';
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw badInput('after is not a cursor of ingestJobs', 'after');
  return id;
}

function fileError(error: ImportFileError): CoreError {
  // Too much of something is PAYLOAD_TOO_LARGE (a zip bomb is too much expanded data).
  const code = ['TOO_LARGE', 'TOO_MANY_ROWS', 'ZIP_BOMB', 'ZIP_TOO_MANY_ENTRIES'].includes(
    error.code,
  )
    ? CoreErrorCode.PAYLOAD_TOO_LARGE
    : CoreErrorCode.BAD_USER_INPUT;
  return new CoreError(code, error.message, { field: 'file', reason: error.code });
}

/**
 * Bulk imports. A call parses and validates the whole file at once (file-level problems are
 * refused with a clear error before anything is stored), records the job and every row, and
 * queues one queue job per valid row; it answers with the job while workers do the rest. A bad
 * row never stops the others: it is recorded with its error. Rows are upserted by externalId
 * and images found again by their source, so importing the same file again changes nothing.
 */
export class ImportService {
  private readonly limits: ImportLimits;

  constructor(
    private readonly db: Db,
    private readonly queue: () => Promise<JobQueue>,
    private readonly dataDir: string,
    limits: Partial<ImportLimits> = {},
  ) {
    this.limits = resolveImportLimits(limits);
  }

  get importLimits(): Readonly<ImportLimits> {
    return this.limits;
  }

  /**
   * `admit` is asked with the row count once the file is parsed, before anything is stored (a
   * door's rate limit throws there).
   */
  async importFile(
    merchantId: string,
    bytes: Buffer,
    format: ImportFormat,
    { admit }: ImportAdmission = {},
  ): Promise<IngestJobRecord> {
    if (!['CSV', 'JSONL', 'ZIP'].includes(format)) {
      throw badInput('format must be CSV, JSONL or ZIP', 'format');
    }
    // A ZIP's image files wait for the workers under <dataDir>/imports/<job id>.
    const jobId = newId();
    const staging = format === 'ZIP' ? jobId : undefined;
    const stagingDir = staging ? this.stagingDir(staging) : undefined;
    const staged = new Map<string, string>();
    let rows;
    try {
      ({ rows } = await parseCatalog(bytes, format, {
        limits: this.limits,
        putFile: async (file, content) => {
          const sha256 = createHash('sha256').update(content).digest('hex');
          await mkdir(stagingDir as string, { recursive: true });
          await writeFile(path.join(stagingDir as string, sha256), content);
          staged.set(file, sha256);
        },
      }));
    } catch (error) {
      if (stagingDir) await rm(stagingDir, { recursive: true, force: true });
      if (error instanceof ImportFileError) throw fileError(error);
      throw error;
    }
    try {
      await admit?.(rows.length);
    } catch (error) {
      if (stagingDir) await rm(stagingDir, { recursive: true, force: true });
      throw error;
    }
    const stored: NewIngestRow[] = rows.map((r) => ({
      row: r.row,
      externalId: r.externalId,
      error: r.error,
      item: r.item ? this.toStored(r.item, staged, staging) : null,
    }));
    return this.enqueue(merchantId, format, stored, stagingDir, jobId);
  }

  /** Where a ZIP import's files wait for the workers (removed when the job ends). */
  stagingDir(jobId: string): string {
    return path.join(this.dataDir, 'imports', jobId);
  }

  /** The JSON door: items as objects with the same keys as a catalog row (`imageUrls` an array). */
  async importItems(merchantId: string, items: readonly unknown[]): Promise<IngestJobRecord> {
    if (items.length === 0) throw badInput('items needs at least one item', 'items');
    if (items.length > MAX_ITEMS_PER_CALL) {
      throw new CoreError(
        CoreErrorCode.PAYLOAD_TOO_LARGE,
        `importProducts takes at most ${MAX_ITEMS_PER_CALL} items per call (use importCatalog for files)`,
        { field: 'items', limit: MAX_ITEMS_PER_CALL },
      );
    }
    const seen = new Map<string, number>();
    const rows: NewIngestRow[] = items.map((raw, i) => {
      const row = i + 1;
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        return {
          row,
          externalId: null,
          item: null,
          error: { code: 'INVALID_ROW', reason: 'an item must be an object' },
        };
      }
      const record = raw as Record<string, unknown>;
      const externalId = externalIdOrNull(record.externalId);
      const result = validateItem(record, { maxImagesPerProduct: this.limits.maxImagesPerProduct });
      if (isRowError(result)) return { row, externalId, item: null, error: result };
      const first = seen.get(result.externalId);
      if (first !== undefined) {
        return {
          row,
          externalId,
          item: null,
          error: {
            code: 'DUPLICATE_EXTERNAL_ID',
            reason: `externalId "${result.externalId}" is also item ${first}`,
          },
        };
      }
      seen.set(result.externalId, row);
      return { row, externalId, item: this.toStored(result, new Map(), undefined), error: null };
    });
    return this.enqueue(merchantId, 'JSON', rows, undefined);
  }

  private toStored(item: ImportItem, staged: Map<string, string>, staging?: string): StoredItem {
    return {
      ...item,
      images: item.images.map((s) =>
        'url' in s ? { url: s.url } : { file: s.file, sha256: staged.get(s.file) as string },
      ),
      ...(staging && item.images.some((s) => 'file' in s) ? { staging } : {}),
    };
  }

  private async enqueue(
    merchantId: string,
    format: string,
    rows: NewIngestRow[],
    stagingDir: string | undefined,
    jobId: string = newId(),
  ): Promise<IngestJobRecord> {
    let job: IngestJobRecord;
    try {
      job = await this.db.transaction((tx) => tx.ingest.create(merchantId, format, rows, jobId), {
        timeoutMs: 60_000,
      });
    } catch (error) {
      if (stagingDir) await rm(stagingDir, { recursive: true, force: true });
      throw error;
    }
    const pending = rows.filter((r) => !r.error);
    if (pending.length === 0) {
      // Nothing for a worker to do: the job ends now (every row was refused, or none given).
      const finished = await this.db.transaction(async (tx) => {
        await tx.ingest.lock(job.id);
        const done = await tx.ingest.finishIfComplete(job.id);
        if (done) {
          const event = importEvent(done);
          await tx.webhooks.emit(merchantId, event.type, event.payload);
        }
        return done;
      });
      if (stagingDir) await rm(stagingDir, { recursive: true, force: true });
      return finished ?? job;
    }
    // Queued after the rows commit: a worker never sees a row that is not there. Should this
    // process die in between, the rows are still PENDING and `resume` queues them again.
    const queue = await this.queue();
    await queue.send(
      INGEST_QUEUE,
      pending.map((r) => ({ data: { jobId: job.id, row: r.row }, key: `${job.id}:${r.row}` })),
    );
    return job;
  }

  /** Queue again the pending rows of unfinished imports (a worker starting up). */
  async resume(): Promise<number> {
    let queued = 0;
    const queue = await this.queue();
    for (const job of await this.db.ingest.unfinished()) {
      const rows = await this.db.ingest.pendingRows(job.id);
      await queue.send(
        INGEST_QUEUE,
        rows.map((row) => ({ data: { jobId: job.id, row }, key: `${job.id}:${row}` })),
      );
      queued += rows.length;
    }
    return queued;
  }

  async get(merchantId: string, id: string): Promise<IngestJobRecord> {
    const job = await this.db.ingest.get(merchantId, id);
    if (!job) throw notFound(`ingest job ${id}`);
    return job;
  }

  async list(
    merchantId: string,
    { first = 20, after }: { first?: number | null; after?: string | null },
  ): Promise<IngestJobPage> {
    const n = first ?? 20;
    if (!Number.isInteger(n) || n < 1 || n > 100)
      throw badInput('first must be an integer in [1, 100]', 'first');
    const page = await this.db.ingest.list(merchantId, {
      first: n,
      ...(after ? { after: decodeJobCursor(after) } : {}),
    });
    const last = page.items[page.items.length - 1];
    return { ...page, endCursor: last ? encodeJobCursor(last.id) : null };
  }

  /** A job's failed rows in row order; `after` is the cursor of the last error of a page. */
  async errors(
    merchantId: string,
    jobId: string,
    { first = 50, after }: { first?: number | null; after?: string | null },
  ): Promise<RowErrorPage> {
    const n = first ?? 50;
    if (!Number.isInteger(n) || n < 1 || n > 1000)
      throw badInput('first must be an integer in [1, 1000]', 'first');
    let afterRow = 0;
    if (after) {
      const m = /^row:(\d+)$/.exec(Buffer.from(after, 'base64url').toString('utf8'));
      if (!m) throw badInput('after is not a cursor of errors', 'after');
      afterRow = Number(m[1]);
    }
    const page = await this.db.ingest.errors(merchantId, jobId, { first: n, after: afterRow });
    const last = page.items[page.items.length - 1];
    return {
      ...page,
      endCursor: last ? Buffer.from(`row:${last.row}`).toString('base64url') : null,
    };
  }

  /** Stop an import: rows not yet done are CANCELLED (rows done stay). */
  async cancel(merchantId: string, id: string): Promise<IngestJobRecord> {
    const job = await this.db.ingest.cancel(merchantId, id);
    if (!job) throw notFound(`ingest job ${id}`);
    await rm(this.stagingDir(job.id), { recursive: true, force: true });
    return job;
  }
}
