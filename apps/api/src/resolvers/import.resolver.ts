import { CoreError, CoreErrorCode, type ImportService } from '@lookalike/core';
import type { IngestJobRecord } from '@lookalike/db';
import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import {
  Arg,
  Authorized,
  Ctx,
  FieldResolver,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import type { Context } from '../context.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { UploadReader } from '../http/uploads.js';
import { ImportItemInput } from '../inputs/import.input.js';
import { ApiScope, ImportFormat, IngestJobStatus } from '../types/enums.js';
import { IngestJob, IngestJobConnection, IngestRowErrorConnection } from '../types/import.type.js';

function toJob(job: IngestJobRecord): IngestJob {
  return {
    id: job.id,
    format: job.format,
    status: IngestJobStatus[job.status],
    total: job.total,
    done: job.done,
    failed: job.failed,
    images: job.images,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
  };
}

@Resolver(() => IngestJob)
export class ImportResolver {
  constructor(
    private readonly imports: ImportService,
    private readonly read: UploadReader,
    private readonly limiter: RateLimiter,
  ) {}

  /** Imports draw on the merchant's own rows-a-minute budget, apart from its requests. */
  private async charge(merchantId: string, rows: number): Promise<void> {
    const wait = await this.limiter.take(merchantId, Math.max(1, rows));
    if (wait > 0) {
      throw new CoreError(
        CoreErrorCode.RATE_LIMITED,
        `Import budget of ${this.limiter.perMinute} rows per minute exceeded; retry in ${wait} s`,
        { retryAfter: wait },
      );
    }
  }

  @Authorized(ApiScope.CATALOG_WRITE)
  @Mutation(() => IngestJob, {
    description:
      'Import a catalog file (CSV, JSONL, or a ZIP with catalog.csv / catalog.jsonl and image files). The file is checked and its rows recorded at once; workers fetch, embed and store them. Answers the job (poll ingestJob, or subscribe to import.completed). Importing the same rows again changes nothing.',
    complexity: 50,
  })
  async importCatalog(
    @Arg('file', () => GraphQLUpload) file: Promise<FileUpload>,
    @Arg('format', () => ImportFormat) format: ImportFormat,
    @Ctx() ctx: Context,
  ): Promise<IngestJob> {
    const bytes = await this.read(file, 'file');
    const merchantId = ctx.principal.merchantId;
    return toJob(
      await this.imports.importFile(merchantId, bytes, format, {
        admit: (rows) => this.charge(merchantId, rows),
      }),
    );
  }

  @Authorized(ApiScope.CATALOG_WRITE)
  @Mutation(() => IngestJob, {
    description: `Import products given as JSON (at most 1000 per call; image URLs are fetched by the workers). Answers the job at once.`,
    complexity: 50,
  })
  async importProducts(
    @Arg('items', () => [ImportItemInput]) items: ImportItemInput[],
    @Ctx() ctx: Context,
  ): Promise<IngestJob> {
    await this.charge(ctx.principal.merchantId, items.length);
    return toJob(await this.imports.importItems(ctx.principal.merchantId, items));
  }

  @Authorized(ApiScope.SEARCH)
  @Query(() => IngestJob, { description: 'An import of this merchant, with its progress.' })
  async ingestJob(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<IngestJob> {
    return toJob(await this.imports.get(ctx.principal.merchantId, id));
  }

  @Authorized(ApiScope.SEARCH)
  @Query(() => IngestJobConnection, { description: "The merchant's imports, newest first." })
  async ingestJobs(
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: Context,
  ): Promise<IngestJobConnection> {
    const page = await this.imports.list(ctx.principal.merchantId, { first, after });
    return {
      nodes: page.items.map(toJob),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
    };
  }

  @FieldResolver(() => IngestRowErrorConnection, {
    description: 'The rows that failed, in row order, with their codes and reasons.',
    complexity: ({ args, childComplexity }) =>
      1 + Math.min(Number(args.first) || 50, 1000) * childComplexity,
  })
  async errors(
    @Root() job: IngestJob,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: Context,
  ): Promise<IngestRowErrorConnection> {
    const page = await this.imports.errors(ctx.principal.merchantId, job.id, { first, after });
    return {
      nodes: page.items.map((r) => ({
        row: r.row,
        externalId: r.externalId,
        code: r.code ?? 'INTERNAL',
        reason: r.reason ?? '',
      })),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
    };
  }

  @Authorized(ApiScope.CATALOG_WRITE)
  @Mutation(() => IngestJob, {
    description: 'Stop an import: rows not yet worked are CANCELLED; rows done stay.',
  })
  async cancelIngestJob(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<IngestJob> {
    return toJob(await this.imports.cancel(ctx.principal.merchantId, id));
  }
}
