import { MAX_OBJECT_SEARCHES } from '@lookalike/core';
import { Field, Float, Int, ObjectType } from 'type-graphql';
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

@ObjectType({
  description: 'A box in the uploaded image, in pixels of the image as displayed (EXIF-rotated).',
})
export class ImageBox {
  @Field(() => Int)
  x!: number;

  @Field(() => Int)
  y!: number;

  @Field(() => Int)
  width!: number;

  @Field(() => Int)
  height!: number;
}

@ObjectType({ description: 'A product the detector found in the photo.' })
export class DetectedProduct {
  @Field(() => ImageBox, { description: 'The detected box (tight, as the detector gives it).' })
  box!: ImageBox;

  @Field(() => Float, { description: "The detector's confidence, in [0, 1]." })
  score!: number;

  @Field(() => String, {
    nullable: true,
    description: "The detector's category for the product (e.g. Ankle boot); null: none.",
  })
  category!: string | null;
}

@ObjectType({ description: 'A product detected in the photo, and the products it looks like.' })
export class DetectedProductHits extends DetectedProduct {
  @Field(() => [SimilarProduct], {
    description: 'Nearest first; one per product; at most `first`, with the same arguments.',
  })
  hits!: SimilarProduct[];
}

@ObjectType({ description: "Where the main search's time went, ms." })
export class SearchTimings {
  @Field(() => Float, { description: 'Product detection (0: it did not run).' })
  detectMs!: number;

  @Field(() => Float, { description: 'Embedding what was searched (0: a stored vector).' })
  embedMs!: number;

  @Field(() => Float, { description: 'The nearest-products query.' })
  searchMs!: number;
}

@ObjectType()
export class Detection {
  @Field(() => Int, { description: 'The image as displayed (EXIF-rotated), pixels.' })
  width!: number;

  @Field(() => Int)
  height!: number;

  @Field(() => String, { description: 'The detector that answered, e.g. product-detector-v1.' })
  model!: string;

  @Field(() => [DetectedProduct], { description: 'Highest score first.' })
  objects!: DetectedProduct[];

  @Field(() => Float, { description: 'Server time, ms.' })
  tookMs!: number;
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

  @Field(() => Float, {
    description: 'Server time for the whole search (detection and objects included), ms.',
  })
  tookMs!: number;

  @Field(() => SearchTimings)
  timings!: SearchTimings;

  @Field(() => ImageBox, {
    nullable: true,
    description:
      'The part of the photo that was searched: the main detected product with a 6% margin, the region (clamped), or the whole image. Null when the search starts from productIds or imageId.',
  })
  searchedBox!: ImageBox | null;

  @Field(() => DetectedProduct, {
    nullable: true,
    description:
      'The detected product that was searched (the highest score); null when the whole photo or a region was.',
  })
  searchedDetection!: DetectedProduct | null;

  @Field(() => [DetectedProductHits], {
    description: `Every product detected in the photo (at most ${MAX_OBJECT_SEARCHES}, highest score first), each with its own nearest products. Computed only when selected; [] without a photo, with detect: false, or without a detector.`,
    complexity: ({ childComplexity }) => MAX_OBJECT_SEARCHES * (2 + childComplexity),
  })
  objects!: DetectedProductHits[];
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

  @Field(() => ImageBox, {
    nullable: true,
    description:
      "The part of image a compared: its main product's box (grown by a margin); null: the whole image.",
  })
  boxA!: ImageBox | null;

  @Field(() => ImageBox, {
    nullable: true,
    description:
      "The part of image b compared: its main product's box (grown by a margin); null: the whole image.",
  })
  boxB!: ImageBox | null;
}
