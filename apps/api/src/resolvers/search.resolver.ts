import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { Arg, Args, Authorized, Ctx, Query, Resolver } from 'type-graphql';
import type { Context } from '../context.js';
import type { Services } from '../services/index.js';
import { ApiScope } from '../types/enums.js';
import { ImageMatch, SimilarProductsResult } from '../types/search.type.js';
import { MatchImagesArgs, SimilarProductsArgs } from './args.js';

@Resolver()
export class SearchResolver {
  constructor(private readonly services: Services) {}

  @Authorized(ApiScope.SEARCH)
  @Query(() => SimilarProductsResult, {
    description: 'Products that look like this photo, nearest first, one hit per product.',
    complexity: ({ args, childComplexity }) =>
      20 + Math.min(Number(args.first) || 10, 100) * childComplexity,
  })
  similarProducts(
    @Arg('image', () => GraphQLUpload) image: Promise<FileUpload>,
    @Args(() => SimilarProductsArgs) args: SimilarProductsArgs,
    @Ctx() ctx: Context,
  ): Promise<SimilarProductsResult> {
    return this.services.search.similarProducts(ctx.principal.merchantId, image, args, ctx.baseUrl);
  }

  @Authorized(ApiScope.SEARCH)
  @Query(() => ImageMatch, { description: 'Do two images show the same product?', complexity: 20 })
  matchImages(
    @Arg('a', () => GraphQLUpload) a: Promise<FileUpload>,
    @Arg('b', () => GraphQLUpload) b: Promise<FileUpload>,
    @Args(() => MatchImagesArgs) args: MatchImagesArgs,
    @Ctx() ctx: Context,
  ): Promise<ImageMatch> {
    return this.services.search.matchImages(ctx.principal.merchantId, a, b, args);
  }
}
