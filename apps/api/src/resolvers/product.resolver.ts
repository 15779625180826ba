import GraphQLUpload from 'graphql-upload/GraphQLUpload.mjs';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import {
  Arg,
  Args,
  Authorized,
  Ctx,
  FieldResolver,
  ID,
  Mutation,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import type { Context } from '../context.js';
import { CreateProductInput, UpdateProductInput } from '../inputs/product.input.js';
import { toProductImage } from '../services/catalog.service.js';
import type { Services } from '../services/index.js';
import { ApiScope } from '../types/enums.js';
import { CategoryCount, Product, ProductConnection, ProductImage } from '../types/product.type.js';
import { ProductsArgs } from './args.js';

@Resolver(() => Product)
export class ProductResolver {
  constructor(private readonly services: Services) {}

  @Authorized(ApiScope.SEARCH)
  @Query(() => ProductConnection, {
    description: 'The catalog, newest first (Relay connection).',
    complexity: ({ args, childComplexity }) =>
      1 + Math.min(Number(args.first) || 20, 100) * childComplexity,
  })
  products(
    @Args(() => ProductsArgs) args: ProductsArgs,
    @Ctx() ctx: Context,
  ): Promise<ProductConnection> {
    return this.services.catalog.list(ctx.principal.merchantId, args);
  }

  @Authorized(ApiScope.SEARCH)
  @Query(() => Product, { nullable: true })
  product(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Product | null> {
    return this.services.catalog.get(ctx.principal.merchantId, id);
  }

  @Authorized(ApiScope.SEARCH)
  @Query(() => Product, { nullable: true })
  productByExternalId(
    @Arg('externalId', () => String) externalId: string,
    @Ctx() ctx: Context,
  ): Promise<Product | null> {
    return this.services.catalog.getByExternalId(ctx.principal.merchantId, externalId);
  }

  @Authorized(ApiScope.SEARCH)
  @Query(() => [CategoryCount], {
    description: 'Categories in use, most products first (for filters).',
  })
  categories(@Ctx() ctx: Context): Promise<CategoryCount[]> {
    return this.services.catalog.categories(ctx.principal.merchantId);
  }

  @FieldResolver(() => [ProductImage], {
    complexity: ({ childComplexity }) => 5 * childComplexity,
  })
  async images(@Root() product: Product, @Ctx() ctx: Context): Promise<ProductImage[]> {
    const images = await ctx.imagesByProduct.load(product.id);
    return images.map((i) => toProductImage(i, ctx.baseUrl));
  }

  @Authorized(ApiScope.CATALOG_WRITE)
  @Mutation(() => Product)
  createProduct(
    @Arg('input', () => CreateProductInput) input: CreateProductInput,
    @Ctx() ctx: Context,
  ): Promise<Product> {
    return this.services.catalog.create(ctx.principal.merchantId, input);
  }

  @Authorized(ApiScope.CATALOG_WRITE)
  @Mutation(() => Product)
  updateProduct(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateProductInput) input: UpdateProductInput,
    @Ctx() ctx: Context,
  ): Promise<Product> {
    return this.services.catalog.update(ctx.principal.merchantId, id, input);
  }

  @Authorized(ApiScope.CATALOG_WRITE)
  @Mutation(() => Product, { description: 'Create, or replace the product with this externalId.' })
  upsertProduct(
    @Arg('input', () => CreateProductInput) input: CreateProductInput,
    @Ctx() ctx: Context,
  ): Promise<Product> {
    return this.services.catalog.upsert(ctx.principal.merchantId, input);
  }

  @Authorized(ApiScope.CATALOG_WRITE)
  @Mutation(() => Boolean, {
    description: 'Deletes the product with its images. False when it did not exist.',
  })
  deleteProduct(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<boolean> {
    return this.services.catalog.delete(ctx.principal.merchantId, id);
  }

  @Authorized(ApiScope.CATALOG_WRITE)
  @Mutation(() => ProductImage, {
    description:
      'Stored, embedded and searchable when it returns. The same bytes twice are stored once.',
    complexity: 20,
  })
  async addProductImage(
    @Arg('productId', () => ID) productId: string,
    @Arg('image', () => GraphQLUpload) image: Promise<FileUpload>,
    @Ctx() ctx: Context,
  ): Promise<ProductImage> {
    const record = await this.services.catalog.addImage(ctx.principal.merchantId, productId, image);
    return toProductImage(record, ctx.baseUrl);
  }

  @Authorized(ApiScope.CATALOG_WRITE)
  @Mutation(() => Boolean)
  removeProductImage(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<boolean> {
    return this.services.catalog.removeImage(ctx.principal.merchantId, id);
  }
}
