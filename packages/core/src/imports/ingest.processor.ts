import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { BatchFailures, Db, IngestJobRecord, QueueJob, Repositories } from '@lookalike/db';
import type { CatalogService } from '../catalog/catalog.service.js';
import { CoreError } from '../errors.js';
import { FetchError, type FetchErrorCode } from '../fetch/safe-fetch.js';
import {
  importEvent,
  type IngestRowJob,
  type StoredImageSource,
  type StoredItem,
} from './import.service.js';

/** What fetches an image URL: the SSRF-safe client's `fetchImage`. */
export type FetchImage = (url: string) => Promise<{ bytes: Buffer }>;

/** A row's problem with one of its images, as the row's error reports it. */
interface ImageProblem {
  code: string;
  reason: string;
  source: string;
}

const FETCH_CODES: Record<FetchErrorCode, string> = {
  INVALID_URL: 'URL_INVALID',
  SCHEME_REFUSED: 'URL_REFUSED',
  ADDRESS_REFUSED: 'URL_REFUSED',
  TOO_MANY_REDIRECTS: 'FETCH_FAILED',
  TOO_LARGE: 'IMAGE_TOO_LARGE',
  TIMEOUT: 'FETCH_FAILED',
  HTTP_ERROR: 'FETCH_FAILED',
  NOT_AN_IMAGE: 'NOT_AN_IMAGE',
  UNREACHABLE: 'FETCH_FAILED',
};

/** The CoreErrors of adding an image that are the image's fault, not the system's. */
const IMAGE_FAULTS: Record<string, string> = {
  UNSUPPORTED_MEDIA_TYPE: 'NOT_AN_IMAGE',
  BAD_USER_INPUT: 'CORRUPT_IMAGE',
  PAYLOAD_TOO_LARGE: 'IMAGE_TOO_LARGE',
};

function sourceKey(s: StoredImageSource): string {
  return 'url' in s ? s.url : `zip:${s.file}`;
}

/**
 * Works import rows off the queue: upsert the product by externalId, fetch and store each image
 * it does not have yet (found by its source, so a repeat is free), and record the row's outcome
 * in the transaction that also ends the job when it was the last row and writes the webhook
 * events. Every effect is keyed (product by externalId, image by product and bytes or source,
 * row outcome once from PENDING), so a row worked twice — a retry, a worker that died after its
 * commit — leaves exactly one product, its images and one count.
 */
