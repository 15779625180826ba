import { Field, Float, ObjectType } from 'type-graphql';
import { MatchVerdict, SimilarityMetric } from './enums.js';
import { Product, ProductImage } from './product.type.js';

@ObjectType()
export class SimilarProduct {
  @Field(() => Product)
  product!: Product;

  @Field(() => ProductImage, { description: "The product's image closest to the query." })
  image!: ProductImage;

  @Field(() => Float)
  score!: number;

  @Field(() => Float)
  distance!: number;

  @Field(() => MatchVerdict)
  verdict!: MatchVerdict;
}

@ObjectType()
export class SimilarProductsResult {
  @Field(() => [SimilarProduct], {
    description: 'Nearest first; one per product (its best image).',
  })
  hits!: SimilarProduct[];

  @Field(() => SimilarityMetric)
  metric!: SimilarityMetric;

  @Field(() => Float, { nullable: true, description: 'The search threshold applied (null: none).' })
  threshold!: number | null;

  @Field(() => Float, { nullable: true, description: 'The match threshold behind MATCH verdicts.' })
  matchThreshold!: number | null;

  @Field(() => String, {
    description:
      "The embedding model that answered (the merchant's serving model), e.g. fashion-resnet-v1.",
  })
  model!: string;

  @Field(() => Float, { description: 'Server time for the whole search, ms.' })
  tookMs!: number;
}

@ObjectType()
export class ImageMatch {
  @Field(() => Float)
  score!: number;

  @Field(() => Float)
  distance!: number;

  @Field(() => Boolean, { description: 'Passes the match threshold: the same product.' })
  isMatch!: boolean;

  @Field(() => MatchVerdict, { nullable: true, description: 'Null: not even similar.' })
  verdict!: MatchVerdict | null;

  @Field(() => SimilarityMetric)
  metric!: SimilarityMetric;

  @Field(() => Float)
  threshold!: number;

  @Field(() => String, { description: 'The embedding model that compared the two images.' })
  model!: string;
}
