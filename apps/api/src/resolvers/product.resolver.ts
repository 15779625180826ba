import type { CatalogService, ProductPage } from '@lookalike/core';
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
import type { UploadReader } from '../http/uploads.js';
import { CreateProductInput, UpdateProductInput } from '../inputs/product.input.js';
import { ApiScope, ImageUploadMode, uploadModeOf } from '../types/enums.js';
import {
  CategoryCount,
  Product,
  ProductConnection,
  ProductImage,
  UploadedProductImage,
} from '../types/product.type.js';
import { ProductsArgs } from './args.js';
import { toProduct, toProductImage } from './mappers.js';

function toConnection(page: ProductPage): ProductConnection {
  return { ...page, edges: page.edges.map((e) => ({ cursor: e.cursor, node: toProduct(e.node) })) };
}

@Resolver(() => Product)
export class ProductResolver {
  constructor(
    private readonly catalog: CatalogService,
    private readonly read: UploadReader,
  ) {}

  @Authorized(ApiScope.SEARCH)
  @Query(() => ProductConnection, {
    description: 'The catalog, newest first (Relay connection).',
    complexity: ({ args, childComplexity }) =>
      1 + Math.min(Number(args.first) || 20, 100) * childComplexity,
  })
  async products(
    @Args(() => ProductsArgs) args: ProductsArgs,
    @Ctx() ctx: Context,
  ): Promise<ProductConnection> {
    return toConnection(await this.catalog.list(ctx.principal.merchantId, args));
  }

  @Authorized(ApiScope.SEARCH)
  @Query(() => Product, { nullable: true })
  async product(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<Product | null> {
    const p = await this.catalog.get(ctx.principal.merchantId, id);
    return p ? toProduct(p) : null;
  }

  @Authorized(ApiScope.SEARCH)
  @Query(() => Product, { nullable: true })
  async productByExternalId(
    @Arg('externalId', () => String) externalId: string,
    @Ctx() ctx: Context,
  ): Promise<Product | null> {
    const p = await this.catalog.getByExternalId(ctx.principal.merchantId, externalId);
    return p ? toProduct(p) : null;
  }

  @Authorized(ApiScope.SEARCH)
  @Query(() => [CategoryCount], {
    description: 'Categories in use, most products first (for filters).',
  })
  categories(@Ctx() ctx: Context): Promise<CategoryCount[]> {
    return this.catalog.categories(ctx.principal.merchantId);
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
  async createProduct(
    @Arg('input', () => CreateProductInput) input: CreateProductInput,
    @Ctx() ctx: Context,
  ): Promise<Product> {
    return toProduct(await this.catalog.create(ctx.principal.merchantId, input));
  }

  @Authorized(ApiScope.CATALOG_WRITE)
  @Mutation(() => Product)
  async updateProduct(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateProductInput) input: UpdateProductInput,
    @Ctx() ctx: Context,
  ): Promise<Product> {
    return toProduct(await this.catalog.update(ctx.principal.merchantId, id, input));
  }

  @Authorized(ApiScope.CATALOG_WRITE)
  @Mutation(() => Product, { description: 'Create, or replace the product with this externalId.' })
  async upsertProduct(
    @Arg('input', () => CreateProductInput) input: CreateProductInput,
    @Ctx() ctx: Context,
  ): Promise<Product> {
    return toProduct(await this.catalog.upsert(ctx.principal.merchantId, input));
  }

  @Authorized(ApiScope.CATALOG_WRITE)
  @Mutation(() => Boolean, {
    description: 'Deletes the product with its images. False when it did not exist.',
  })
  deleteProduct(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<boolean> {
    return this.catalog.delete(ctx.principal.merchantId, id);
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
    const added = await this.catalog.addImage(
      ctx.principal.merchantId,
      { productId },
      await this.read(image, 'image'),
    );
    return toProductImage(added.image, ctx.baseUrl);
  }

  @Authorized(ApiScope.CATALOG_WRITE)
  @Mutation(() => UploadedProductImage, {
    description:
      'An image for the product with this externalId, created first when the mode allows (title and category then apply). ' +
      'The product, the image and its vectors are written together, or nothing is: a refused file leaves the catalog as it was.',
    complexity: 20,
  })
  async uploadProductImage(
    @Arg('image', () => GraphQLUpload) image: Promise<FileUpload>,
    @Arg('externalId', () => String) externalId: string,
    @Arg('mode', () => ImageUploadMode, { defaultValue: ImageUploadMode.ENSURE })
    mode: ImageUploadMode,
    @Arg('title', () => String, { nullable: true }) title: string | null,
    @Arg('category', () => String, { nullable: true }) category: string | null,
    @Ctx() ctx: Context,
  ): Promise<UploadedProductImage> {
    const added = await this.catalog.addImage(
      ctx.principal.merchantId,
      { externalId, mode: uploadModeOf[mode], title, category },
      await this.read(image, 'image'),
    );
    return {
      product: toProduct(added.product),
      image: toProductImage(added.image, ctx.baseUrl),
      createdProduct: added.createdProduct,
    };
  }

  @Authorized(ApiScope.CATALOG_WRITE)
  @Mutation(() => Boolean)
  removeProductImage(@Arg('id', () => ID) id: string, @Ctx() ctx: Context): Promise<boolean> {
    return this.catalog.removeImage(ctx.principal.merchantId, id);
  }
}
