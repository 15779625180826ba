import type { SearchService } from '@lookalike/core';
import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Authorized, Ctx, Info, Query, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import { selectsField } from '../graphql/selection.js';
import type { UploadReader } from '../http/uploads.js';
import { ApiScope, MatchVerdict, metricOf, toSimilarityMetric } from '../types/enums.js';
import { Detection, ImageMatch, SimilarProductsResult } from '../types/search.type.js';
import { MatchImagesArgs, SimilarProductsArgs } from './args.js';
import { toDetection, toSimilarProducts } from './mappers.js';

@Resolver()
export class SearchResolver {
  constructor(
    private readonly search: SearchService,
    private readonly read: UploadReader,
  ) {}

  /** One read of an upload per request, whichever field asks first. */
  private readOnce(ctx: Context, upload: Promise<FileUpload>, field: string): Promise<Buffer> {
    let bytes = ctx.uploads.get(upload);
    if (!bytes) {
      bytes = this.read(upload, field);
      ctx.uploads.set(upload, bytes);
    }
    return bytes;
  }

  @Authorized(ApiScope.SEARCH)
  @Query(() => SimilarProductsResult, {
    description:
      'Products that look like this photo (or like stored products: productIds, imageId), nearest first, one hit per product.',
    complexity: ({ args, childComplexity }) =>
      20 + Math.min(Number(args.first) || 10, 100) * childComplexity,
  })
  async similarProducts(
    @Arg('image', () => GraphQLUpload, { nullable: true }) image: Promise<FileUpload> | null,
    @Args(() => SimilarProductsArgs) args: SimilarProductsArgs,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<SimilarProductsResult> {
    const result = await this.search.similarProducts(
      ctx.principal.merchantId,
      {
        image: image ? await this.readOnce(ctx, image, 'image') : null,
        imageUrl: args.imageUrl ?? null,
        region: args.region ?? null,
        detect: args.detect ?? true,
        productIds: args.productIds ?? null,
        imageId: args.imageId ?? null,
      },
      {
        first: args.first ?? null,
        metric: args.metric ? metricOf[args.metric] : null,
        threshold: args.threshold ?? null,
        filter: args.filter ?? null,
      },
      // Every detected product is searched only when the query asks for them.
      { memo: ctx.embeddings, detections: ctx.detections, objects: selectsField(info, 'objects') },
    );
    return toSimilarProducts(result, ctx.baseUrl);
  }

  @Authorized(ApiScope.SEARCH)
  @Query(() => Detection, {
    description:
      'The products in this photo: their boxes, scores and categories, highest score first (no search).',
    complexity: ({ childComplexity }) => 20 + childComplexity,
  })
  async detectProducts(
    @Arg('image', () => GraphQLUpload) image: Promise<FileUpload>,
    @Ctx() ctx: Context,
  ): Promise<Detection> {
    const detection = await this.search.detectProducts(
      ctx.principal.merchantId,
      await this.readOnce(ctx, image, 'image'),
      { detections: ctx.detections },
    );
    return toDetection(detection);
  }

  @Authorized(ApiScope.SEARCH)
  @Query(() => ImageMatch, { description: 'Do two images show the same product?', complexity: 20 })
  async matchImages(
    @Arg('a', () => GraphQLUpload) a: Promise<FileUpload>,
    @Arg('b', () => GraphQLUpload) b: Promise<FileUpload>,
    @Args(() => MatchImagesArgs) args: MatchImagesArgs,
    @Ctx() ctx: Context,
  ): Promise<ImageMatch> {
    const m = await this.search.matchImages(
      ctx.principal.merchantId,
      await this.readOnce(ctx, a, 'a'),
      await this.readOnce(ctx, b, 'b'),
      {
        metric: args.metric ? metricOf[args.metric] : null,
        threshold: args.threshold ?? null,
        detect: args.detect ?? true,
      },
      { memo: ctx.embeddings, detections: ctx.detections },
    );
    return {
      ...m,
      metric: toSimilarityMetric(m.metric),
      verdict: m.verdict ? MatchVerdict[m.verdict] : null,
    };
  }
}
