import { GraphQLJSON } from 'graphql-scalars';
import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { ImageStatus } from './enums.js';

@ObjectType({
  description: 'A stored catalog image. Its URL is content-addressed and can be cached forever.',
})
export class ProductImage {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  productId!: string;

  @Field(() => String, { description: 'SHA-256 of the bytes, hex.' })
  sha256!: string;

  @Field(() => String)
  mime!: string;

  @Field(() => Int)
  width!: number;

  @Field(() => Int)
  height!: number;

  @Field(() => Int)
  byteSize!: number;

  @Field(() => ImageStatus)
  status!: ImageStatus;

  @Field(() => String, {
    description: 'Served by this API: GET /images/<sha256> (add ?w=128 for a thumbnail).',
  })
  url!: string;

  @Field(() => Date)
  createdAt!: Date;
}

@ObjectType()
export class Product {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: "The merchant's own id (SKU); unique per merchant." })
  externalId!: string;

  @Field(() => String)
  title!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => String, { nullable: true })
  category!: string | null;

  @Field(() => GraphQLJSON, { description: 'A JSON object of labels, e.g. {"color": "red"}.' })
  labels!: Record<string, unknown>;

  @Field(() => Float, { nullable: true })
  price!: number | null;

  @Field(() => String, { nullable: true, description: 'ISO 4217 code.' })
  currency!: string | null;

  @Field(() => String, { nullable: true })
  url!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;
}

@ObjectType({ description: 'A category of the catalog and how many products it has.' })
export class CategoryCount {
  @Field(() => String)
  category!: string;

  @Field(() => Int)
  count!: number;
}

@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType()
export class ProductEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => Product)
  node!: Product;
}

@ObjectType({ description: 'Relay connection of products, newest first.' })
export class ProductConnection {
  @Field(() => [ProductEdge])
  edges!: ProductEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'Products matching the filter, all pages.' })
  totalCount!: number;
}

@ObjectType({ description: 'An uploaded image and the product it went to.' })
export class UploadedProductImage {
  @Field(() => Product)
  product!: Product;

  @Field(() => ProductImage)
  image!: ProductImage;

  @Field(() => Boolean, { description: 'True when this upload created the product.' })
  createdProduct!: boolean;
}
