import { ArgsType, Field, Float, ID, Int } from 'type-graphql';
import { ProductFilter } from '../inputs/product.input.js';
import { ImageRegion } from '../inputs/search.input.js';
import { Relevance, SimilarityMetric } from '../types/enums.js';

@ArgsType()
export class SimilarProductsArgs {
  @Field(() => Int, {
    nullable: true,
    description: "At most 100; default: the merchant's topK (10).",
  })
  first?: number | null;

  @Field(() => SimilarityMetric, { nullable: true, description: "Default: the merchant's metric." })
  metric?: SimilarityMetric | null;

  @Field(() => Float, {
    nullable: true,
    description: "On the metric's scale; default: the merchant's search threshold.",
  })
  threshold?: number | null;

  @Field(() => ProductFilter, { nullable: true })
  filter?: ProductFilter | null;

  @Field(() => ImageRegion, {
    nullable: true,
    description: 'Search only this part of the uploaded photo.',
  })
  region?: ImageRegion | null;

  @Field(() => Boolean, {
    nullable: true,
    defaultValue: true,
    description:
      'Detect the products in the photo and search the main one (the highest score), or the whole photo when none is found; with region, the region is searched. false: no detection (the whole photo or the region is searched; objects is []).',
  })
  detect?: boolean | null;

  @Field(() => [ID], {
    nullable: true,
    description:
      'More like these products (at most 20): their stored vectors averaged; they are left out of the results. Instead of image.',
  })
  productIds?: string[] | null;

  @Field(() => ID, {
    nullable: true,
    description: 'More like this stored image (its own product included). Instead of image.',
  })
  imageId?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'A photo at this http(s) URL, fetched by the server (public addresses only, redirects and size limited). Instead of image.',
  })
  imageUrl?: string | null;
}

@ArgsType()
export class MatchImagesArgs {
  @Field(() => SimilarityMetric, { nullable: true })
  metric?: SimilarityMetric | null;

  @Field(() => Float, { nullable: true, description: "Default: the merchant's match threshold." })
  threshold?: number | null;

  @Field(() => Boolean, {
    nullable: true,
    defaultValue: true,
    description:
      'Compare the main detected product of each image (boxA, boxB say which part); false, or no product found: the whole images.',
  })
  detect?: boolean | null;
}

@ArgsType()
export class ProductsArgs {
  @Field(() => Int, { nullable: true, description: 'At most 100; default 20.' })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => ProductFilter, { nullable: true })
  filter?: ProductFilter | null;
}

@ArgsType()
export class StartCatalogEvaluationArgs {
  @Field(() => String, {
    nullable: true,
    description: 'Default: the serving model; a kept model can be measured before switching.',
  })
  model?: string | null;

  @Field(() => [SimilarityMetric], {
    nullable: true,
    description:
      "Metrics to measure on the same sample (default: the merchant's metric for the model); at most both.",
  })
  metrics?: SimilarityMetric[] | null;

  @Field(() => Relevance, { nullable: true, defaultValue: Relevance.PRODUCT })
  relevance?: Relevance | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Query images to sample (default 200, at most 2000).',
  })
  sampleSize?: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Neighbours fetched per query (default 50, at most 200).',
  })
  depth?: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'For the target-precision recommendation (default 0.9).',
  })
  targetPrecision?: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Sampling seed, for reproducible runs (default 1).',
  })
  seed?: number | null;
}

@ArgsType()
export class IdArgs {
  @Field(() => ID)
  id!: string;
}
