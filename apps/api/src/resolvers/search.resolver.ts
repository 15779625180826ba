import type { SearchService } from '@lookalike/core';
import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { Arg, Args, Authorized, Ctx, Query, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import type { UploadReader } from '../http/uploads.js';
import { ApiScope, metricOf } from '../types/enums.js';
import { ImageMatch, SimilarProductsResult } from '../types/search.type.js';
import { MatchImagesArgs, SimilarProductsArgs } from './args.js';
import { toSimilarProducts } from './mappers.js';
import { toSimilarityMetric, MatchVerdict } from '../types/enums.js';

@Resolver()
export class SearchResolver {
  constructor(
    private readonly search: SearchService,
    private readonly read: UploadReader,
  ) {}

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
  ): Promise<SimilarProductsResult> {
    const result = await this.search.similarProducts(
      ctx.principal.merchantId,
      {
        image: image ? await this.read(image, 'image') : null,
        region: args.region ?? null,
        productIds: args.productIds ?? null,
        imageId: args.imageId ?? null,
      },
      {
        first: args.first ?? null,
        metric: args.metric ? metricOf[args.metric] : null,
        threshold: args.threshold ?? null,
        filter: args.filter ?? null,
      },
    );
    return toSimilarProducts(result, ctx.baseUrl);
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
      await this.read(a, 'a'),
      await this.read(b, 'b'),
      { metric: args.metric ? metricOf[args.metric] : null, threshold: args.threshold ?? null },
    );
    return {
      ...m,
      metric: toSimilarityMetric(m.metric),
      verdict: m.verdict ? MatchVerdict[m.verdict] : null,
    };
  }
}