export class IngestProcessor {
  constructor(
    private readonly db: Db,
    private readonly catalog: CatalogService,
    private readonly fetchImage: FetchImage,
    /** `<dataDir>/imports/<job id>`: where a ZIP import's files wait. */
    private readonly stagingDir: (jobId: string) => string,
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  /** A batch of queue jobs; returns the ones to retry (an outage, not the row's fault). */
  async handle(jobs: QueueJob<IngestRowJob>[]): Promise<BatchFailures> {
    const failures: BatchFailures = new Map();
    await Promise.all(
      jobs.map(async (job) => {
        try {
          await this.processRow(job.data);
        } catch (error) {
          const err = error instanceof Error ? error : new Error(String(error));
          if (job.retryCount >= job.retryLimit) {
            // Out of retries: the row is recorded failed so its import can end.
            this.log(
              `[ingest] row ${job.data.row} of ${job.data.jobId} failed for good: ${err.message}`,
            );
            await this.finish(
              job.data,
              {
                status: 'FAILED',
                code: 'INTERNAL',
                reason: 'the row could not be processed; try importing it again',
              },
              [],
            );
          } else failures.set(job.id, err);
        }
      }),
    );
    return failures;
  }

  async processRow({ jobId, row }: IngestRowJob): Promise<void> {
    const found = await this.db.ingest.startRow(jobId, row);
    if (!found) return; // done by an earlier attempt, or cancelled
    const item = found.item as StoredItem;
    const merchantId = found.merchantId;
    let product;
    try {
      product = await this.catalog.upsert(merchantId, {
        externalId: item.externalId,
        title: item.title,
        description: item.description,
        category: item.category,
        labels: item.labels,
        price: item.price,
        currency: item.currency,
        url: item.url,
      });
    } catch (error) {
      if (error instanceof CoreError && error.code === 'BAD_USER_INPUT') {
        await this.finish(
          { jobId, row },
          { status: 'FAILED', code: 'INVALID_ROW', reason: error.message },
          [],
        );
        return;
      }
      throw error;
    }
    const problems: ImageProblem[] = [];
    // The row's images in place when it ends (stored now, or by an earlier attempt or import).
    let present = 0;
    for (const [i, s] of item.images.entries()) {
      const source = sourceKey(s);
      if (await this.db.images.findBySource(merchantId, product.id, source)) {
        present++;
        continue;
      }
      let bytes: Buffer;
      try {
        bytes =
          'url' in s
            ? (await this.fetchImage(s.url)).bytes
            : await readFile(path.join(this.stagingDir(jobId), s.sha256));
      } catch (error) {
        if (error instanceof FetchError) {
          problems.push({
            code: FETCH_CODES[error.code],
            reason: `imageUrls[${i}]: ${error.reason}`,
            source,
          });
          continue;
        }
        throw error;
      }
      try {
        await this.catalog.addImage(merchantId, { productId: product.id }, bytes, {
          source,
          inTransaction: async (tx, result) => {
            if (!result.createdImage) return;
            await tx.webhooks.emit(merchantId, 'image.indexed', {
              jobId,
              row,
              imageId: result.image.id,
              productId: result.product.id,
              externalId: result.product.externalId,
              sha256: result.image.sha256,
              source,
            });
          },
        });
        present++;
      } catch (error) {
        const code = error instanceof CoreError ? IMAGE_FAULTS[error.code] : undefined;
        if (!code) throw error;
        problems.push({ code, reason: `imageUrls[${i}]: ${(error as Error).message}`, source });
      }
    }
    const first = problems[0];
    await this.finish(
      { jobId, row },
      first
        ? {
            status: 'FAILED',
            code: first.code,
            reason:
              problems.length > 1
                ? `${first.reason} (and ${problems.length - 1} more)`
                : first.reason,
            images: present,
          }
        : { status: 'DONE', images: present },
      problems.map((p) => ({
        ...p,
        merchantId,
        productId: product.id,
        externalId: product.externalId,
      })),
    );
  }

  /** Record the outcome; the last row ends the job and writes its event, in one transaction. */
  private async finish(
    { jobId, row }: IngestRowJob,
    outcome: { status: 'DONE' | 'FAILED'; code?: string; reason?: string; images?: number },
    imageFailures: (ImageProblem & { merchantId: string; productId: string; externalId: string })[],
  ): Promise<void> {
    const finished = await this.db.transaction(async (tx: Repositories) => {
      const result = await tx.ingest.finishRow(jobId, row, outcome);
      if (!result.recorded) return null;
      for (const p of imageFailures) {
        await tx.webhooks.emit(p.merchantId, 'image.failed', {
          jobId,
          row,
          productId: p.productId,
          externalId: p.externalId,
          source: p.source,
          code: p.code,
          reason: p.reason,
        });
      }
      if (result.finishedJob) {
        const event = importEvent(result.finishedJob);
        await tx.webhooks.emit(result.finishedJob.merchantId, event.type, event.payload);
      }
      return result.finishedJob;
    });
    if (finished) await this.ended(finished);
  }

  private async ended(job: IngestJobRecord): Promise<void> {
    await rm(this.stagingDir(job.id), { recursive: true, force: true });
    this.log(
      `[ingest] import ${job.id} ${job.status.toLowerCase()}: ${job.done} done, ${job.failed} failed of ${job.total}, ${job.images} images`,
    );
  }
}
